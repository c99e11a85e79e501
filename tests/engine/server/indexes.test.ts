// Indexes through the driver: uniqueness (E11000), sparse/partial/TTL options, spec conflicts, and index use in plans.
import { MongoClient, MongoServerError, ObjectId, type Collection, type Db, type Document } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { startEngine, type RunningEngine } from '../../../src/engine';

interface AnyDoc {
  _id?: number | string | ObjectId;
  [key: string]: unknown;
}

let engine: RunningEngine;
let client: MongoClient;
let db: Db;
let counter = 0;

beforeAll(async () => {
  engine = await startEngine({ dataDir: null, ttlIntervalMs: 50 });
  client = await new MongoClient(engine.uri).connect();
});

afterAll(async () => {
  await client.close();
  await engine.close();
});

beforeEach(() => {
  counter++;
  db = client.db(`idx_${counter}`);
});

function col(name: string): Collection<AnyDoc> {
  return db.collection<AnyDoc>(name);
}

async function failure(p: Promise<unknown>): Promise<MongoServerError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

/** The IXSCAN/COLLSCAN/IDHACK stage of a winning plan, wherever it sits. */
function accessStage(plan: Document): Document {
  let node: Document | undefined = plan;
  while (node) {
    if (['IXSCAN', 'COLLSCAN', 'IDHACK'].includes(node.stage as string)) return node;
    node = node.inputStage as Document | undefined;
  }
  throw new Error(`no access stage in ${JSON.stringify(plan)}`);
}

function stageNames(plan: Document): string[] {
  const out: string[] = [];
  let node: Document | undefined = plan;
  while (node) {
    out.push(node.stage as string);
    node = node.inputStage as Document | undefined;
  }
  return out;
}

describe('unique indexes', () => {
  test('when an insert, update or upsert duplicates a unique key, then E11000 comes with keyPattern and keyValue', async () => {
    const c = col('u');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ _id: 1, email: 'a@x.vn' }, { _id: 2, email: 'b@x.vn' }]);
    const msg = `E11000 duplicate key error collection: ${db.databaseName}.u index: email_1 dup key: { email: "a@x.vn" }`;

    const ins = await failure(c.insertOne({ email: 'a@x.vn' }));
    expect(ins.code).toBe(11000);
    expect(ins.message).toBe(msg);
    expect(ins.keyPattern).toEqual({ email: 1 });
    expect(ins.keyValue).toEqual({ email: 'a@x.vn' });

    const upd = await failure(c.updateOne({ _id: 2 }, { $set: { email: 'a@x.vn' } }));
    expect(upd.code).toBe(11000);
    expect(upd.message).toBe(msg);
    expect((await c.findOne({ _id: 2 }))?.email).toBe('b@x.vn');

    const ups = await failure(c.updateOne({ _id: 3 }, { $set: { email: 'a@x.vn' } }, { upsert: true }));
    expect(ups.code).toBe(11000);
    expect(await c.countDocuments()).toBe(2);

    const fam = await failure(c.findOneAndUpdate({ _id: 2 }, { $set: { email: 'a@x.vn' } }));
    expect(fam.code).toBe(11000);
  });

  test('when a compound unique key repeats, then the message lists every field in MongoDB notation', async () => {
    const c = col('cu');
    await c.createIndex({ unit: 1, day: -1 }, { unique: true, name: 'unit_day' });
    const day = new Date(Date.UTC(2026, 0, 2));
    const unit = new ObjectId('64b7f0c2a1b2c3d4e5f60718');
    await c.insertOne({ unit, day, n: 1 });
    const e = await failure(c.insertOne({ unit, day, n: 2 }));
    expect(e.message).toBe(
      `E11000 duplicate key error collection: ${db.databaseName}.cu index: unit_day dup key: { unit: ObjectId('64b7f0c2a1b2c3d4e5f60718'), day: new Date(${day.getTime()}) }`,
    );
    await c.insertOne({ unit, day: new Date(day.getTime() + 1), n: 3 });
  });

  test('when documents miss a unique field, then a plain unique index sees null duplicates but a sparse one does not', async () => {
    await col('plain').createIndex({ code: 1 }, { unique: true });
    await col('plain').insertOne({ a: 1 });
    const e = await failure(col('plain').insertOne({ a: 2 }));
    expect(e.message).toMatch(/dup key: \{ code: null \}$/);

    await col('sparse').createIndex({ code: 1 }, { unique: true, sparse: true });
    await col('sparse').insertMany([{ a: 1 }, { a: 2 }, { code: 'x' }]);
    await failure(col('sparse').insertOne({ code: 'x' }));
  });

  test('when a unique index has a partialFilterExpression, then only covered documents must be unique', async () => {
    const c = col('partial');
    await c.createIndex({ phone: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await c.insertMany([{ phone: '1', active: false }, { phone: '1', active: false }, { phone: '1', active: true }]);
    await failure(c.insertOne({ phone: '1', active: true }));
    expect(await c.countDocuments({ phone: '1' })).toBe(3);
    const covered = await c.find({ phone: '1', active: true }).explain('executionStats');
    expect(JSON.stringify(covered.queryPlanner.winningPlan)).toContain('phone_1');
    expect(covered.executionStats.nReturned).toBe(1);
    const uncovered = await c.find({ phone: '1' }).explain('executionStats');
    expect(JSON.stringify(uncovered.queryPlanner.winningPlan)).toContain('COLLSCAN');
    expect(uncovered.executionStats.nReturned).toBe(3);
  });

  test('when a unique index is built over duplicate data, then it fails and is not created', async () => {
    const c = col('build');
    await c.insertMany([{ k: 1 }, { k: 1 }]);
    const e = await failure(c.createIndex({ k: 1 }, { unique: true }));
    expect(e.code).toBe(11000);
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
  });

  test('when array elements repeat across documents, then the multikey unique index rejects them', async () => {
    const c = col('multi');
    await c.createIndex({ tags: 1 }, { unique: true });
    await c.insertOne({ tags: ['a', 'b', 'a'] });
    const e = await failure(c.insertOne({ tags: ['c', 'b'] }));
    expect(e.keyValue).toEqual({ tags: 'b' });
  });

  test('when Mongoose saves a duplicate, then it surfaces MongoServerError code 11000', async () => {
    const conn = await mongoose.createConnection(engine.uri, { dbName: db.databaseName }).asPromise();
    try {
      const User = conn.model('User', new Schema({ login: { type: String, unique: true } }));
      await User.init();
      await User.create({ login: 'lan' });
      const e = await User.create({ login: 'lan' }).catch((err: unknown) => err);
      expect((e as Error).name).toBe('MongoServerError');
      expect((e as MongoServerError).code).toBe(11000);
      expect((e as MongoServerError).keyValue).toEqual({ login: 'lan' });
    } finally {
      await conn.close();
    }
  });
});

describe('index specs', () => {
  test('when the same index is created twice, then the second is a no-op', async () => {
    const c = col('same');
    await c.createIndex({ a: 1 }, { unique: true });
    const res = await db.command({ createIndexes: 'same', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] });
    expect(res).toMatchObject({ numIndexesBefore: 2, numIndexesAfter: 2, note: 'all indexes already exist', ok: 1 });
  });

  test('when specs conflict, then codes 85 and 86 come back', async () => {
    const c = col('conflict');
    await c.createIndex({ a: 1 }, { name: 'a_idx' });
    expect((await failure(c.createIndex({ b: 1 }, { name: 'a_idx' }))).code).toBe(86);
    expect((await failure(c.createIndex({ a: 1 }, { name: 'other' }))).code).toBe(85);
    expect((await failure(c.createIndex({ a: 1 }, { name: 'a_idx', unique: true }))).code).toBe(85);
  });

  test('when key patterns are invalid, then createIndexes fails with code 67', async () => {
    expect((await failure(col('bad').createIndex({ a: 0 } as unknown as Document))).code).toBe(67);
    expect((await failure(db.command({ createIndexes: 'bad', indexes: [{ key: {}, name: 'x' }] }))).code).toBe(67);
    expect((await failure(col('bad').createIndex({ a: 1, b: 1 }, { expireAfterSeconds: 5 }))).code).toBe(67);
  });

  test('when dropIndexes names an index, a key pattern or "*", then those indexes go', async () => {
    const c = col('drop');
    await c.createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: -1 } }]);
    await c.dropIndex('a_1');
    await db.command({ dropIndexes: 'drop', index: { b: 1 } });
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'c_-1']);
    expect((await failure(c.dropIndex('zzz'))).code).toBe(27);
    await c.dropIndexes();
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
    expect((await failure(c.dropIndex('_id_'))).code).toBe(72);
  });

  test('when listIndexes runs on a missing collection, then it answers NamespaceNotFound', async () => {
    expect((await failure(db.command({ listIndexes: 'none' }))).code).toBe(26);
  });
});

describe('TTL', () => {
  test('when a TTL date has passed, then the reaper removes the document and leaves the others', async () => {
    const c = col('ttl');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([
      { _id: 'old', expiresAt: new Date(Date.now() - 60_000) },
      { _id: 'oldArray', expiresAt: [new Date(Date.now() + 600_000), new Date(Date.now() - 60_000)] },
      { _id: 'future', expiresAt: new Date(Date.now() + 600_000) },
      { _id: 'notADate', expiresAt: 'yesterday' },
      { _id: 'missing' },
    ]);
    for (let i = 0; i < 100 && (await c.countDocuments()) > 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['future', 'missing', 'notADate']);
  });
});

describe('index use', () => {
  beforeEach(async () => {
    const docs: AnyDoc[] = [];
    for (let i = 0; i < 500; i++) {
      docs.push({ _id: i, unit: `u${i % 10}`, score: i % 50, createdAt: new Date(Date.UTC(2026, 0, 1) + i * 3600_000), tags: [`t${i % 7}`, `t${(i + 1) % 7}`] });
    }
    await col('p').insertMany(docs);
    await col('p').createIndex({ unit: 1, createdAt: -1 });
    await col('p').createIndex({ score: 1 });
    await col('p').createIndex({ tags: 1 });
  });

  async function explain(filter: Document, options: { sort?: Document; limit?: number } = {}): Promise<Document> {
    let cursor = col('p').find(filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.explain('executionStats');
  }

  test('when filtering by _id, then the plan is IDHACK and one document is examined', async () => {
    const plan = await explain({ _id: 42 });
    expect(accessStage(plan.queryPlanner.winningPlan).stage).toBe('IDHACK');
    expect(plan.executionStats.totalDocsExamined).toBe(1);
  });

  test('when filtering by equality on an indexed field, then the plan is IXSCAN examining only matches', async () => {
    const plan = await explain({ score: 7 });
    const stage = accessStage(plan.queryPlanner.winningPlan);
    expect(stage).toMatchObject({ stage: 'IXSCAN', indexName: 'score_1' });
    expect(plan.executionStats.nReturned).toBe(10);
    expect(plan.executionStats.totalKeysExamined).toBe(10);
    expect(plan.executionStats.totalDocsExamined).toBe(10);
  });

  test('when filtering by a compound prefix and a range on the next field, then only that range is scanned', async () => {
    const from = new Date(Date.UTC(2026, 0, 5));
    const to = new Date(Date.UTC(2026, 0, 10));
    const filter = { unit: 'u3', createdAt: { $gte: from, $lt: to } };
    const plan = await explain(filter);
    expect(accessStage(plan.queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', indexName: 'unit_1_createdAt_-1' });
    const expected = await col('p').countDocuments(filter);
    expect(expected).toBeGreaterThan(0);
    expect(plan.executionStats.nReturned).toBe(expected);
    expect(plan.executionStats.totalDocsExamined).toBe(expected);
  });

  test('when a sort follows the index and a limit is set, then no SORT stage runs and only the limit is read', async () => {
    const plan = await explain({ unit: 'u1' }, { sort: { createdAt: -1 }, limit: 5 });
    expect(stageNames(plan.queryPlanner.winningPlan)).not.toContain('SORT');
    expect(plan.executionStats.totalDocsExamined).toBe(5);
    const docs = await col('p').find({ unit: 'u1' }).sort({ createdAt: -1 }).limit(5).toArray();
    expect(docs.map((d) => d._id)).toEqual([491, 481, 471, 461, 451]);
    const asc = await col('p').find({ unit: 'u1' }).sort({ createdAt: 1 }).limit(3).toArray();
    expect(asc.map((d) => d._id)).toEqual([1, 11, 21]);
  });

  test('when sorting by _id descending with a limit, then the _id index is walked backwards', async () => {
    const plan = await explain({}, { sort: { _id: -1 }, limit: 3 });
    expect(accessStage(plan.queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', indexName: '_id_', direction: 'backward' });
    expect(plan.executionStats.totalDocsExamined).toBe(3);
  });

  test('when no index applies, then the plan is a COLLSCAN', async () => {
    const plan = await explain({ nothing: 1 });
    expect(accessStage(plan.queryPlanner.winningPlan).stage).toBe('COLLSCAN');
    expect(plan.executionStats.totalDocsExamined).toBe(500);
  });

  test('when filtering a multikey field, then the index finds each document once', async () => {
    const plan = await explain({ tags: 't3' });
    expect(accessStage(plan.queryPlanner.winningPlan)).toMatchObject({ stage: 'IXSCAN', isMultiKey: true });
    const docs = await col('p').find({ tags: 't3' }).toArray();
    expect(docs.length).toBe(new Set(docs.map((d) => d._id)).size);
    expect(docs.length).toBe(Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 7 === 3 || (i + 1) % 7 === 3).length);
  });

  test('when every $or branch can use an index, then the plan is a union of index scans', async () => {
    const plan = await explain({ $or: [{ score: 7 }, { unit: 'u3', createdAt: { $lt: new Date(Date.UTC(2026, 0, 3)) } }] });
    expect(JSON.stringify(plan.queryPlanner.winningPlan)).toContain('"stage":"OR"');
    expect(plan.executionStats.totalDocsExamined).toBeLessThan(100);
    const fallback = await explain({ $or: [{ score: 7 }, { nothing: 1 }] });
    expect(accessStage(fallback.queryPlanner.winningPlan).stage).toBe('COLLSCAN');
  });

  test('when aggregate starts with $match on an indexed field, then explain shows the index', async () => {
    const plan = await col('p').aggregate([{ $match: { score: 3 } }, { $group: { _id: null, n: { $sum: 1 } } }]).explain();
    expect(JSON.stringify(plan)).toContain('score_1');
    const [res] = await col('p').aggregate([{ $match: { score: 3 } }, { $group: { _id: null, n: { $sum: 1 } } }]).toArray();
    expect(res.n).toBe(10);
  });
});

describe('index answers equal a full scan', () => {
  test('when random range and equality queries run, then indexed and unindexed collections agree', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const values = (): unknown => {
      switch (rand(8)) {
        case 0: return null;
        case 1: return undefined;
        case 2: return `s${rand(20)}`;
        case 3: return rand(40) - 20 + (rand(2) ? 0.5 : 0);
        case 4: return new Date(Date.UTC(2026, 0, 1 + rand(30)));
        case 5: return [rand(20), rand(20)];
        case 6: return rand(2) === 0;
        default: return rand(40) - 20;
      }
    };
    const docs: AnyDoc[] = [];
    for (let i = 0; i < 400; i++) {
      const d: AnyDoc = { _id: i, g: rand(4) };
      const a = values();
      const b = values();
      if (a !== undefined) d.a = a;
      if (b !== undefined) d.b = b;
      docs.push(d);
    }
    await col('indexed').insertMany(docs);
    await col('plain').insertMany(docs);
    await col('indexed').createIndex({ a: 1 });
    await col('indexed').createIndex({ g: 1, b: -1 });
    const queries: Document[] = [
      { a: { $gt: 3 } }, { a: { $gte: -5, $lt: 5 } }, { a: { $lte: 0 } }, { a: null }, { a: 's3' },
      { a: { $in: [1, 's1', null] } }, { a: { $gt: 's5' } }, { a: { $lt: new Date(Date.UTC(2026, 0, 10)) } },
      { g: 2, b: { $gt: 0 } }, { g: { $in: [1, 3] }, b: { $lte: 10 } }, { g: 0 }, { g: 1, b: null },
      { g: 3, b: { $gte: 's2', $lt: 's9' } }, { a: { $gt: 5, $lt: 10 } }, { a: true }, { g: 2, b: { $lt: 5, $gt: -5 } },
      { $or: [{ a: 3 }, { g: 1, b: { $gt: 2 } }, { _id: { $in: [5, 7] } }] }, { $or: [{ a: null }, { a: { $gte: 's3' } }] },
      { $or: [{ a: 1 }, { nothing: 1 }] }, { g: 2, $or: [{ a: { $lt: 0 } }, { b: 's4' }] },
    ];
    const sorts: Array<Document | undefined> = [undefined, { a: 1 }, { a: -1, _id: 1 }, { b: -1, _id: 1 }, { g: 1, b: -1 }];
    for (const q of queries) {
      for (const sort of sorts) {
        const ids = async (name: string): Promise<unknown[]> => {
          let cursor = col(name).find(q);
          if (sort) cursor = cursor.sort({ ...sort, _id: 1 });
          else cursor = cursor.sort({ _id: 1 });
          return (await cursor.toArray()).map((d) => d._id);
        };
        const withIndex = await ids('indexed');
        const withoutIndex = await ids('plain');
        expect({ q, sort, ids: withIndex }).toEqual({ q, sort, ids: withoutIndex });
      }
      const limited = async (name: string): Promise<unknown[]> => (await col(name).find(q).sort({ g: 1, b: -1 }).limit(7).toArray()).map((d) => d._id);
      expect({ q, ids: await limited('indexed') }).toEqual({ q, ids: await limited('plain') });
    }
  });
});
