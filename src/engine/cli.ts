// Standalone engine: `npm run db -- --port <port> --data-dir <dir>`; serves until SIGINT/SIGTERM.
import { startEngine, type EngineLogger } from './index';

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const prefixed = args.find((a) => a.startsWith(`${name}=`));
  return prefixed?.slice(name.length + 1);
}

function stderrLogger(): EngineLogger {
  const write = (level: string) => (o: object, m?: string): void => {
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: m, ...o })}\n`);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portArg = argValue(args, '--port');
  const port = portArg === undefined ? 27017 : Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${String(portArg)}`);
  const dataDir = argValue(args, '--data-dir') ?? process.env.DATA_DIR ?? './data';
  const inMemory = args.includes('--in-memory');
  const engine = await startEngine({
    port,
    dataDir: inMemory ? null : dataDir,
    logger: stderrLogger(),
    // The engine stopped itself after a failed journal write: exit non-zero so a supervisor restarts it.
    onHalt: () => process.exit(1),
  });
  process.stdout.write(`listening on ${engine.host}:${engine.port}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    engine.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`close failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`engine failed to start: ${error.message}\n`);
  process.exit(1);
});
