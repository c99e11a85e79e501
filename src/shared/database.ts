// Database connection: Mongoose on MONGODB_URI, or on the embedded engine started in-process over loopback.
import path from 'node:path';
import { MongoBulkWriteError, type WriteConcernSettings } from 'mongodb';
import mongoose from 'mongoose';
import { startEngine, startEngineThread, type RunningEngine } from '../engine';
import type { Logger } from './logger';

export interface Database {
  uri: string;
  /** Where the embedded engine keeps its files; null with MONGODB_URI. */
  dataDir: string | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  uri: string | null;
  dataDir: string | null;
  logger: Logger;
  /**
   * Runs the embedded engine on its own thread (the server does), so that queries and disk syncs never hold up
   * HTTP handling; otherwise in this thread (one-shot commands).
   */
  engineThread?: boolean;
  /** Called if the engine's thread dies; the server stops then. */
  onEngineExit?: (reason: string) => void;
}

/** Connects the default Mongoose connection; starts the embedded engine first when there is no URI. */
export async function connectDatabase(options: DatabaseOptions): Promise<Database> {
  let engine: RunningEngine | null = null;
  let uri = options.uri;
  let dataDir: string | null = null;
  if (!uri) {
    dataDir = options.dataDir === null ? null : path.resolve(options.dataDir);
    const logger = options.logger.child({ component: 'engine' });
    engine = options.engineThread
      ? await startEngineThread({ dataDir, logger, ...(options.onEngineExit ? { onUnexpectedExit: options.onEngineExit } : {}) })
      : await startEngine({ dataDir, logger });
    uri = `${engine.uri.replace(/\/?\?.*$/, '')}/thuocdo?directConnection=true`;
  }
  mongoose.set('strictQuery', true);
  try {
    await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: true });
    await mongoose.connection.syncIndexes();
  } catch (error) {
    await engine?.close();
    throw error;
  }
  return {
    uri,
    dataDir,
    async close() {
      await mongoose.disconnect();
      await engine?.close();
    },
  };
}

/** True when the database answers a ping within the timeout. */
export async function databaseIsReady(timeoutMs = 2000): Promise<boolean> {
  const db = mongoose.connection.db;
  if (mongoose.connection.readyState !== 1 || !db) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ping = db.admin().ping().then(() => true).catch(() => false);
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For writes that need not wait for the journal: a later write of the same task waits for it, which covers them (a
 * journal is flushed in order), or losing them in a crash is harmless or repaired (rate-limit counts; 'applied'
 * marks, which reconciliation recomputes). A standalone mongod's default; the embedded engine waits for the journal
 * unless a write asks for this.
 */
export const NO_JOURNAL_WAIT: { writeConcern: WriteConcernSettings } = { writeConcern: { w: 1, j: false } };

/**
 * For the write whose acknowledgement makes a vote count (the roll-up increment): acknowledged by a majority, which
 * on a standalone mongod means journaled too (its w:1 default would not wait for the journal) and is a replica
 * set's default. A journal is flushed in order, so the earlier writes of the same vote are durable with it.
 */
export const DURABLE: { writeConcern: WriteConcernSettings } = { writeConcern: { w: 'majority' } };

const DUPLICATE_KEY = 11000;

/** True for MongoDB's duplicate key error (E11000), whether thrown by a write or listed among a bulk write's errors. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The per-operation errors of a failed unordered bulk write or insertMany, by operation index. Anything else (a
 * lost connection) is rethrown: the outcome of every operation is then unknown.
 */
export function bulkWriteErrors(error: unknown): Map<number, { code: number; message: string }> {
  if (!(error instanceof MongoBulkWriteError)) throw error;
  const listed = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  if (listed.length === 0) throw error;
  return new Map(listed.map((writeError) => [writeError.index, { code: writeError.code, message: writeError.errmsg ?? 'write failed' }]));
}
