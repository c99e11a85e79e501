// Data directory lock: a LOCK file created with O_EXCL holding the owner's pid; stale locks are taken over.
import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type StorageLogger } from './types';

export const LOCK_FILE = 'LOCK';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function createExclusive(lockPath: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function readOwner(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Takes the lock of `dir`; throws when a live process holds it. Returns the function that releases it. */
export function acquireLock(dir: string, logger: StorageLogger): () => void {
  const lockPath = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (createExclusive(lockPath)) return () => releaseLock(lockPath);
    const owner = readOwner(lockPath);
    if (owner !== null && isAlive(owner)) {
      throw new StorageError('ELOCKED', `data directory ${dir} is in use by process ${owner}`);
    }
    logger.warn({ dir, stalePid: owner }, 'taking over a stale data directory lock');
    try {
      fs.unlinkSync(lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new StorageError('ELOCKED', `data directory ${dir} is locked and the lock could not be taken over`);
}

function releaseLock(lockPath: string): void {
  if (readOwner(lockPath) !== process.pid) return;
  try {
    fs.unlinkSync(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
