// The embedded MongoDB-compatible engine: starts a wire-protocol server over a catalog kept durable by storage.
import type { Document } from 'bson';
import { Catalog, type JournalRecord } from './catalog/catalog';
import { CursorStore } from './catalog/cursors';
import { findMatches } from './catalog/planner';
import { SessionRegistry } from './catalog/sessions';
import type { EngineLogger } from './commands';
import { MAX_MESSAGE_SIZE_BYTES } from './commands/admin';
import { WireServer } from './server/server';
import { openStorage, type StoredRecord } from './storage';

export type { EngineLogger } from './commands';
export { startEngineThread, type EngineThreadOptions } from './thread';

export interface EngineOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /** Data directory; null or absent = in-memory. */
  dataDir?: string | null;
  logger?: EngineLogger;
  /** How often expired TTL documents are removed; default 60000 ms. */
  ttlIntervalMs?: number;
  /** Largest accepted wire message; default 48,000,000 bytes. */
  maxMessageBytes?: number;
  /** Journal bytes after which storage writes a snapshot and compacts; default: the storage layer's (64 MiB). */
  compactAfterBytes?: number;
}

export interface RunningEngine {
  host: string;
  port: number;
  /** mongodb://127.0.0.1:PORT/?directConnection=true */
  uri: string;
  /** Stops accepting, closes sockets, flushes and closes storage. */
  close(): Promise<void>;
}

const silentLogger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Removes documents whose TTL index date is older than expireAfterSeconds; returns the journal records. */
export function reapExpired(catalog: Catalog, now = Date.now()): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const coll of catalog.allCollections()) {
    for (const index of [...coll.indexes.values()]) {
      const ttl = index.expireAfterSeconds;
      if (ttl === undefined || index.fields.length !== 1) continue;
      const cutoff = new Date(now - ttl * 1000);
      const condition: Document = { [index.fields[0].path]: { $lt: cutoff } };
      const filter = index.spec.partialFilterExpression ? { $and: [index.spec.partialFilterExpression, condition] } : condition;
      for (const rec of findMatches(coll, filter).recs) {
        coll.remove(rec);
        records.push({ t: 'delete', ns: coll.ns, id: rec.doc._id });
      }
    }
  }
  return records;
}

/** Starts the engine: recovers the data directory (if any) and listens on loopback. */
export async function startEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const catalog = new Catalog();
  const cursors = new CursorStore();
  const storage = await openStorage({
    dir: options.dataDir ?? null,
    snapshotSource: () => catalog.snapshot() as Iterable<StoredRecord>,
    compactAfterBytes: options.compactAfterBytes,
    logger,
  });
  const recovered = storage.recover();
  let replayed = 0;
  for (const source of [recovered.snapshot, recovered.journal]) {
    for (const record of source) {
      try {
        catalog.apply(record as unknown as JournalRecord);
        replayed++;
      } catch (error) {
        logger.error({ err: (error as Error).message, record: String((record as { t?: unknown }).t) }, 'could not replay a journal record');
      }
    }
  }
  if (replayed > 0) logger.info({ records: replayed }, 'recovered data directory');

  // Concurrency model: commands run one at a time on this thread. A write changes the catalog and calls append()
  // in the same synchronous step, then awaits the fsync before replying. Another connection may therefore read a
  // write a few milliseconds before it is acknowledged (as MongoDB does with w:1 and the default read concern), but
  // every acknowledged write is on disk, and appends reach the journal in the order the catalog changed.
  const commit = (records: JournalRecord[]): Promise<void> =>
    records.length === 0 ? Promise.resolve() : storage.append(records as unknown as StoredRecord[]);

  const server = new WireServer({
    catalog,
    cursors,
    sessions: new SessionRegistry(),
    logger,
    maxMessageBytes: options.maxMessageBytes ?? MAX_MESSAGE_SIZE_BYTES,
    commit,
  });
  let bound: { host: string; port: number };
  try {
    bound = await server.listen(host, options.port ?? 0);
  } catch (error) {
    await storage.close();
    throw error;
  }

  const ttlTimer = setInterval(() => {
    try {
      const records = reapExpired(catalog);
      if (records.length > 0) {
        commit(records).catch((error: Error) => logger.error({ err: error.message }, 'TTL deletions could not be journaled'));
        logger.info({ deleted: records.length }, 'TTL monitor removed expired documents');
      }
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'TTL monitor failed');
    }
  }, options.ttlIntervalMs ?? 60_000);
  ttlTimer.unref();
  const cursorTimer = setInterval(() => cursors.reapIdle(), 60_000);
  cursorTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    host: bound.host,
    port: bound.port,
    uri: `mongodb://${bound.host}:${bound.port}/?directConnection=true`,
    close: () => {
      closing ??= (async () => {
        clearInterval(ttlTimer);
        clearInterval(cursorTimer);
        await server.close();
        cursors.clear();
        await storage.close();
      })();
      return closing;
    },
  };
}
