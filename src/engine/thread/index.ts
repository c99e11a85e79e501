// The engine on its own thread: queries and fsyncs never hold up the app's event loop, as with a separate mongod.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineLogger, EngineOptions, RunningEngine } from '../index';
import type { FromEngine, ThreadOptions, ToEngine } from './messages';

export interface EngineThreadOptions extends Omit<EngineOptions, 'onHalt'> {
  /** Called when the thread stops without being asked (a crash, or a halt after a failed journal write). */
  onUnexpectedExit?: (reason: string) => void;
}

const silentLogger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** The worker's entry: the compiled file next to this one, or the TypeScript source through tsx (dev, bench). */
function spawnWorker(options: ThreadOptions): Worker {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `worker${extension}`);
  if (extension === '.js') return new Worker(entry, { workerData: options });
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: options });
}

/** Starts the engine in a worker thread; resolves once it listens. */
export function startEngineThread(options: EngineThreadOptions = {}): Promise<RunningEngine> {
  const { logger = silentLogger, onUnexpectedExit, ...threadOptions } = options;
  const worker = spawnWorker(threadOptions);
  let closing: Promise<void> | null = null;
  let exited = false;

  return new Promise<RunningEngine>((resolve, reject) => {
    let started = false;
    worker.on('message', (message: FromEngine) => {
      if (message.type === 'log') logger[message.level](message.fields, message.message);
      else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'ready') {
        started = true;
        resolve({ host: message.host, port: message.port, uri: message.uri, close });
      }
    });
    worker.on('error', (error) => {
      if (!started) reject(error);
      else logger.error({ err: error.message }, 'engine thread failed');
    });
    worker.on('exit', (code) => {
      exited = true;
      if (!started) reject(new Error(`engine thread exited with code ${code} before it listened`));
      else if (!closing) onUnexpectedExit?.(`engine thread exited with code ${code}`);
    });
  });

  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      if (exited) return resolve();
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToEngine);
    });
    return closing;
  }
}
