// Public types of the storage layer and its error class.

/** One opaque record: anything the `bson` package can serialize (ObjectId, Date, Long, Decimal128, Binary...). */
export type StoredRecord = Record<string, unknown>;

export interface StorageLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface StorageOptions {
  /** Data directory; null = in-memory mode (every call succeeds, nothing persists). */
  dir: string | null;
  /**
   * Yields the whole current state as records. Called synchronously when a snapshot is taken and consumed
   * completely before any other code runs, so the caller must apply each write to its state in the same
   * synchronous step as it calls append() (no await in between).
   */
  snapshotSource: () => Iterable<StoredRecord>;
  /** Journal bytes (since the last snapshot) that trigger a snapshot + compaction. Default 64 MiB. */
  compactAfterBytes?: number;
  logger?: StorageLogger;
}

/** What was on disk at open: snapshot records first, then the journal entries written after it, in order. */
export interface Recovered {
  snapshot: Iterable<StoredRecord>;
  journal: Iterable<StoredRecord>;
}

export interface StorageStats {
  /** append() calls that wrote entries. */
  appends: number;
  /** fdatasync calls on journal files (group commit makes this lower than `appends`). */
  fsyncs: number;
  /** Bytes written to journal files since open. */
  journalBytesWritten: number;
  /** Journal bytes since the last snapshot (what compaction looks at). */
  journalBytes: number;
  /** Snapshots completed since open. */
  snapshots: number;
  /** Current journal generation. */
  generation: number;
}

export interface Storage {
  /** What was on disk at open (empty in memory mode). Iterate it before the first append. */
  recover(): Recovered;
  /** One logical write: all entries or none survive a crash; resolves once its bytes are fdatasync'd. */
  append(entries: StoredRecord[]): Promise<void>;
  /** Forces a snapshot + compaction. */
  snapshotNow(): Promise<void>;
  /** Flushes pending appends, waits for a running snapshot, closes files and releases the lock. */
  close(): Promise<void>;
  stats(): StorageStats;
}

/** A storage failure: a locked directory, a damaged file, or an I/O error that stops further writes. */
export class StorageError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}
