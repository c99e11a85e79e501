// The engine's worker thread: starts the engine, forwards its log lines, closes it when asked.
import { parentPort, workerData } from 'node:worker_threads';
import { startEngine, type EngineLogger } from '../index';
import type { FromEngine, ThreadOptions, ToEngine } from './messages';

function send(message: FromEngine): void {
  parentPort?.postMessage(message);
}

/** Log fields are plain data in the engine; anything that cannot be cloned is sent as text. */
function logTo(level: 'info' | 'warn' | 'error') {
  return (fields: object, message?: string) => {
    try {
      send({ type: 'log', level, fields, message });
    } catch {
      send({ type: 'log', level, fields: { fields: String(fields) }, message });
    }
  };
}

const logger: EngineLogger = { info: logTo('info'), warn: logTo('warn'), error: logTo('error') };

async function main(): Promise<void> {
  // A halt (failed journal write) ends the thread with code 1; the app is told through the thread's exit.
  const engine = await startEngine({ ...(workerData as ThreadOptions), logger, onHalt: () => process.exit(1) });
  parentPort?.on('message', (message: ToEngine) => {
    if (message.type !== 'close') return;
    // The thread ends once the engine has flushed and closed (the app waits for that exit).
    engine
      .close()
      .catch((error: unknown) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'engine did not close cleanly'))
      .finally(() => parentPort?.close());
  });
  send({ type: 'ready', host: engine.host, port: engine.port, uri: engine.uri });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  parentPort?.close();
});
