// The vote writer on its own thread with its own connection: batching, BSON and round trips never hold up HTTP.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Types } from 'mongoose';
import type { Config } from '../config';
import { AppError, type FieldErrors } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { notSavedYet, type VoteOutcome, type VoteSink, type VoteToWrite } from './vote-writer';

/** Votes per message to the thread, at most: the rest of a turn of the event loop follows in the next message. */
const MESSAGE_VOTES = 16;

/** What the thread is started with. */
export interface VoteThreadData {
  uri: string;
  settings: Config['feedback'];
  deadlineMs?: number;
}

/** A vote as it crosses to the thread: its ids as hex strings (an ObjectId does not survive structured cloning). */
export type WireVote = {
  feedback: Omit<VoteToWrite['feedback'], '_id' | 'counterId' | 'officeId'> & { _id: string; counterId: string; officeId: string };
  charge: VoteToWrite['charge'];
};

/** An error as it crosses back: an AppError (refused, not saved in time) keeps its answer; anything else its message. */
export type WireError =
  | { app: { status: number; code: string; messageKey: string; params: Record<string, string | number>; fields?: FieldErrors; headers: Record<string, string> } }
  | { message: string };

export type ToVoteThread =
  | { type: 'votes'; votes: Array<{ id: number; vote: WireVote }> }
  | { type: 'drain'; id: number }
  | { type: 'close' };

export type FromVoteThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'outcomes'; outcomes: Array<{ id: number; outcome: VoteOutcome } | { id: number; error: WireError }> }
  | { type: 'drained'; id: number }
  | { type: 'log'; message: string; err: string };

export function toWireVote({ feedback, charge }: VoteToWrite): WireVote {
  return { feedback: { ...feedback, _id: feedback._id.toHexString(), counterId: feedback.counterId.toHexString(), officeId: feedback.officeId.toHexString() }, charge };
}

export function fromWireVote({ feedback, charge }: WireVote): VoteToWrite {
  return {
    feedback: { ...feedback, _id: new Types.ObjectId(feedback._id), counterId: new Types.ObjectId(feedback.counterId), officeId: new Types.ObjectId(feedback.officeId) },
    charge,
  };
}

export function toWireError(error: unknown): WireError {
  if (error instanceof AppError) {
    const { status, code, messageKey, params, fields, headers } = error;
    return { app: { status, code, messageKey, params, headers, ...(fields ? { fields } : {}) } };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

export function fromWireError(wire: WireError): Error {
  if ('message' in wire) return new Error(wire.message);
  const { status, code, messageKey, params, fields, headers } = wire.app;
  return new AppError(status, code, messageKey, params, fields, headers);
}

export interface VoteThreadOptions extends VoteThreadData {
  logger: Logger;
  /** Called if the thread stops without being asked; the votes it held are answered 503 ("send it again"). */
  onUnexpectedExit?: (reason: string) => void;
}

export interface VoteThread extends VoteSink {
  /** Resolves once every vote handed to the thread so far is written, 'applied' marks included. */
  drained(): Promise<void>;
  /** Waits for the votes handed to the thread, then closes its connection and ends it. */
  close(): Promise<void>;
}

/** The worker's entry: the compiled file next to this one, or the TypeScript source through tsx (dev, bench, tests). */
function spawnWorker(data: VoteThreadData): Worker {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `vote-thread.worker${extension}`);
  if (extension === '.js') return new Worker(entry, { workerData: data });
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: data });
}

/** Starts the vote thread on the database at `uri`; resolves once it is connected. */
export function startVoteThread(options: VoteThreadOptions): Promise<VoteThread> {
  const { logger, onUnexpectedExit, ...data } = options;
  const worker = spawnWorker(data);
  const waiting = new Map<number, { resolve: (outcome: VoteOutcome) => void; reject: (error: Error) => void }>();
  const drains = new Map<number, () => void>();
  let outbox: Array<{ id: number; vote: WireVote }> = [];
  let nextId = 0;
  let flushScheduled = false;
  let closing: Promise<void> | null = null;
  let exited = false;

  /** Sends the votes waiting to go (those of this turn of the event loop, up to a full message). */
  function flush(): void {
    flushScheduled = false;
    if (outbox.length === 0) return;
    const votes = outbox;
    outbox = [];
    worker.postMessage({ type: 'votes', votes } satisfies ToVoteThread);
  }

  function write(vote: VoteToWrite): Promise<VoteOutcome> {
    if (closing || exited) return Promise.reject(notSavedYet());
    const id = nextId++;
    return new Promise<VoteOutcome>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      outbox.push({ id, vote: toWireVote(vote) });
      // A full message goes at once: the thread starts writing while this one reads the requests still waiting.
      if (outbox.length >= MESSAGE_VOTES) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
  }

  function drained(): Promise<void> {
    if (exited) return Promise.resolve();
    flush();
    const id = nextId++;
    return new Promise<void>((resolve) => {
      drains.set(id, resolve);
      worker.postMessage({ type: 'drain', id } satisfies ToVoteThread);
    });
  }

  /** The thread is gone: what it held may or may not be stored, and a retry with the same key settles which. */
  function abandon(): void {
    for (const { reject } of waiting.values()) reject(notSavedYet());
    waiting.clear();
    for (const wake of drains.values()) wake();
    drains.clear();
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      if (exited) return;
      const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      await drained();
      worker.postMessage({ type: 'close' } satisfies ToVoteThread);
      await exit;
    })();
    return closing;
  }

  return new Promise<VoteThread>((resolve, reject) => {
    let started = false;
    worker.on('message', (message: FromVoteThread) => {
      if (message.type === 'outcomes') {
        for (const answer of message.outcomes) {
          const settled = waiting.get(answer.id);
          if (!settled) continue;
          waiting.delete(answer.id);
          if ('outcome' in answer) settled.resolve(answer.outcome);
          else settled.reject(fromWireError(answer.error));
        }
      } else if (message.type === 'drained') {
        drains.get(message.id)?.();
        drains.delete(message.id);
      } else if (message.type === 'log') logger.warn({ err: message.err, component: 'vote-thread' }, message.message);
      else if (message.type === 'failed') reject(new Error(`vote thread: ${message.message}`));
      else if (message.type === 'ready') {
        started = true;
        resolve({ write, drained, close });
      }
    });
    worker.on('error', (error) => {
      if (!started) reject(error);
      else logger.error({ err: error.message }, 'vote thread failed');
    });
    worker.on('exit', (code) => {
      exited = true;
      abandon();
      if (!started) reject(new Error(`vote thread exited with code ${code} before it connected`));
      else if (!closing) onUnexpectedExit?.(`vote thread exited with code ${code}`);
    });
  });
}
