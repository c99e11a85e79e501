// Shared helpers for the storage tests: temp dirs, reading a directory back, spawning fixture children.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStorage, type StorageLogger, type StoredRecord } from '../../../src/engine/storage';

const created: string[] = [];

afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the test file. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-test-'));
  created.push(dir);
  return dir;
}

export interface RecordingLogger extends StorageLogger {
  warnings: string[];
}

export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (_o, m) => warnings.push(m ?? ''), error: () => undefined };
}

/** Opens `dir`, returns everything recovered (snapshot then journal) and closes it again. */
export async function readBack(
  dir: string,
  logger?: StorageLogger,
): Promise<{ snapshot: StoredRecord[]; journal: StoredRecord[]; all: StoredRecord[] }> {
  const storage = await openStorage({ dir, snapshotSource: () => [], logger });
  const recovered = storage.recover();
  const snapshot = [...recovered.snapshot];
  const journal = [...recovered.journal];
  await storage.close();
  return { snapshot, journal, all: [...snapshot, ...journal] };
}

export function filesIn(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

const fixtures = path.join(__dirname, 'fixtures');

/** Spawns a fixture script under tsx. */
export function spawnFixture(name: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, name), ...args], {
    cwd: path.join(__dirname, '../../..'),
    stdio: 'pipe',
  });
}

/** Resolves with the child's stdout so far once `predicate` holds for it; rejects if the child exits first. */
export function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  predicate: (out: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (predicate(out)) {
        child.stdout.off('data', onData);
        resolve(out);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) early: ${err}`)));
  });
}

export function killAndWait(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
