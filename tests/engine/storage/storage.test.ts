// Storage layer: journal replay, group commit, torn tails, damage, snapshots with compaction, in-memory mode.
import fs from 'node:fs';
import path from 'node:path';
import { Binary, Decimal128, Long, ObjectId } from 'bson';
import { openStorage, StorageError, type StoredRecord } from '../../../src/engine/storage';
import { filesIn, readBack, recordingLogger, tempDir } from './helpers';

const JOURNAL0 = 'journal-0000000000.log';
const JOURNAL1 = 'journal-0000000001.log';
const SNAPSHOT1 = 'snapshot-0000000001.bson';

/** Opens a store whose snapshot source is `state`, to which each write is added as it is appended. */
async function openWithState(dir: string, compactAfterBytes?: number) {
  const state: StoredRecord[] = [];
  const logger = recordingLogger();
  const storage = await openStorage({ dir, snapshotSource: () => state, compactAfterBytes, logger });
  const recovered = storage.recover();
  state.push(...recovered.snapshot, ...recovered.journal);
  const write = (entries: StoredRecord[]): Promise<void> => {
    state.push(...entries);
    return storage.append(entries);
  };
  return { storage, state, write, logger };
}

/** Appends one write per value sequentially and returns the journal size after each one. */
async function appendSequentially(dir: string, values: number[]): Promise<number[]> {
  const { storage, write } = await openWithState(dir);
  const sizes: number[] = [];
  for (const i of values) {
    await write([{ i }]);
    sizes.push(fs.statSync(path.join(dir, JOURNAL0)).size);
  }
  await storage.close();
  return sizes;
}

describe('storage journal', () => {
  it('when writes are appended and the directory reopened, then every entry comes back in order with its BSON types', async () => {
    const dir = tempDir();
    const id = new ObjectId();
    const when = new Date('2026-01-02T03:04:05.678Z');
    const { storage, write } = await openWithState(dir);
    await write([{ _id: id, when, big: Long.fromString('9007199254740993'), dec: Decimal128.fromString('0.1') }]);
    await write([{ bin: new Binary(Buffer.from([1, 2, 3])), n: 1.5 }, { nested: { list: [1, 'two', null] } }]);
    await storage.close();

    const { snapshot, journal } = await readBack(dir);
    expect(snapshot).toEqual([]);
    expect(journal).toHaveLength(3);
    expect(journal[0]._id).toBeInstanceOf(ObjectId);
    expect(String(journal[0]._id)).toBe(id.toHexString());
    expect(journal[0].when).toEqual(when);
    expect(journal[0].big).toBeInstanceOf(Long);
    expect(String(journal[0].big)).toBe('9007199254740993');
    expect(journal[0].dec).toBeInstanceOf(Decimal128);
    expect(String(journal[0].dec)).toBe('0.1');
    expect(journal[1].bin).toBeInstanceOf(Binary);
    expect(Buffer.from((journal[1].bin as Binary).buffer)).toEqual(Buffer.from([1, 2, 3]));
    expect(journal[1].n).toBe(1.5);
    expect(journal[2]).toEqual({ nested: { list: [1, 'two', null] } });
  });

  it('when the entries are mutated after append was called, then the journal keeps the values at the time of the call', async () => {
    const dir = tempDir();
    const { storage } = await openWithState(dir);
    const doc = { v: 1 };
    const pending = storage.append([doc]);
    doc.v = 2;
    await pending;
    await storage.close();
    expect((await readBack(dir)).journal).toEqual([{ v: 1 }]);
  });

  it('when many appends are in flight at once, then all are kept in call order with fewer fsyncs than appends', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir);
    await Promise.all(Array.from({ length: 300 }, (_, i) => write([{ i }])));
    const stats = storage.stats();
    expect(stats.appends).toBe(300);
    expect(stats.fsyncs).toBeGreaterThan(0);
    expect(stats.fsyncs).toBeLessThan(300);
    await storage.close();
    expect((await readBack(dir)).journal.map((r) => r.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('when one write holds more than 16 MiB of entries, then it is stored and replayed whole', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir);
    const entries = Array.from({ length: 90 }, (_, i) => ({ i, s: String(i % 10).repeat(200_000) }));
    await write(entries);
    await storage.close();
    const { journal } = await readBack(dir);
    expect(journal).toHaveLength(90);
    expect(journal[89]).toEqual({ i: 89, s: '9'.repeat(200_000) });
  });

  it('when an entry cannot be serialized, then that append rejects and later appends still work', async () => {
    const dir = tempDir();
    const { storage } = await openWithState(dir);
    const circular: StoredRecord = { a: 1 };
    circular.self = circular;
    await expect(storage.append([circular])).rejects.toThrow(/circular/i);
    await storage.append([{ ok: 1 }]);
    await storage.close();
    expect((await readBack(dir)).journal).toEqual([{ ok: 1 }]);
  });

  it('when recover() is called after the first append, then it refuses instead of answering stale data', async () => {
    const dir = tempDir();
    const { storage } = await openWithState(dir);
    await storage.append([{ a: 1 }]);
    expect(() => storage.recover()).toThrow(/before the first append/);
    await storage.close();
  });

  it('when the storage is closed, then further appends reject', async () => {
    const dir = tempDir();
    const { storage } = await openWithState(dir);
    await storage.close();
    await expect(storage.append([{ a: 1 }])).rejects.toThrow(/closed/);
  });
});

describe('storage recovery of a damaged journal', () => {
  it('when the file ends in the middle of the last frame, then that write is dropped, the file truncated and usable again', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2, 3]);
    const file = path.join(dir, JOURNAL0);
    fs.truncateSync(file, sizes[2] - 5);

    const logger = recordingLogger();
    const { journal } = await readBack(dir, logger);
    expect(journal).toEqual([{ i: 1 }, { i: 2 }]);
    expect(logger.warnings).toEqual([expect.stringMatching(/torn/)]);
    expect(fs.statSync(file).size).toBe(sizes[1]);

    const { storage, write } = await openWithState(dir);
    await write([{ i: 4 }]);
    await storage.close();
    expect((await readBack(dir)).journal).toEqual([{ i: 1 }, { i: 2 }, { i: 4 }]);
  });

  it('when the last frame has a corrupted byte, then it is dropped and earlier frames kept', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2, 3]);
    const file = path.join(dir, JOURNAL0);
    const bytes = fs.readFileSync(file);
    bytes[sizes[2] - 3] ^= 0xff;
    fs.writeFileSync(file, bytes);

    const logger = recordingLogger();
    expect((await readBack(dir, logger)).journal).toEqual([{ i: 1 }, { i: 2 }]);
    expect(logger.warnings).toHaveLength(1);
    expect(fs.statSync(file).size).toBe(sizes[1]);
  });

  it('when only a few bytes of a new frame header reached the disk, then they are dropped', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2]);
    fs.appendFileSync(path.join(dir, JOURNAL0), Buffer.from('TDJ'));
    expect((await readBack(dir)).journal).toEqual([{ i: 1 }, { i: 2 }]);
    expect(fs.statSync(path.join(dir, JOURNAL0)).size).toBe(sizes[1]);
  });

  it('when a frame in the middle is corrupt and good frames follow, then open fails naming the file and offset', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2, 3]);
    const file = path.join(dir, JOURNAL0);
    const bytes = fs.readFileSync(file);
    bytes[sizes[0] + 14] ^= 0xff;
    fs.writeFileSync(file, bytes);

    const attempt = openStorage({ dir, snapshotSource: () => [] });
    await expect(attempt).rejects.toBeInstanceOf(StorageError);
    await expect(attempt).rejects.toThrow(`journal ${file} is damaged at offset ${sizes[0]}`);
    expect(fs.readFileSync(file)).toEqual(bytes);
    // The failed open released its lock: a second attempt reports the damage again, not a lock.
    await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(/damaged/);
  });

  it('when an older journal has a torn tail and the newer journal is empty, then the tail is dropped', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2, 3]);
    fs.truncateSync(path.join(dir, JOURNAL0), sizes[2] - 1);
    fs.writeFileSync(path.join(dir, JOURNAL1), '');
    const { journal } = await readBack(dir);
    expect(journal).toEqual([{ i: 1 }, { i: 2 }]);
    expect(fs.statSync(path.join(dir, JOURNAL0)).size).toBe(sizes[1]);
  });

  it('when an older journal has a torn tail but the newer journal holds data, then open fails as damage', async () => {
    const dir = tempDir();
    const sizes = await appendSequentially(dir, [1, 2, 3]);
    const bytes = fs.readFileSync(path.join(dir, JOURNAL0));
    fs.writeFileSync(path.join(dir, JOURNAL1), bytes.subarray(0, sizes[0]));
    fs.truncateSync(path.join(dir, JOURNAL0), sizes[2] - 1);
    await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(
      `journal ${path.join(dir, JOURNAL0)} is damaged at offset ${sizes[1]}`,
    );
  });

  it('when the snapshot file is damaged, then open fails naming the snapshot and changes no file', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir);
    await write([{ a: 1 }]);
    await storage.snapshotNow();
    await storage.close();
    const file = path.join(dir, SNAPSHOT1);
    const bytes = fs.readFileSync(file);
    bytes[14] ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.writeFileSync(path.join(dir, 'snapshot-0000000002.bson.tmp'), 'partial');
    const before = filesIn(dir);
    await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(`snapshot ${file} is damaged`);
    expect(filesIn(dir)).toEqual(before);
  });
});

describe('storage snapshots', () => {
  it('when a snapshot is forced, then it holds the state, the old journal is removed and later writes go to a new journal', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir);
    for (let i = 0; i < 10; i += 1) await write([{ i }]);
    await storage.snapshotNow();
    expect(filesIn(dir)).toEqual(['LOCK', JOURNAL1, SNAPSHOT1]);
    await write([{ i: 10 }]);
    await storage.close();

    const { snapshot, journal } = await readBack(dir);
    expect(snapshot.map((r) => r.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(journal).toEqual([{ i: 10 }]);
    expect(filesIn(dir)).toEqual([JOURNAL1, SNAPSHOT1]);
  });

  it('when the journal grows past compactAfterBytes, then a snapshot is taken by itself and nothing is lost', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir, 4096);
    for (let i = 0; i < 400; i += 1) await write([{ i, pad: 'x'.repeat(50) }]);
    await new Promise((resolve) => setImmediate(resolve));
    await storage.close();
    expect(storage.stats().snapshots).toBeGreaterThan(1);
    const names = filesIn(dir);
    expect(names.filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('journal-'))).toHaveLength(1);
    expect((await readBack(dir)).all.map((r) => r.i)).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it('when appends arrive while a snapshot is written, then every write is kept once and in order', async () => {
    const dir = tempDir();
    const { storage, write } = await openWithState(dir);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 500; i += 1) {
      writes.push(write([{ i }]));
      if (i % 100 === 50) writes.push(storage.snapshotNow());
    }
    await Promise.all(writes);
    await storage.close();
    expect(storage.stats().snapshots).toBe(5);
    expect((await readBack(dir)).all.map((r) => r.i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('when a large state is snapshotted, then every record comes back from the snapshot', async () => {
    const dir = tempDir();
    const state = Array.from({ length: 50_000 }, (_, i) => ({ _id: i, name: `n${i}` }));
    const storage = await openStorage({ dir, snapshotSource: () => state });
    await storage.snapshotNow();
    await storage.close();
    const { snapshot, journal } = await readBack(dir);
    expect(journal).toEqual([]);
    expect(snapshot).toHaveLength(50_000);
    expect(snapshot[49_999]).toEqual({ _id: 49_999, name: 'n49999' });
  });

  it('when the snapshot source throws, then snapshotNow rejects and the journal keeps working', async () => {
    const dir = tempDir();
    let fail = true;
    const storage = await openStorage({
      dir,
      snapshotSource: () => {
        if (fail) throw new Error('source broke');
        return [{ s: 1 }];
      },
    });
    await storage.append([{ a: 1 }]);
    await expect(storage.snapshotNow()).rejects.toThrow('source broke');
    await storage.append([{ a: 2 }]);
    fail = false;
    await storage.close();
    expect(filesIn(dir)).toEqual([JOURNAL0]);
    expect((await readBack(dir)).journal).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('storage recovery after a crash during a snapshot', () => {
  /** Builds: journal-0 with a, b; then snapshot-1 (a, b) and journal-1 with c. Returns the old journal's bytes. */
  async function snapshottedDir(dir: string): Promise<Buffer> {
    const first = await openWithState(dir);
    await first.write([{ v: 'a' }]);
    await first.write([{ v: 'b' }]);
    await first.storage.close();
    const oldJournal = fs.readFileSync(path.join(dir, JOURNAL0));
    const second = await openWithState(dir);
    await second.storage.snapshotNow();
    await second.write([{ v: 'c' }]);
    await second.storage.close();
    return oldJournal;
  }

  it('when the crash came after the snapshot rename but before the old journal was removed, then nothing is replayed twice', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, JOURNAL0), await snapshottedDir(dir));
    const { snapshot, journal } = await readBack(dir);
    expect(snapshot).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(journal).toEqual([{ v: 'c' }]);
    expect(filesIn(dir)).toEqual([JOURNAL1, SNAPSHOT1]);
  });

  it('when the crash came after the rename and the new journal never reached the disk, then the snapshot alone is recovered', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, JOURNAL0), await snapshottedDir(dir));
    fs.unlinkSync(path.join(dir, JOURNAL1));
    const { snapshot, journal } = await readBack(dir);
    expect(snapshot).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(journal).toEqual([]);
    const { storage, write } = await openWithState(dir);
    await write([{ v: 'd' }]);
    await storage.close();
    expect((await readBack(dir)).all).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'd' }]);
  });

  it('when the crash came before the snapshot was renamed, then the partial snapshot is ignored and both journals replayed', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, JOURNAL0), await snapshottedDir(dir));
    const snapshotBytes = fs.readFileSync(path.join(dir, SNAPSHOT1));
    fs.unlinkSync(path.join(dir, SNAPSHOT1));
    fs.writeFileSync(path.join(dir, `${SNAPSHOT1}.tmp`), snapshotBytes.subarray(0, snapshotBytes.length - 4));
    const { snapshot, journal } = await readBack(dir);
    expect(snapshot).toEqual([]);
    expect(journal).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
    expect(filesIn(dir)).toEqual([JOURNAL0, JOURNAL1]);
  });

  it('when a journal between the snapshot and the newest journal is missing, then open fails', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, JOURNAL0), await snapshottedDir(dir));
    fs.unlinkSync(path.join(dir, SNAPSHOT1));
    fs.unlinkSync(path.join(dir, JOURNAL0));
    await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(/missing journal-0000000000\.log/);
  });
});

describe('storage in memory', () => {
  it('when dir is null, then every call succeeds and nothing is recovered', async () => {
    const storage = await openStorage({ dir: null, snapshotSource: () => [{ a: 1 }] });
    const recovered = storage.recover();
    expect([...recovered.snapshot]).toEqual([]);
    expect([...recovered.journal]).toEqual([]);
    await storage.append([{ a: 1 }]);
    await storage.snapshotNow();
    expect(storage.stats().appends).toBe(1);
    await storage.close();
    const again = await openStorage({ dir: null, snapshotSource: () => [] });
    expect([...again.recover().journal]).toEqual([]);
    await again.close();
  });
});
