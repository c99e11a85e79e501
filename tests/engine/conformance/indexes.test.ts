// Conformance: unique, compound, sparse, partial and TTL indexes, and their use by queries (explain).
import { Double, Long, MongoClient, MongoServerError, type Collection, type Db, type Document } from 'mongodb';
import { startEngine } from '../../../src/engine';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { connectClient, embeddedOnly, planStages, rejectionOf, type LooseDoc } from './support';

let database: TestDatabase;
let client: MongoClient;
let db: Db;
let counter = 0;

function freshCollection(prefix = 'idx'): Collection<LooseDoc> {
  counter += 1;
  return db.collection<LooseDoc>(`${prefix}_${counter}`);
}

beforeAll(async () => {
  database = await startTestDatabase('conf_idx');
  client = await connectClient(database);
  db = client.db(database.dbName);
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

describe('unique indexes', () => {
  test('when a second document repeats a unique email, then E11000 names the collection, index and key', async () => {
    const coll = freshCollection('users');
    expect(await coll.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    await coll.insertOne({ email: 'a@b.c', name: 'first' });
    const error = await rejectionOf(coll.insertOne({ email: 'a@b.c', name: 'second' }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11000);
    expect(error.message).toBe(
      `E11000 duplicate key error collection: ${database.dbName}.${coll.collectionName} index: email_1 dup key: { email: "a@b.c" }`,
    );
    expect(error.keyPattern).toEqual({ email: 1 });
    expect(error.keyValue).toEqual({ email: 'a@b.c' });
    expect(await coll.countDocuments()).toBe(1);
  });

  test('when an update or an upsert would duplicate a unique key, then it fails with 11000 and changes nothing', async () => {
    const coll = freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertMany([{ _id: 1, email: 'x@y.z' }, { _id: 2, email: 'p@q.r' }]);
    const updateError = await rejectionOf(coll.updateOne({ _id: 2 }, { $set: { email: 'x@y.z' } }));
    expect(updateError.code).toBe(11000);
    expect(updateError.keyValue).toEqual({ email: 'x@y.z' });
    const upsertError = await rejectionOf(
      coll.updateOne({ _id: 3 }, { $set: { email: 'p@q.r' } }, { upsert: true }),
    );
    expect(upsertError.code).toBe(11000);
    const replaceError = await rejectionOf(coll.replaceOne({ _id: 1 }, { email: 'p@q.r' }));
    expect(replaceError.code).toBe(11000);
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 'x@y.z' },
      { _id: 2, email: 'p@q.r' },
    ]);
  });

  test('when a compound unique index is violated, then dup key lists every field of the key', async () => {
    const coll = freshCollection('codes');
    const name = await coll.createIndex({ unit: 1, code: 1 }, { unique: true });
    expect(name).toBe('unit_1_code_1');
    await coll.insertMany([{ unit: 'u1', code: 5 }, { unit: 'u2', code: 5 }, { unit: 'u1', code: 6 }]);
    const error = await rejectionOf(coll.insertOne({ unit: 'u1', code: 5 }));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(
      `E11000 duplicate key error collection: ${database.dbName}.${coll.collectionName} index: unit_1_code_1 dup key: { unit: "u1", code: 5 }`,
    );
    expect(error.keyPattern).toEqual({ unit: 1, code: 1 });
    expect(error.keyValue).toEqual({ unit: 'u1', code: 5 });
  });

  test('when documents lack the field of a non-sparse unique index, then the second one collides on null', async () => {
    const coll = freshCollection('plain');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ name: 'no email' });
    const error = await rejectionOf(coll.insertOne({ name: 'also none' }));
    expect(error.code).toBe(11000);
    expect(error.keyValue).toEqual({ email: null });
  });

  test('when the unique index is sparse, then many documents may lack the field but values stay unique', async () => {
    const coll = freshCollection('sparse');
    await coll.createIndex({ email: 1 }, { unique: true, sparse: true });
    await coll.insertMany([{ name: 'a' }, { name: 'b' }, { email: 'e@f.g' }]);
    expect((await rejectionOf(coll.insertOne({ email: 'e@f.g' }))).code).toBe(11000);
    expect(await coll.countDocuments()).toBe(3);
  });

  test('when the unique index is partial, then only documents matching its filter must be unique', async () => {
    const coll = freshCollection('partial');
    await coll.createIndex({ phone: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await coll.insertMany([
      { phone: '0901', active: false },
      { phone: '0901', active: false },
      { phone: '0901', active: true },
    ]);
    expect((await rejectionOf(coll.insertOne({ phone: '0901', active: true }))).code).toBe(11000);
    const toggle = await rejectionOf(coll.updateOne({ active: false }, { $set: { active: true } }));
    expect(toggle.code).toBe(11000);
    expect(await coll.countDocuments({ active: true })).toBe(1);
  });

  test('when a unique index is built over existing duplicates, then creating it fails and no index is left', async () => {
    const coll = freshCollection('late');
    await coll.insertMany([{ k: 1 }, { k: 1 }]);
    const error = await rejectionOf(coll.createIndex({ k: 1 }, { unique: true }));
    expect(error.code).toBe(11000);
    expect((await coll.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_']);
  });

  test('when the unique index is dropped, then duplicates are accepted again', async () => {
    const coll = freshCollection('dropped');
    await coll.createIndex({ k: 1 }, { unique: true });
    await coll.insertOne({ k: 1 });
    await coll.dropIndex('k_1');
    await coll.insertOne({ k: 1 });
    expect(await coll.countDocuments({ k: 1 })).toBe(2);
  });
});

describe('index definitions', () => {
  test('when indexes with options are created, then listIndexes returns them as given', async () => {
    const coll = freshCollection('defs');
    await coll.createIndexes([
      { key: { a: 1, b: -1 }, name: 'a_b' },
      { key: { s: 1 }, sparse: true },
      { key: { p: 1 }, partialFilterExpression: { p: { $exists: true } } },
      { key: { at: 1 }, expireAfterSeconds: 3600 },
    ]);
    const indexes = await coll.listIndexes().toArray();
    const byName = Object.fromEntries(indexes.map((index) => [index.name, index]));
    expect(Object.keys(byName).sort()).toEqual(['_id_', 'a_b', 'at_1', 'p_1', 's_1']);
    expect(byName.a_b).toMatchObject({ key: { a: 1, b: -1 }, v: 2 });
    expect(byName.s_1).toMatchObject({ key: { s: 1 }, sparse: true });
    expect(byName.p_1).toMatchObject({ key: { p: 1 }, partialFilterExpression: { p: { $exists: true } } });
    expect(byName.at_1).toMatchObject({ key: { at: 1 }, expireAfterSeconds: 3600 });
    expect(byName._id_).toMatchObject({ key: { _id: 1 } });
  });

  test('when the same index is created twice, then the second call is a no-op; with other options it conflicts', async () => {
    const coll = freshCollection('twice');
    await coll.createIndex({ k: 1 });
    await coll.createIndex({ k: 1 });
    expect((await coll.listIndexes().toArray()).length).toBe(2);
    const error = await rejectionOf(coll.createIndex({ k: 1 }, { unique: true }));
    expect([85, 86]).toContain(error.code);
  });

  test('when a missing index is dropped, then the server answers IndexNotFound (27)', async () => {
    const coll = freshCollection('missing');
    await coll.insertOne({ a: 1 });
    expect((await rejectionOf(coll.dropIndex('nope_1'))).code).toBe(27);
  });
});

describe('index use (explain)', () => {
  let coll: Collection<LooseDoc>;

  beforeAll(async () => {
    coll = freshCollection('explained');
    await coll.insertMany(
      Array.from({ length: 200 }, (_, n) => ({ code: `c${n}`, g: n % 10, t: n, tags: [`x${n % 7}`] })),
    );
    await coll.createIndex({ code: 1 }, { unique: true });
    await coll.createIndex({ g: 1, t: 1 });
    await coll.createIndex({ tags: 1 });
  });

  async function explain(filter: Document, sort?: Document): Promise<{ stages: string[]; stats: Document }> {
    const cursor = coll.find(filter);
    if (sort) cursor.sort(sort);
    const plan = await cursor.explain('executionStats');
    return { stages: planStages(plan.queryPlanner), stats: plan.executionStats as Document };
  }

  /** IXSCAN, or MongoDB 8's EXPRESS_IXSCAN for equality on a unique index. */
  function usesIndex(stages: string[]): boolean {
    return stages.some((stage) => stage.endsWith('IXSCAN'));
  }

  test('when querying a unique field by equality, then the plan is an index scan that examines one document', async () => {
    const { stages, stats } = await explain({ code: 'c42' });
    expect(usesIndex(stages)).toBe(true);
    expect(stages).not.toContain('COLLSCAN');
    expect(stats.nReturned).toBe(1);
    expect(stats.totalDocsExamined).toBe(1);
  });

  test('when querying a compound prefix plus a range on the next field, then only the matches are examined', async () => {
    const { stages, stats } = await explain({ g: 3, t: { $gte: 100 } });
    expect(usesIndex(stages)).toBe(true);
    expect(stats.nReturned).toBe(10);
    expect(stats.totalDocsExamined).toBe(10);
  });

  test('when querying a multikey field, then the index finds exactly the documents holding that element', async () => {
    const { stages, stats } = await explain({ tags: 'x3' });
    expect(usesIndex(stages)).toBe(true);
    const expected = Array.from({ length: 200 }, (_, n) => n).filter((n) => n % 7 === 3).length;
    expect(stats.nReturned).toBe(expected);
    expect(stats.totalDocsExamined).toBe(expected);
  });

  test('when the filter uses no index prefix, then the plan is a collection scan over every document', async () => {
    const { stages, stats } = await explain({ t: { $gte: 100 } });
    expect(stages).toContain('COLLSCAN');
    expect(usesIndex(stages)).toBe(false);
    expect(stats.nReturned).toBe(100);
    expect(stats.totalDocsExamined).toBe(200);
  });

  test('when the sort follows the index after an equality prefix, then no in-memory SORT stage is planned', async () => {
    const { stages, stats } = await explain({ g: 4 }, { t: -1 });
    expect(usesIndex(stages)).toBe(true);
    expect(stages).not.toContain('SORT');
    expect(stats.totalDocsExamined).toBe(20);
    const docs = await coll.find({ g: 4 }).sort({ t: -1 }).limit(3).toArray();
    expect(docs.map((doc) => doc.t)).toEqual([194, 184, 174]);
  });

  test('when results come from an index, then they are the same documents a scan returns', async () => {
    const viaIndex = await coll.find({ g: 3, t: { $gte: 100, $lt: 150 } }).sort({ t: 1 }).toArray();
    expect(viaIndex.map((doc) => doc.t)).toEqual([103, 113, 123, 133, 143]);
    const byCode = await coll.find({ code: { $in: ['c1', 'c199', 'nope'] } }).sort({ t: 1 }).toArray();
    expect(byCode.map((doc) => doc.t)).toEqual([1, 199]);
  });
});

describe('index keys', () => {
  test('when longs beyond 2^53 are indexed, then range and equality queries compare them exactly, as a scan does', async () => {
    const coll = freshCollection('longs');
    await coll.insertMany([
      { _id: 1, v: new Double(9007199254740992) },
      { _id: 2, v: Long.fromString('9007199254740993') },
      { _id: 3, v: Long.fromString('9007199254740995') },
      { _id: 4, v: 5 },
    ]);
    const ask = async (): Promise<unknown[][]> => [
      (await coll.find({ v: { $gt: new Double(9007199254740992) } }).sort({ _id: 1 }).toArray()).map((doc) => doc._id),
      (await coll.find({ v: Long.fromString('9007199254740993') }).toArray()).map((doc) => doc._id),
      (await coll.find({ v: { $gte: Long.fromString('9007199254740993'), $lt: Long.fromString('9007199254740995') } }).toArray()).map((doc) => doc._id),
    ];
    const expected = [[2, 3], [2], [2]];
    expect(await ask()).toEqual(expected);
    await coll.createIndex({ v: 1 });
    expect(await ask()).toEqual(expected);
  });
});

describe('TTL', () => {
  embeddedOnly('when a TTL index covers expired dates, then the reaper removes exactly those documents', async () => {
    const engine = await startEngine({ dataDir: null, ttlIntervalMs: 100 });
    const ttlClient = new MongoClient(engine.uri);
    try {
      await ttlClient.connect();
      const coll = ttlClient.db('ttl').collection<LooseDoc>('sessions');
      await coll.createIndex({ expires: 1 }, { expireAfterSeconds: 0 });
      await coll.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
      const now = Date.now();
      await coll.insertMany([
        { _id: 'expired', expires: new Date(now - 10_000) },
        { _id: 'old-at', at: new Date(now - 120_000) },
        { _id: 'array-min-expired', expires: [new Date(now + 3_600_000), new Date(now - 1_000)] },
        { _id: 'future', expires: new Date(now + 3_600_000) },
        { _id: 'recent-at', at: new Date(now - 1_000) },
        { _id: 'not-a-date', expires: 'yesterday' },
        { _id: 'missing' },
      ]);
      let remaining: unknown[] = [];
      for (let attempt = 0; attempt < 200; attempt += 1) {
        remaining = (await coll.find().sort({ _id: 1 }).toArray()).map((doc) => doc._id);
        if (remaining.length <= 4) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(remaining).toEqual(['future', 'missing', 'not-a-date', 'recent-at']);
    } finally {
      await ttlClient.close();
      await engine.close();
    }
  });
});
