// Restart in-process on a data directory: snapshots plus journal rebuild the same catalog, indexes included.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEngine } from '../../../src/engine';

const maybe = process.env.MONGODB_URI ? describe.skip : describe;

maybe('restart on a data directory', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'engine-restart-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('when the journal is compacted into snapshots during writes, then a restart sees the final state', async () => {
    const engine = await startEngine({ dataDir: dir, compactAfterBytes: 20_000 });
    const client = await new MongoClient(engine.uri).connect();
    const coll = client.db('rs').collection<{ _id: number; v: number; tag?: string }>('items');
    await coll.createIndex({ tag: 1 }, { unique: true, sparse: true });
    for (let i = 0; i < 40; i++) {
      await coll.insertMany(Array.from({ length: 25 }, (_, j) => ({ _id: i * 25 + j, v: j })));
      await coll.updateMany({ _id: { $lt: i * 25 } }, { $inc: { v: 1 } });
    }
    await coll.deleteMany({ _id: { $gte: 900 } });
    await coll.updateOne({ _id: 7 }, { $set: { tag: 'seven' } });
    await client.db('rs').collection('tmp').insertOne({ _id: 'moved' } as never);
    await client.db('rs').collection('tmp').rename('moved');
    const expected = await coll.find().sort({ _id: 1 }).toArray();
    await client.close();
    await engine.close();
    expect(readdirSync(dir).some((f) => f.includes('snapshot'))).toBe(true);

    const again = await startEngine({ dataDir: dir });
    const client2 = await new MongoClient(again.uri).connect();
    try {
      const coll2 = client2.db('rs').collection<{ _id: number; v: number; tag?: string }>('items');
      expect(await coll2.find().sort({ _id: 1 }).toArray()).toEqual(expected);
      expect(await client2.db('rs').collection('moved').countDocuments()).toBe(1);
      expect(await client2.db('rs').collection('tmp').countDocuments()).toBe(0);
      const dup = await coll2.updateOne({ _id: 8 }, { $set: { tag: 'seven' } }).catch((e: unknown) => e);
      expect((dup as { code?: number }).code).toBe(11000);
      const plan = await coll2.find({ tag: 'seven' }).explain('executionStats');
      expect(JSON.stringify(plan.queryPlanner.winningPlan)).toContain('tag_1');
    } finally {
      await client2.close();
      await again.close();
    }
  }, 60_000);

  test('when a second engine opens a directory in use, then it fails to start and the first keeps serving', async () => {
    const engine = await startEngine({ dataDir: dir });
    try {
      await expect(startEngine({ dataDir: dir })).rejects.toThrow();
      const client = await new MongoClient(engine.uri).connect();
      await client.db('rs').collection('x').insertOne({ a: 1 });
      await client.close();
    } finally {
      await engine.close();
    }
  });
});
