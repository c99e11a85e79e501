// Conformance: an engine process killed with SIGKILL mid-write reopens with every acknowledged write, once.
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { embeddedOnly, freePort, runProcess, startChildEngine, type ChildEngine, type LooseDoc } from './support';

const payload = 'ư'.repeat(200);

interface StreamResult {
  acked: Set<string>;
  counterAcked: number;
  counterAttempted: number;
}

/** Streams inserts (single and batched) and $inc updates until the server dies; records what was acknowledged. */
async function streamWrites(engine: ChildEngine, round: number, killAfterAcks: number, killDelayMs: number): Promise<StreamResult> {
  const client = new MongoClient(engine.uri, { retryWrites: false, serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 });
  await client.connect();
  const coll = client.db('durable').collection<LooseDoc>('events');
  const counters = client.db('durable').collection<LooseDoc>('counters');
  const acked = new Set<string>();
  let counterAcked = 0;
  let counterAttempted = 0;
  let alive = true;
  let killTimer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (acked.size >= killAfterAcks) {
        clearInterval(check);
        killTimer = setTimeout(() => {
          engine.process.kill('SIGKILL');
          resolve();
        }, killDelayMs);
      }
    }, 5);
  });

  const single = async (writer: number): Promise<void> => {
    for (let n = 0; alive; n += 1) {
      const key = `${round}:${writer}:${n}`;
      try {
        await coll.insertOne({ key, round, writer, n, payload, nested: { at: new Date(), list: [n, key] } });
        acked.add(key);
      } catch {
        return;
      }
    }
  };
  const batched = async (writer: number): Promise<void> => {
    for (let n = 0; alive; n += 1) {
      const keys = Array.from({ length: 25 }, (_, i) => `${round}:${writer}:${n}:${i}`);
      try {
        await coll.insertMany(keys.map((key, i) => ({ key, round, writer, n: i, payload, nested: { at: new Date(), list: [i, key] } })));
        keys.forEach((key) => acked.add(key));
      } catch {
        return;
      }
    }
  };
  const incrementer = async (): Promise<void> => {
    while (alive) {
      counterAttempted += 1;
      try {
        await counters.updateOne({ _id: 'c' }, { $inc: { n: 1 } }, { upsert: true });
        counterAcked = counterAttempted;
      } catch {
        return;
      }
    }
  };

  const writers = Promise.all([single(1), single(2), single(3), single(4), batched(5), batched(6), incrementer()]);
  await killed;
  await engine.exited;
  alive = false;
  await writers;
  if (killTimer) clearTimeout(killTimer);
  await client.close(true).catch(() => undefined);
  return { acked, counterAcked, counterAttempted };
}

async function readBack(engine: ChildEngine): Promise<{ keys: string[]; partial: number; counter: number }> {
  const client = new MongoClient(engine.uri);
  await client.connect();
  try {
    const db = client.db('durable');
    const docs = await db.collection<LooseDoc>('events').find({}, { projection: { key: 1, payload: 1, nested: 1 } }).toArray();
    const partial = docs.filter((doc) => doc.payload !== payload || !Array.isArray(doc.nested?.list) || doc.nested.list[1] !== doc.key).length;
    const counter = Number((await db.collection<LooseDoc>('counters').findOne({ _id: 'c' }))?.n ?? 0);
    return { keys: docs.map((doc) => String(doc.key)), partial, counter };
  } finally {
    await client.close();
  }
}

function expectAllAckedOnce(keys: string[], acked: Set<string>): void {
  const seen = new Map<string, number>();
  for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1);
  const missing = [...acked].filter((key) => !seen.has(key));
  const duplicated = [...seen].filter(([, count]) => count > 1).map(([key]) => key);
  expect({ missing: missing.slice(0, 10), missingCount: missing.length, duplicated: duplicated.slice(0, 10) }).toEqual({
    missing: [],
    missingCount: 0,
    duplicated: [],
  });
}

let dataDir = '';

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'engine-durability-'));
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

embeddedOnly(
  'when the engine is killed with SIGKILL during acknowledged writes, then every acknowledged write survives exactly once',
  async () => {
    const allAcked = new Set<string>();
    let counterFloor = 0;
    let counterCeiling = 0;
    let engine = await startChildEngine(dataDir);
    try {
      for (let round = 1; round <= 2; round += 1) {
        const result = await streamWrites(engine, round, 100 + Math.floor(Math.random() * 400), Math.floor(Math.random() * 400));
        expect(result.acked.size).toBeGreaterThan(0);
        result.acked.forEach((key) => allAcked.add(key));
        counterFloor += result.counterAcked;
        counterCeiling += result.counterAttempted;
        engine = await startChildEngine(dataDir);
        const after = await readBack(engine);
        expectAllAckedOnce(after.keys, allAcked);
        expect(after.partial).toBe(0);
        expect(after.counter).toBeGreaterThanOrEqual(counterFloor);
        expect(after.counter).toBeLessThanOrEqual(counterCeiling);
        counterFloor = after.counter;
        counterCeiling = after.counter;
        after.keys.forEach((key) => allAcked.add(key));
      }
    } finally {
      if (engine.process.exitCode === null && engine.process.signalCode === null) engine.process.kill('SIGTERM');
      await engine.exited;
    }
  },
  150000,
);

embeddedOnly(
  'when a second process opens a data directory in use, then it refuses; after SIGTERM the owner exits 0 and the data is kept',
  async () => {
    const engine = await startChildEngine(dataDir);
    const client = new MongoClient(engine.uri);
    try {
      await client.connect();
      await client.db('durable').collection<LooseDoc>('graceful').insertOne({ _id: 'kept' });
      const port = await freePort();
      const second = await runProcess(
        ['--import', 'tsx', 'src/engine/cli.ts', '--port', String(port), '--data-dir', dataDir],
        { ...process.env },
        30000,
      );
      expect(second.code).not.toBe(0);
      expect(second.code).not.toBeNull();
      expect(second.stdout + second.stderr).not.toContain('listening on');
      expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    } finally {
      await client.close();
      engine.process.kill('SIGTERM');
    }
    expect(await engine.exited).toBe(0);
    const again = await startChildEngine(dataDir);
    const check = new MongoClient(again.uri);
    try {
      await check.connect();
      expect(await check.db('durable').collection<LooseDoc>('graceful').findOne({ _id: 'kept' })).toEqual({ _id: 'kept' });
    } finally {
      await check.close();
      again.process.kill('SIGTERM');
      await again.exited;
    }
  },
  90000,
);

embeddedOnly(
  'when the journal ends in a torn record, then the engine reopens with every complete write and drops the tail',
  async () => {
    const tornDir = await mkdtemp(path.join(tmpdir(), 'engine-torn-'));
    try {
      const engine = await startChildEngine(tornDir);
      const client = new MongoClient(engine.uri);
      try {
        await client.connect();
        const coll = client.db('durable').collection<LooseDoc>('torn');
        for (let n = 0; n < 20; n += 1) await coll.insertOne({ _id: n, payload });
      } finally {
        await client.close();
        engine.process.kill('SIGKILL');
        await engine.exited;
      }
      const journals = (await readdir(tornDir)).filter((name) => /^journal-\d+\.log$/.test(name)).sort();
      expect(journals.length).toBeGreaterThan(0);
      // A write cut short by the crash: a plausible frame start followed by too few bytes.
      await appendFile(path.join(tornDir, journals[journals.length - 1]), Buffer.from([0x4a, 0x52, 0x4e, 0x4c, 0xff, 0x00, 0x00, 0x10, 1, 2, 3]));
      const reopened = await startChildEngine(tornDir);
      const check = new MongoClient(reopened.uri);
      try {
        await check.connect();
        const ids = (await check.db('durable').collection<LooseDoc>('torn').find().sort({ _id: 1 }).toArray()).map((doc) => doc._id);
        expect(ids).toEqual(Array.from({ length: 20 }, (_, n) => n));
        await check.db('durable').collection<LooseDoc>('torn').insertOne({ _id: 20, payload });
      } finally {
        await check.close();
        reopened.process.kill('SIGTERM');
        await reopened.exited;
      }
      const third = await startChildEngine(tornDir);
      const again = new MongoClient(third.uri);
      try {
        await again.connect();
        expect(await again.db('durable').collection<LooseDoc>('torn').countDocuments()).toBe(21);
      } finally {
        await again.close();
        third.process.kill('SIGTERM');
        await third.exited;
      }
    } finally {
      await rm(tornDir, { recursive: true, force: true });
    }
  },
  120000,
);
