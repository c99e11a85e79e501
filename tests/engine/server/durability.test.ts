// Durability: a child engine killed with SIGKILL mid-stream reopens with every acknowledged write and no partial batch.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';

interface AnyDoc {
  _id?: number | string;
  [key: string]: unknown;
}

const root = path.resolve(__dirname, '../../..');
const external = Boolean(process.env.MONGODB_URI);
const maybe = external ? describe.skip : describe;

interface Child {
  proc: ChildProcess;
  port: number;
}

/** Starts the engine CLI as a child; `fileSizeLimitKb` caps the size of any file it writes (`ulimit -f`), as a full disk would. */
function startChild(dataDir: string, options: { fileSizeLimitKb?: number; stderr?: (text: string) => void } = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, '--import', 'tsx', 'src/engine/cli.ts', '--port', '0', '--data-dir', dataDir];
    const proc =
      options.fileSizeLimitKb === undefined
        ? spawn(command[0] as string, command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('/bin/bash', ['-c', `ulimit -f ${options.fileSizeLimitKb} && exec "$@"`, 'bash', ...command], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      options.stderr?.(chunk.toString());
    });
    proc.on('exit', (code) => reject(new Error(`engine exited early (${String(code)}): ${err}`)));
  });
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

maybe('durability of a child engine process', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'engine-durability-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when the engine is killed with SIGKILL during acknowledged inserts, then a restart has every acknowledged one and no partial batch', async () => {
    const first = await startChild(dataDir);
    const uri = `mongodb://127.0.0.1:${first.port}/?directConnection=true`;
    const client = await new MongoClient(uri, { maxPoolSize: 8, serverSelectionTimeoutMS: 2000 }).connect();
    const coll = client.db('dur').collection<{ _id: string; writer: number; seq: number; batch?: number }>('events');
    await coll.createIndex({ writer: 1, seq: 1 }, { unique: true });

    const acked = new Set<string>();
    const ackedBatches = new Set<string>();
    let stop = false;
    const KILL_AFTER = 600;

    const single = async (writer: number): Promise<void> => {
      for (let seq = 0; !stop; seq++) {
        const id = `s${writer}-${seq}`;
        try {
          await coll.insertOne({ _id: id, writer, seq });
          acked.add(id);
        } catch {
          return;
        }
      }
    };
    const batched = async (writer: number): Promise<void> => {
      for (let b = 0; !stop; b++) {
        const docs = Array.from({ length: 10 }, (_, i) => ({ _id: `b${writer}-${b}-${i}`, writer, seq: b * 10 + i, batch: b }));
        try {
          await coll.insertMany(docs);
          ackedBatches.add(`b${writer}-${b}`);
        } catch {
          return;
        }
      }
    };
    const killer = (async () => {
      while (acked.size + ackedBatches.size * 10 < KILL_AFTER) await new Promise((r) => setTimeout(r, 5));
      first.proc.kill('SIGKILL');
      stop = true;
    })();
    await Promise.all([single(1), single(2), single(3), batched(4), batched(5), killer]);
    await exited(first.proc);
    await client.close(true).catch(() => undefined);
    expect(acked.size + ackedBatches.size * 10).toBeGreaterThanOrEqual(KILL_AFTER);

    const second = await startChild(dataDir);
    const client2 = await new MongoClient(`mongodb://127.0.0.1:${second.port}/?directConnection=true`).connect();
    try {
      const docs = await client2.db('dur').collection<{ _id: string; batch?: number; writer: number }>('events').find().toArray();
      const present = new Set(docs.map((d) => d._id));
      for (const id of acked) expect(present.has(id) ? id : `missing ${id}`).toBe(id);
      for (const b of ackedBatches) {
        for (let i = 0; i < 10; i++) expect(present.has(`${b}-${i}`) ? b : `missing ${b}-${i}`).toBe(b);
      }
      const batchCounts = new Map<string, number>();
      for (const d of docs) {
        if (d.batch !== undefined) {
          const key = `b${d.writer}-${d.batch}`;
          batchCounts.set(key, (batchCounts.get(key) ?? 0) + 1);
        }
      }
      for (const [key, n] of batchCounts) expect({ key, n }).toEqual({ key, n: 10 });
      const indexes = await client2.db('dur').collection('events').indexes();
      expect(indexes.map((i) => i.name)).toEqual(['_id_', 'writer_1_seq_1']);
      const dup = await client2.db('dur').collection<AnyDoc>('events').insertOne({ _id: 'x', writer: docs[0].writer, seq: (docs[0] as { seq?: number }).seq }).catch((e: unknown) => e);
      expect((dup as { code?: number }).code).toBe(11000);
    } finally {
      await client2.close();
      second.proc.kill('SIGTERM');
      await exited(second.proc);
    }
    expect(second.proc.exitCode).toBe(0);
  }, 60_000);

  test('when a journal write fails (the disk is full), then the engine stops serving and exits 1, and a restart has exactly the acknowledged writes', async () => {
    let stderr = '';
    const first = await startChild(dataDir, { fileSizeLimitKb: 64, stderr: (text) => (stderr += text) });
    const client = await new MongoClient(`mongodb://127.0.0.1:${first.port}/?directConnection=true`, { serverSelectionTimeoutMS: 1000 }).connect();
    const coll = client.db('full').collection<{ _id: number; text: string }>('notes');
    const acknowledged: number[] = [];
    let failure: unknown = null;
    for (let i = 0; i < 1000 && !failure; i++) {
      try {
        await coll.insertOne({ _id: i, text: 'x'.repeat(1000) });
        acknowledged.push(i);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).not.toBeNull();
    const afterHalt = await coll.findOne({ _id: acknowledged.length }).catch((error: unknown) => error);
    expect(afterHalt).toBeInstanceOf(Error);
    await exited(first.proc);
    await client.close(true).catch(() => undefined);
    expect(first.proc.exitCode).toBe(1);
    expect(stderr).toContain('journal write failed');
    expect(acknowledged.length).toBeGreaterThan(10);

    const second = await startChild(dataDir);
    const client2 = await new MongoClient(`mongodb://127.0.0.1:${second.port}/?directConnection=true`).connect();
    try {
      const ids = (await client2.db('full').collection<{ _id: number }>('notes').find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
      expect(ids).toEqual(acknowledged);
    } finally {
      await client2.close();
      second.proc.kill('SIGTERM');
      await exited(second.proc);
    }
  }, 60_000);

  test('when updates, deletes and index changes are acknowledged before SIGKILL, then all of them survive', async () => {
    const first = await startChild(dataDir);
    const client = await new MongoClient(`mongodb://127.0.0.1:${first.port}/?directConnection=true`).connect();
    const db = client.db('dur2');
    await db.collection<AnyDoc>('a').insertMany([{ _id: 1, v: 1 }, { _id: 2, v: 2 }, { _id: 3, v: 3 }]);
    await db.collection<AnyDoc>('a').updateOne({ _id: 1 }, { $set: { v: 10 } });
    await db.collection<AnyDoc>('a').deleteOne({ _id: 2 });
    await db.collection<AnyDoc>('a').createIndex({ v: -1 }, { name: 'v_desc' });
    await db.collection<AnyDoc>('b').insertOne({ _id: 'gone' });
    await db.collection<AnyDoc>('b').drop();
    await db.collection<AnyDoc>('c').insertOne({ _id: 'x' });
    await db.collection<AnyDoc>('a').aggregate([{ $project: { v: 1 } }, { $out: 'copy' }]).toArray();
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    await client.close(true).catch(() => undefined);

    const second = await startChild(dataDir);
    const client2 = await new MongoClient(`mongodb://127.0.0.1:${second.port}/?directConnection=true`).connect();
    try {
      const db2 = client2.db('dur2');
      expect(await db2.collection('a').find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, v: 10 }, { _id: 3, v: 3 }]);
      expect((await db2.collection('a').indexes()).map((i) => i.name)).toEqual(['_id_', 'v_desc']);
      expect((await db2.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['a', 'c', 'copy']);
      expect(await db2.collection('copy').countDocuments()).toBe(2);
    } finally {
      await client2.close();
      second.proc.kill('SIGTERM');
      await exited(second.proc);
    }
  }, 60_000);
});
