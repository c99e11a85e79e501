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
  /**
   * Called once the engine has stopped itself because a journal write failed (a full or failing disk). Like mongod,
   * it then serves nothing more: the change that could not be journaled stays in memory only, and no client may
   * read it. Restarting recovers the journal as it is on disk.
   */
  onHalt?: (error: Error) => void;
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
  // every acknowledged write is on disk (except those sent with `j: false`, answered once applied), and appends reach
  // the journal in the order the catalog changed.
  let halted = false;
  const commit = (records: JournalRecord[]): Promise<void> =>
    records.length === 0
      ? Promise.resolve()
      : storage.append(records as unknown as StoredRecord[]).catch((error: unknown) => {
          halt(error instanceof Error ? error : new Error(String(error)));
          throw error;
        });

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
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(ttlTimer);
      clearInterval(cursorTimer);
      await server.close();
      cursors.clear();
      await storage.close();
    })();
    return closing;
  };

  /** Fail-stop: every connection is dropped at once (before any other command can read the unjournaled change). */
  function halt(error: Error): void {
    if (halted) return;
    halted = true;
    logger.error({ err: error.message }, 'journal write failed: the engine stops serving; restart it to recover from the journal');
    close().then(
      () => options.onHalt?.(error),
      (closeError: unknown) => {
        logger.error({ err: closeError instanceof Error ? closeError.message : String(closeError) }, 'engine did not close cleanly after the failure');
        options.onHalt?.(error);
      },
    );
  }

  return {
    host: bound.host,
    port: bound.port,
    uri: `mongodb://${bound.host}:${bound.port}/?directConnection=true`,
    close,
  };
}
