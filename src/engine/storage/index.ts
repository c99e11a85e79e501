// Durable storage of the engine: opaque BSON records in a group-committed journal plus snapshots.
import { DiskStorage } from './disk-storage';
import {
  StorageError,
  type Recovered,
  type Storage,
  type StorageOptions,
  type StorageStats,
  type StoredRecord,
} from './types';

export { StorageError };
export type { Recovered, Storage, StorageLogger, StorageOptions, StorageStats, StoredRecord } from './types';

/** In-memory mode: every call succeeds and nothing persists. */
class MemoryStorage implements Storage {
  private closed = false;
  private appends = 0;

  recover(): Recovered {
    return { snapshot: [], journal: [] };
  }

  append(entries: StoredRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('ECLOSED', 'storage is closed'));
    if (entries.length > 0) this.appends += 1;
    return Promise.resolve();
  }

  snapshotNow(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  stats(): StorageStats {
    return { appends: this.appends, fsyncs: 0, journalBytesWritten: 0, journalBytes: 0, snapshots: 0, generation: 0 };
  }
}

/** Opens the data directory (locking it and checking its files), or an in-memory store when `dir` is null. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.dir === null) return new MemoryStorage();
  return DiskStorage.open(options.dir, options);
}
