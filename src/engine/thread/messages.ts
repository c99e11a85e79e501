// The messages between the app's thread and the engine's worker thread.
import type { EngineOptions } from '../index';

/** What the worker is started with (the logger stays on the app's side; log lines travel as messages). */
export type ThreadOptions = Omit<EngineOptions, 'logger' | 'onHalt'>;

export type FromEngine =
  | { type: 'ready'; host: string; port: number; uri: string }
  | { type: 'failed'; message: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; fields: object; message?: string };

export type ToEngine = { type: 'close' };
