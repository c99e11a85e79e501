// The only file with side effects: config, database (MONGODB_URI or embedded), demo data, listen, graceful shutdown.
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { connectDatabase } from './shared/database';
import { createLogger, type Logger } from './shared/logger';
import { seedDemo, describeDemoAccounts } from './demo';
import { reconcilePendingRollups, startVoteThread, whenVotesWritten } from './feedback';

/** Votes whose roll-up update has not landed after this long are from an interrupted process. */
const ROLLUP_GRACE_MS = 60_000;
const ROLLUP_REPAIR_INTERVAL_MS = 5 * 60_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every setting.\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger: Logger = createLogger(config.logLevel);
  const database = await connectDatabase({
    uri: config.database.uri,
    dataDir: config.database.dataDir,
    logger,
    engineThread: true,
    onEngineExit: (reason) => {
      logger.fatal({ reason }, 'the embedded database stopped; exiting');
      process.exit(1);
    },
  });
  if (config.demo.enabled) await seedDemo({ config, logger });
  const reconcile = async () => {
    const result = await reconcilePendingRollups(ROLLUP_GRACE_MS);
    if (result.counterDays > 0) logger.warn(result, 'roll-ups repaired after an interrupted vote');
  };
  await reconcile();
  const reconcileTimer = setInterval(() => reconcile().catch((err: unknown) => logger.error({ err }, 'roll-up repair failed')), ROLLUP_REPAIR_INTERVAL_MS);
  reconcileTimer.unref();

  // Votes are written on their own thread, so that batching them never holds up HTTP handling.
  const votes = await startVoteThread({
    uri: database.uri,
    settings: config.feedback,
    logger,
    onUnexpectedExit: (reason) => {
      logger.fatal({ reason }, 'the vote writer stopped; exiting');
      process.exit(1);
    },
  });
  const app = createApp({ config, logger, votes });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  process.stdout.write(
    [
      `Thước Đo is listening on ${url}`,
      `Public base URL: ${config.publicBaseUrl}`,
      `Database: ${database.dataDir ? `embedded engine, data directory ${database.dataDir}` : config.database.uri ? 'MongoDB (MONGODB_URI)' : 'embedded engine in memory'}`,
      ...(config.demo.enabled ? describeDemoAccounts(config) : []),
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(reconcileTimer);
    const forceTimer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutSeconds * 1000);
    forceTimer.unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    // Votes are answered before their 'applied' marks are written: let those finish.
    await whenVotesWritten();
    await votes.close();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Thước Đo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
