// On-disk storage: group-committed journal generations, snapshots with compaction, recovery at open.
import fs from 'node:fs';
import path from 'node:path';
import { JOURNAL_MAGIC, MAX_FRAME_PAYLOAD, encodeFrame, encodeWrite } from './frame';
import { journalEntries, scanJournal, type JournalScan } from './journal';
import { acquireLock } from './lock';
import { readSnapshot, verifySnapshot, writeSnapshotSync } from './snapshot';
import {
  StorageError,
  type Recovered,
  type Storage,
  type StorageLogger,
  type StorageOptions,
  type StorageStats,
  type StoredRecord,
} from './types';

const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;
/** Upper bound of one group-commit frame; a larger backlog is written as several frames. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const SNAPSHOT_NAME = /^snapshot-(\d+)\.bson$/;
const JOURNAL_NAME = /^journal-(\d+)\.log$/;

const silentLogger: StorageLogger = { info() {}, warn() {}, error() {} };

export function snapshotName(gen: number): string {
  return `snapshot-${String(gen).padStart(10, '0')}.bson`;
}

export function journalName(gen: number): string {
  return `journal-${String(gen).padStart(10, '0')}.log`;
}

interface Journal {
  gen: number;
  file: string;
  fd: number;
  /** Bytes durably written (the next frame goes here). */
  size: number;
  /** Appends queued for this journal and not yet settled. */
  pending: number;
  idleWaiters: Array<() => void>;
  /** A new file's directory entry must be fsync'd before its first write is acknowledged. */
  needsDirSync: boolean;
}

interface QueuedWrite {
  bytes: Uint8Array;
  journal: Journal;
  resolve: () => void;
  reject: (err: Error) => void;
}

function writeAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, offset, length, position, (err, written) => (err ? reject(err) : resolve(written)));
  });
}

async function writeFully(fd: number, buf: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buf.length) {
    written += await writeAt(fd, buf, written, buf.length - written, position + written);
  }
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Errors from platforms that cannot fsync a directory (Windows); there the rename itself is what we get. */
function unsupportedDirSync(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL';
}

function fsyncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (!unsupportedDirSync(err)) throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (!unsupportedDirSync(err)) throw err;
  }
}

function generations(names: readonly string[], pattern: RegExp): number[] {
  const gens: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) gens.push(Number.parseInt(match[1], 10));
  }
  return gens.sort((a, b) => a - b);
}

export class DiskStorage implements Storage {
  private current: Journal;
  private readonly queue: QueuedWrite[] = [];
  private flushing = false;
  private drainWaiters: Array<() => void> = [];
  private failure: StorageError | null = null;
  private snapshotChain: Promise<void> = Promise.resolve();
  private compactionScheduled = false;
  private closing = false;
  private closePromise: Promise<void> | null = null;
  private recovery: { snapshotFile: string | null; scans: JournalScan[] } | null;
  private bytesSinceSnapshot: number;
  private counters = { appends: 0, fsyncs: 0, journalBytesWritten: 0, snapshots: 0 };

  private constructor(
    private readonly dir: string,
    private readonly options: StorageOptions,
    private readonly logger: StorageLogger,
    private readonly releaseLock: () => void,
    current: Journal,
    recovery: { snapshotFile: string | null; scans: JournalScan[] },
  ) {
    this.current = current;
    this.recovery = recovery;
    this.bytesSinceSnapshot = recovery.scans.reduce((sum, scan) => sum + scan.validEnd, 0);
  }

  /** Locks `options.dir` (creating it), verifies its files and prepares the journal for appends. */
  static async open(dir: string, options: StorageOptions): Promise<DiskStorage> {
    const logger = options.logger ?? silentLogger;
    await fs.promises.mkdir(dir, { recursive: true });
    const releaseLock = acquireLock(dir, logger);
    try {
      const { current, recovery } = DiskStorage.recoverFiles(dir, logger);
      const storage = new DiskStorage(dir, options, logger, releaseLock, current, recovery);
      logger.info(
        { dir, generation: current.gen, snapshot: recovery.snapshotFile, journals: recovery.scans.length },
        'storage opened',
      );
      return storage;
    } catch (err) {
      releaseLock();
      throw err;
    }
  }

  private static recoverFiles(
    dir: string,
    logger: StorageLogger,
  ): { current: Journal; recovery: { snapshotFile: string | null; scans: JournalScan[] } } {
    const names = fs.readdirSync(dir);
    const snapshots = generations(names, SNAPSHOT_NAME);
    const journals = generations(names, JOURNAL_NAME);
    const base = snapshots.length > 0 ? snapshots[snapshots.length - 1] : 0;
    const live = journals.filter((g) => g >= base);
    live.forEach((gen, i) => {
      if (gen !== base + i) {
        throw new StorageError(
          'ECORRUPT',
          `data directory ${dir} is missing ${journalName(base + i)} (found ${journalName(gen)}); ` +
            'files were removed by hand or the disk is damaged',
        );
      }
    });
    const snapshotFile = snapshots.length > 0 ? path.join(dir, snapshotName(base)) : null;
    if (snapshotFile) verifySnapshot(snapshotFile);

    const scans = live.map((gen) => {
      const file = path.join(dir, journalName(gen));
      return scanJournal(file, fs.readFileSync(file));
    });
    scans.forEach((scan, i) => {
      const later = scans.slice(i + 1).find((s) => s.buf.length > 0);
      if (scan.torn && later) {
        throw new StorageError(
          'ECORRUPT',
          `journal ${scan.file} is damaged at offset ${scan.validEnd} (${scan.torn.reason}) but the later ` +
            `journal ${later.file} holds data: this is disk damage, not a torn write`,
        );
      }
    });

    // Everything checked: only now change files (superseded generations, unfinished snapshots, torn tails).
    const obsolete = [
      ...names.filter((n) => n.endsWith('.tmp')),
      ...snapshots.filter((g) => g < base).map(snapshotName),
      ...journals.filter((g) => g < base).map(journalName),
    ];
    for (const name of obsolete) fs.unlinkSync(path.join(dir, name));
    for (const scan of scans) {
      if (!scan.torn) continue;
      logger.warn(
        { file: scan.file, offset: scan.validEnd, droppedBytes: scan.buf.length - scan.validEnd, reason: scan.torn.reason },
        'dropping a torn last journal frame (a write that was never acknowledged)',
      );
      fs.truncateSync(scan.file, scan.validEnd);
      const fd = fs.openSync(scan.file, 'r+');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      scan.buf = scan.buf.subarray(0, scan.validEnd);
    }

    const gen = live.length > 0 ? live[live.length - 1] : base;
    const file = path.join(dir, journalName(gen));
    const exists = live.length > 0;
    const fd = fs.openSync(file, exists ? 'r+' : 'wx');
    const size = exists ? scans[scans.length - 1].validEnd : 0;
    if (obsolete.length > 0) fsyncDirSync(dir);
    const current: Journal = { gen, file, fd, size, pending: 0, idleWaiters: [], needsDirSync: !exists };
    return { current, recovery: { snapshotFile, scans } };
  }

  recover(): Recovered {
    const recovery = this.recovery;
    if (!recovery) {
      throw new StorageError('EUSAGE', 'recover() must be called before the first append or snapshot');
    }
    const { snapshotFile, scans } = recovery;
    return {
      snapshot: { [Symbol.iterator]: () => (snapshotFile ? readSnapshot(snapshotFile) : [][Symbol.iterator]()) },
      journal: {
        *[Symbol.iterator]() {
          for (const scan of scans) yield* journalEntries(scan);
        },
      },
    };
  }

  append(entries: StoredRecord[]): Promise<void> {
    if (this.closing) return Promise.reject(new StorageError('ECLOSED', 'storage is closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (entries.length === 0) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = encodeWrite(entries);
    } catch (err) {
      return Promise.reject(err);
    }
    if (bytes.length > MAX_FRAME_PAYLOAD) {
      return Promise.reject(new StorageError('ETOOBIG', `one write of ${bytes.length} bytes exceeds the 1 GiB limit`));
    }
    this.recovery = null;
    const journal = this.current;
    journal.pending += 1;
    this.counters.appends += 1;
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, journal, resolve, reject });
    });
    if (!this.flushing) {
      this.flushing = true;
      process.nextTick(() => void this.flushLoop());
    }
    return done;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const journal = this.queue[0].journal;
        let count = 0;
        let bytes = 0;
        while (count < this.queue.length && this.queue[count].journal === journal) {
          const next = this.queue[count].bytes.length;
          if (count > 0 && bytes + next > MAX_BATCH_BYTES) break;
          bytes += next;
          count += 1;
        }
        const batch = this.queue.splice(0, count);
        const frame = encodeFrame(
          JOURNAL_MAGIC,
          batch.map((item) => item.bytes),
        );
        try {
          await writeFully(journal.fd, frame, journal.size);
          await fdatasync(journal.fd);
          this.counters.fsyncs += 1;
          if (journal.needsDirSync) {
            await fsyncDir(this.dir);
            journal.needsDirSync = false;
          }
        } catch (err) {
          this.fail(err, batch);
          break;
        }
        journal.size += frame.length;
        this.counters.journalBytesWritten += frame.length;
        if (journal === this.current) this.bytesSinceSnapshot += frame.length;
        for (const item of batch) item.resolve();
        this.settle(journal, batch.length);
        this.maybeCompact();
      }
    } finally {
      this.flushing = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private fail(err: unknown, batch: QueuedWrite[]): void {
    const message = err instanceof Error ? err.message : String(err);
    this.failure = new StorageError('EIO', `journal write failed, no further writes are accepted: ${message}`, {
      cause: err,
    });
    this.logger.error({ err: message, dir: this.dir }, 'journal write failed; storage stops accepting writes');
    const rejected = [...batch, ...this.queue.splice(0)];
    for (const item of rejected) {
      item.reject(this.failure);
      this.settle(item.journal, 1);
    }
  }

  private settle(journal: Journal, count: number): void {
    journal.pending -= count;
    if (journal.pending > 0) return;
    const waiters = journal.idleWaiters;
    journal.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private whenIdle(journal: Journal): Promise<void> {
    if (journal.pending === 0) return Promise.resolve();
    return new Promise((resolve) => journal.idleWaiters.push(resolve));
  }

  private drained(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private maybeCompact(): void {
    const limit = this.options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    if (this.compactionScheduled || this.closing || this.bytesSinceSnapshot < limit) return;
    this.compactionScheduled = true;
    setImmediate(() => {
      if (this.closing) {
        this.compactionScheduled = false;
        return;
      }
      this.snapshotNow()
        .catch((err: unknown) => {
          this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'automatic snapshot failed');
        })
        .finally(() => {
          this.compactionScheduled = false;
        });
    });
  }

  snapshotNow(): Promise<void> {
    if (this.closing) return Promise.reject(new StorageError('ECLOSED', 'storage is closed'));
    const run = this.snapshotChain.then(() => this.runSnapshot());
    this.snapshotChain = run.catch(() => undefined);
    return run;
  }

  private async runSnapshot(): Promise<void> {
    if (this.failure) throw this.failure;
    this.recovery = null;
    const started = Date.now();
    const oldJournal = this.current;
    const gen = oldJournal.gen + 1;
    const finalPath = path.join(this.dir, snapshotName(gen));
    const tmpPath = `${finalPath}.tmp`;
    // Synchronous part: the source is consistent only now, and appends from here on go to the new journal.
    const fd = fs.openSync(tmpPath, 'w');
    let written: { count: number; bytes: number };
    try {
      written = writeSnapshotSync(fd, this.options.snapshotSource());
      const journalFile = path.join(this.dir, journalName(gen));
      const journalFd = fs.openSync(journalFile, 'wx');
      this.current = {
        gen, file: journalFile, fd: journalFd, size: 0, pending: 0, idleWaiters: [], needsDirSync: true,
      };
      this.bytesSinceSnapshot = 0;
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmpPath, { force: true });
      throw err;
    }
    try {
      try {
        await fdatasync(fd);
      } finally {
        fs.closeSync(fd);
      }
      await fs.promises.rename(tmpPath, finalPath);
      await fsyncDir(this.dir);
    } catch (err) {
      await fs.promises.rm(tmpPath, { force: true });
      await this.retire(oldJournal);
      throw err;
    }
    await this.retire(oldJournal);
    await this.removeBefore(gen);
    this.counters.snapshots += 1;
    this.logger.info(
      { dir: this.dir, generation: gen, records: written.count, bytes: written.bytes, ms: Date.now() - started },
      'snapshot written',
    );
  }

  /** Closes a journal that no longer receives writes, once its queued writes are settled. */
  private async retire(journal: Journal): Promise<void> {
    await this.whenIdle(journal);
    fs.closeSync(journal.fd);
  }

  private async removeBefore(gen: number): Promise<void> {
    const names = await fs.promises.readdir(this.dir);
    const old = [
      ...generations(names, SNAPSHOT_NAME).filter((g) => g < gen).map(snapshotName),
      ...generations(names, JOURNAL_NAME).filter((g) => g < gen).map(journalName),
    ];
    for (const name of old) await fs.promises.rm(path.join(this.dir, name), { force: true });
    if (old.length > 0) await fsyncDir(this.dir);
  }

  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = (async () => {
      await this.snapshotChain;
      await this.drained();
      fs.closeSync(this.current.fd);
      this.releaseLock();
      this.logger.info({ dir: this.dir }, 'storage closed');
    })();
    return this.closePromise;
  }

  stats(): StorageStats {
    return {
      ...this.counters,
      journalBytes: this.bytesSinceSnapshot,
      generation: this.current.gen,
    };
  }
}
