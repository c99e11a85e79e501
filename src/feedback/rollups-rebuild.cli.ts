// `npm run rollups:rebuild`: recomputes every daily roll-up from raw feedback, prints each difference, and fixes it.
import { loadConfig } from '../config';
import { connectDatabase } from '../shared/database';
import { createLogger } from '../shared/logger';
import { rebuildRollups } from './rollup.service';

const MAX_LINES = 500;
/** Feedback still 'pending' after this long belongs to a request that died; younger ones may still be applying. */
const PENDING_OLDER_THAN_MS = 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = await connectDatabase({ uri: config.database.uri, dataDir: config.database.dataDir, logger });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const started = Date.now();
    const result = await rebuildRollups({ fix: true, pendingOlderThanMs: PENDING_OLDER_THAN_MS });
    const { reconcile } = result;
    out(`Roll-ups compared: ${result.compared} counter-days`);
    if (reconcile.counterDays > 0) {
      out(`Interrupted votes ('pending'): ${reconcile.counterDays} counter-days, ${reconcile.reconciled} recomputed, ${reconcile.feedbackMarked} feedback marked applied, ${reconcile.deferred} deferred`);
    }
    if (result.differences.length === 0) {
      out('No differences: every stored roll-up equals its recomputation from raw feedback.');
    } else {
      out(`Differences: ${result.differences.length}`);
      out(['counter', 'day', 'field', 'stored', 'recomputed'].join('\t'));
      for (const d of result.differences.slice(0, MAX_LINES)) out([d.counterId, d.day, d.field, d.stored, d.recomputed].join('\t'));
      if (result.differences.length > MAX_LINES) out(`... and ${result.differences.length - MAX_LINES} more`);
      out(`Fixed: ${result.fixed} counter-days${result.deferred > 0 ? `, deferred (votes still being applied): ${result.deferred}; run again` : ''}`);
    }
    out(`Done in ${Date.now() - started} ms.`);
  } finally {
    await database.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`rollups:rebuild failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
