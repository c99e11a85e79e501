// Command behaviour through the official driver: every command the engine answers, with MongoDB's replies and codes.
import { Long, MongoClient, type Collection, MongoServerError, ObjectId, type Db, type Document } from 'mongodb';
import { startEngine, type RunningEngine } from '../../../src/engine';

let engine: RunningEngine;
let client: MongoClient;
let db: Db;
let dbCounter = 0;

beforeAll(async () => {
  engine = await startEngine({ dataDir: null });
  client = await new MongoClient(engine.uri).connect();
});

afterAll(async () => {
  await client.close();
  await engine.close();
});

beforeEach(() => {
  dbCounter++;
  db = client.db(`cmd_${dbCounter}`);
});

interface AnyDoc {
  _id?: number | string | ObjectId;
  [key: string]: unknown;
}

function col(name: string): Collection<AnyDoc> {
  return db.collection<AnyDoc>(name);
}

async function commandError(cmd: Document, on: Db = db): Promise<MongoServerError> {
  const error = await on.command(cmd).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('administrative commands', () => {
  test('when listDatabases runs, then it lists databases holding collections, with nameOnly and filter', async () => {
    await col('a').insertOne({ x: 1 });
    const all = await client.db('admin').command({ listDatabases: 1 });
    expect(all.databases.map((d: Document) => d.name)).toContain(db.databaseName);
    expect(typeof all.totalSize).toBe('number');
    const named = await client.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { name: db.databaseName } });
    expect(named.databases).toEqual([{ name: db.databaseName }]);
  });

  test('when stats commands run, then they report counts and sizes', async () => {
    await col('s').insertMany([{ a: 1 }, { a: 2 }]);
    const coll = await db.command({ collStats: 's' });
    expect(coll).toMatchObject({ ns: `${db.databaseName}.s`, count: 2, nindexes: 1, ok: 1 });
    expect(coll.size).toBeGreaterThan(0);
    const stats = await db.command({ dbStats: 1 });
    expect(stats).toMatchObject({ db: db.databaseName, collections: 1, objects: 2, indexes: 1, ok: 1 });
    const server = await db.admin().serverStatus();
    expect(server.version).toBe('7.0.0');
    expect(server.connections.current).toBeGreaterThan(0);
    expect((await commandError({ collStats: 'missing' })).code).toBe(26);
  });

  test('when session and connection commands run, then they answer ok', async () => {
    expect(await db.command({ connectionStatus: 1 })).toMatchObject({ ok: 1, authInfo: { authenticatedUsers: [] } });
    expect((await db.command({ whatsmyuri: 1 })).you).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await db.command({ endSessions: [] })).toEqual({ ok: 1 });
    expect((await db.admin().command({ getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion).toEqual({ version: '7.0' });
    const session = client.startSession();
    await col('sess').insertOne({ a: 1 }, { session });
    await session.endSession();
  });

  test('when saslStart is attempted, then it fails with a clear authentication error', async () => {
    const error = await commandError({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: Buffer.from('') });
    expect(error.code).toBe(18);
    expect(error.message).toMatch(/not supported/);
  });

  test('when a command carries txnNumber, then it answers code 20 and writes nothing', async () => {
    const error = await commandError({ insert: 'txn', documents: [{ a: 1 }], txnNumber: Long.fromNumber(1), autocommit: false, startTransaction: true });
    expect(error.code).toBe(20);
    expect(error.message).toBe('Transaction numbers are only allowed on a replica set member or mongos');
    expect(await col('txn').countDocuments()).toBe(0);
  });

  test('when a transaction is used through a session, then the driver reports it as a standalone would and nothing is written', async () => {
    const session = client.startSession();
    const error = await session
      .withTransaction(async () => {
        await col('txn2').insertOne({ a: 1 }, { session });
      })
      .catch((e: unknown) => e);
    await session.endSession();
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as Error).message).toMatch(/does not support retryable writes/);
    expect(await col('txn2').countDocuments()).toBe(0);
  });
});

describe('collections', () => {
  test('when create runs twice, then the second answers NamespaceExists 48', async () => {
    await db.createCollection('c1');
    expect((await commandError({ create: 'c1' })).code).toBe(48);
  });

  test('when listCollections runs with a filter and nameOnly, then it returns matching collections', async () => {
    await db.createCollection('alpha');
    await db.createCollection('beta');
    const full = await db.listCollections({ name: 'alpha' }).toArray();
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ name: 'alpha', type: 'collection', options: {}, info: { readOnly: false } });
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    expect(names.map((c) => c.name).sort()).toEqual(['alpha', 'beta']);
  });

  test('when drop and dropDatabase run, then the data is gone', async () => {
    await col('d').insertOne({ a: 1 });
    expect(await col('d').drop()).toBe(true);
    expect(await db.listCollections().toArray()).toEqual([]);
    await col('e').insertOne({ a: 1 });
    await db.dropDatabase();
    expect(await col('e').countDocuments()).toBe(0);
    const dbs = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    expect(dbs.databases.map((d: Document) => d.name)).not.toContain(db.databaseName);
  });

  test('when a collection name is invalid, then it answers InvalidNamespace 73', async () => {
    expect((await commandError({ insert: 'bad$name', documents: [{ a: 1 }] })).code).toBe(73);
  });
});

describe('insert', () => {
  test('when an ordered insert hits a duplicate, then it stops there and reports the index', async () => {
    const res = await db.command({ insert: 'i', documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }], ordered: true });
    expect(res.n).toBe(1);
    expect(res.writeErrors).toHaveLength(1);
    expect(res.writeErrors[0]).toMatchObject({ index: 1, code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 1 } });
    expect(res.writeErrors[0].errmsg).toBe(`E11000 duplicate key error collection: ${db.databaseName}.i index: _id_ dup key: { _id: 1 }`);
    expect(await col('i').countDocuments()).toBe(1);
  });

  test('when an unordered insert hits duplicates, then the rest are inserted', async () => {
    const res = await db.command({ insert: 'u', documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }], ordered: false });
    expect(res.n).toBe(3);
    expect(res.writeErrors.map((e: Document) => e.index)).toEqual([1, 3]);
  });

  test('when _id is missing or not first, then it is generated or moved first', async () => {
    await col('ids').insertOne({ a: 1, _id: 'x' });
    const raw = await db.command({ find: 'ids', filter: {} });
    expect(Object.keys(raw.cursor.firstBatch[0])).toEqual(['_id', 'a']);
    await db.command({ insert: 'ids', documents: [{ b: 2 }] });
    const doc = await col('ids').findOne({ b: 2 });
    expect(doc?._id).toBeInstanceOf(ObjectId);
  });

  test('when _id is an array, then the insert fails with code 2', async () => {
    const res = await db.command({ insert: 'bad', documents: [{ _id: [1, 2] }] });
    expect(res.writeErrors[0].code).toBe(2);
  });

  test('when a document has a $-prefixed top-level field, then it is stored as MongoDB 5+ allows', async () => {
    const res = await db.command({ insert: 'dollar', documents: [{ _id: 1, $price: 5 }] });
    expect(res.n).toBe(1);
  });
});

describe('find and cursors', () => {
  beforeEach(async () => {
    await col('f').insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i, n: i % 10, s: `s${i}` })));
  });

  test('when find uses sort, skip, limit and projection, then the result matches', async () => {
    const docs = await col('f').find({ n: { $lt: 3 } }, { projection: { s: 1, _id: 0 } }).sort({ n: -1, _id: 1 }).skip(1).limit(4).toArray();
    expect(docs).toEqual([{ s: 's12' }, { s: 's22' }, { s: 's1' }, { s: 's11' }]);
  });

  test('when find has a negative limit, then one batch comes back and no cursor stays open', async () => {
    const res = await db.command({ find: 'f', filter: {}, limit: -5, batchSize: 2 });
    expect(res.cursor.firstBatch).toHaveLength(5);
    expect(Number(res.cursor.id)).toBe(0);
  });

  test('when singleBatch is set, then the cursor is closed after the first batch', async () => {
    const res = await db.command({ find: 'f', filter: {}, batchSize: 3, singleBatch: true });
    expect(res.cursor.firstBatch).toHaveLength(3);
    expect(Number(res.cursor.id)).toBe(0);
  });

  test('when getMore continues a cursor, then batches follow batchSize and the namespace is checked', async () => {
    const first = await db.command({ find: 'f', filter: {}, sort: { _id: 1 }, batchSize: 10 });
    expect(first.cursor.ns).toBe(`${db.databaseName}.f`);
    const id = first.cursor.id;
    const wrongNs = await commandError({ getMore: id, collection: 'other' });
    expect(wrongNs.code).toBe(13);
    const second = await db.command({ getMore: id, collection: 'f', batchSize: 15 });
    expect(second.cursor.nextBatch.map((d: Document) => d._id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 10));
    const third = await db.command({ getMore: id, collection: 'f' });
    expect(third.cursor.nextBatch).toHaveLength(5);
    expect(Number(third.cursor.id)).toBe(0);
    expect((await commandError({ getMore: id, collection: 'f' })).code).toBe(43);
  });

  test('when killCursors runs, then the cursor is gone', async () => {
    const first = await db.command({ find: 'f', filter: {}, batchSize: 2 });
    const killed = await db.command({ killCursors: 'f', cursors: [first.cursor.id, Long.fromNumber(12345)] });
    expect(killed.cursorsKilled.map(Number)).toEqual([Number(first.cursor.id)]);
    expect(killed.cursorsNotFound.map(Number)).toEqual([12345]);
    expect((await commandError({ getMore: first.cursor.id, collection: 'f' })).code).toBe(43);
  });

  test('when find uses let and $expr, then variables are visible', async () => {
    const docs = await col('f').find({ $expr: { $eq: ['$n', '$$target'] } }, { let: { target: 4 } }).toArray();
    expect(docs.map((d) => d._id)).toEqual([4, 14, 24]);
  });

  test('when a hint names a missing index, then find fails with code 2', async () => {
    const error = await col('f').find({}).hint('nope_1').toArray().catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(2);
  });

  test('when a returned document is modified by the client, then stored data does not change', async () => {
    const doc = await col('f').findOne({ _id: 1 });
    if (!doc) throw new Error('missing');
    doc.n = 999;
    expect((await col('f').findOne({ _id: 1 }))?.n).toBe(1);
  });

  test('when find runs on a missing collection, then it returns an empty batch', async () => {
    expect(await col('nothing').find({}).toArray()).toEqual([]);
  });
});

describe('update', () => {
  beforeEach(async () => {
    await col('u').insertMany([
      { _id: 1, a: 1, tags: ['x', 'y'], items: [{ k: 1, v: 1 }, { k: 2, v: 2 }] },
      { _id: 2, a: 2, tags: [], items: [] },
      { _id: 3, a: 3, s: 'text' },
    ]);
  });

  test('when multi is set, then nMatched and nModified count every changed document', async () => {
    const res = await db.command({ update: 'u', updates: [{ q: { a: { $gte: 2 } }, u: { $set: { b: 1 } }, multi: true }, { q: { _id: 2 }, u: { $set: { b: 1 } } }] });
    expect(res).toMatchObject({ n: 3, nModified: 2, ok: 1 });
  });

  test('when a replacement document is given, then the document is replaced keeping _id', async () => {
    await col('u').replaceOne({ _id: 1 }, { z: 9 });
    expect(await col('u').findOne({ _id: 1 })).toEqual({ _id: 1, z: 9 });
  });

  test('when upserts insert, then upserted lists each index and _id', async () => {
    const res = await db.command({
      update: 'u',
      updates: [
        { q: { _id: 1 }, u: { $set: { c: 1 } } },
        { q: { key: 'new' }, u: { $set: { v: 1 } }, upsert: true },
        { q: { _id: 50 }, u: { $inc: { v: 1 } }, upsert: true },
      ],
    });
    expect(res.n).toBe(3);
    expect(res.nModified).toBe(1);
    expect(res.upserted).toHaveLength(2);
    expect(res.upserted[0].index).toBe(1);
    expect(res.upserted[1]).toEqual({ index: 2, _id: 50 });
    expect(await col('u').findOne({ key: 'new' }, { projection: { _id: 0 } })).toEqual({ key: 'new', v: 1 });
    expect(await col('u').findOne({ _id: 50 })).toEqual({ _id: 50, v: 1 });
  });

  test('when $setOnInsert is used, then it applies only on insert', async () => {
    await col('u').updateOne({ _id: 1 }, { $set: { m: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    await col('u').updateOne({ _id: 60 }, { $set: { m: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect((await col('u').findOne({ _id: 1 }))?.created).toBeUndefined();
    expect((await col('u').findOne({ _id: 60 }))?.created).toBe(true);
  });

  test('when arrayFilters are given, then only matching elements change', async () => {
    await col('u').updateOne({ _id: 1 }, { $set: { 'items.$[el].v': 0 } }, { arrayFilters: [{ 'el.k': 2 }] });
    expect((await col('u').findOne({ _id: 1 }))?.items).toEqual([{ k: 1, v: 1 }, { k: 2, v: 0 }]);
  });

  test('when a pipeline update is given, then it computes from the document', async () => {
    await col('u').updateOne({ _id: 3 }, [{ $set: { double: { $multiply: ['$a', 2] } } }]);
    expect((await col('u').findOne({ _id: 3 }))?.double).toBe(6);
  });

  test('when $inc targets a string, then the write fails with code 14 and nothing changes', async () => {
    const res = await db.command({ update: 'u', updates: [{ q: { _id: 3 }, u: { $inc: { s: 1 } } }] });
    expect(res.writeErrors[0].code).toBe(14);
    expect((await col('u').findOne({ _id: 3 }))?.s).toBe('text');
  });

  test('when an update changes _id, then it fails with ImmutableField 66', async () => {
    const res = await db.command({ update: 'u', updates: [{ q: { _id: 3 }, u: { $set: { _id: 4 } } }] });
    expect(res.writeErrors[0].code).toBe(66);
  });

  test('when an update document mixes operators and fields, then it is rejected', async () => {
    const res = await db.command({ update: 'u', updates: [{ q: { _id: 3 }, u: { $set: { a: 1 }, b: 2 } }] });
    expect(res.writeErrors[0].code).toBe(9);
  });

  test('when nothing changes, then nModified is 0', async () => {
    const res = await col('u').updateOne({ _id: 1 }, { $set: { a: 1 } });
    expect(res.matchedCount).toBe(1);
    expect(res.modifiedCount).toBe(0);
  });
});

describe('delete', () => {
  test('when limit is 1 or 0, then one or all matching documents go', async () => {
    await col('d').insertMany([{ a: 1 }, { a: 1 }, { a: 1 }, { a: 2 }]);
    const one = await db.command({ delete: 'd', deletes: [{ q: { a: 1 }, limit: 1 }] });
    expect(one.n).toBe(1);
    const all = await db.command({ delete: 'd', deletes: [{ q: { a: 1 }, limit: 0 }] });
    expect(all.n).toBe(2);
    expect(await col('d').countDocuments()).toBe(1);
  });
});

describe('findAndModify', () => {
  beforeEach(async () => {
    await col('fm').insertMany([{ _id: 1, q: 5 }, { _id: 2, q: 7 }]);
  });

  test('when updating with sort and new, then the sorted first document is returned after the change', async () => {
    const res = await db.command({ findAndModify: 'fm', query: {}, sort: { q: -1 }, update: { $inc: { q: 1 } }, new: true, fields: { q: 1 } });
    expect(res.value).toEqual({ _id: 2, q: 8 });
    expect(res.lastErrorObject).toEqual({ n: 1, updatedExisting: true });
  });

  test('when removing, then the removed document is returned', async () => {
    const res = await db.command({ findAndModify: 'fm', query: { _id: 1 }, remove: true });
    expect(res.value).toEqual({ _id: 1, q: 5 });
    expect(res.lastErrorObject).toEqual({ n: 1 });
    expect(await col('fm').countDocuments()).toBe(1);
  });

  test('when upserting, then lastErrorObject carries upserted', async () => {
    const res = await db.command({ findAndModify: 'fm', query: { _id: 9 }, update: { $set: { q: 1 } }, upsert: true, new: true });
    expect(res.lastErrorObject).toEqual({ n: 1, updatedExisting: false, upserted: 9 });
    expect(res.value).toEqual({ _id: 9, q: 1 });
  });

  test('when nothing matches without upsert, then value is null', async () => {
    const res = await db.command({ findAndModify: 'fm', query: { _id: 99 }, update: { $set: { q: 1 } } });
    expect(res.value).toBeNull();
    expect(res.lastErrorObject).toEqual({ n: 0, updatedExisting: false });
  });

  test('when both remove and update are given, then it is rejected', async () => {
    expect((await commandError({ findAndModify: 'fm', query: {}, remove: true, update: { $set: { a: 1 } } })).code).toBe(9);
  });
});

describe('count, distinct and aggregate', () => {
  beforeEach(async () => {
    await col('g').insertMany([
      { _id: 1, k: 'a', v: 1, arr: [1, 2] },
      { _id: 2, k: 'b', v: 2, arr: [2, 3] },
      { _id: 3, k: 'a', v: 3 },
    ]);
  });

  test('when count has query, skip and limit, then n follows them', async () => {
    expect((await db.command({ count: 'g' })).n).toBe(3);
    expect((await db.command({ count: 'g', query: { k: 'a' } })).n).toBe(2);
    expect((await db.command({ count: 'g', skip: 1, limit: 1 })).n).toBe(1);
    expect((await db.command({ count: 'missing' })).n).toBe(0);
  });

  test('when distinct runs, then values are unique, sorted and arrays are unwound', async () => {
    expect(await col('g').distinct('k')).toEqual(['a', 'b']);
    expect(await col('g').distinct('arr')).toEqual([1, 2, 3]);
    expect(await col('g').distinct('v', { k: 'a' })).toEqual([1, 3]);
  });

  test('when aggregate runs with a small batchSize, then getMore returns the rest', async () => {
    const cursor = col('g').aggregate([{ $sort: { _id: 1 } }, { $project: { v: 1 } }], { batchSize: 1 });
    expect(await cursor.toArray()).toEqual([{ _id: 1, v: 1 }, { _id: 2, v: 2 }, { _id: 3, v: 3 }]);
  });

  test('when aggregate lacks a cursor option, then it answers code 9', async () => {
    expect((await commandError({ aggregate: 'g', pipeline: [] })).code).toBe(9);
  });

  test('when an unknown stage is used, then the error names it', async () => {
    const error = await commandError({ aggregate: 'g', pipeline: [{ $frob: {} }], cursor: {} });
    expect(error.message).toMatch(/\$frob/);
  });

  test('when $lookup joins another collection, then matches are embedded', async () => {
    await col('names').insertMany([{ _id: 'a', label: 'Alpha' }]);
    const docs = await col('g').aggregate([{ $match: { _id: 1 } }, { $lookup: { from: 'names', localField: 'k', foreignField: '_id', as: 'n' } }]).toArray();
    expect(docs[0].n).toEqual([{ _id: 'a', label: 'Alpha' }]);
  });

  test('when countDocuments and $group run, then they count like MongoDB', async () => {
    expect(await col('g').countDocuments({ k: 'a' })).toBe(2);
    const groups = await col('g').aggregate([{ $group: { _id: '$k', total: { $sum: '$v' } } }, { $sort: { _id: 1 } }]).toArray();
    expect(groups).toEqual([{ _id: 'a', total: 4 }, { _id: 'b', total: 2 }]);
  });

  test('when $out targets a collection, then it is replaced as a whole and keeps its indexes', async () => {
    await col('out').insertOne({ _id: 'old' });
    await col('out').createIndex({ k: 1 });
    await col('g').aggregate([{ $match: { k: 'a' } }, { $project: { k: 1 } }, { $out: 'out' }]).toArray();
    expect(await col('out').find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, k: 'a' }, { _id: 3, k: 'a' }]);
    expect((await col('out').indexes()).map((i) => i.name)).toEqual(['_id_', 'k_1']);
  });

  test('when $out would create duplicate keys, then the target is left unchanged', async () => {
    await col('out2').insertOne({ _id: 'keep' });
    const error = await col('g').aggregate([{ $project: { _id: 'same' } }, { $out: 'out2' }]).toArray().catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(11000);
    expect(await col('out2').find().toArray()).toEqual([{ _id: 'keep' }]);
  });

  test('when $merge uses whenMatched/whenNotMatched modes, then the target follows them', async () => {
    const target = col('m');
    await target.insertMany([{ _id: 1, old: true, v: 0 }, { _id: 9, untouched: true }]);
    await col('g').aggregate([{ $project: { v: 1 } }, { $merge: { into: 'm' } }]).toArray();
    expect(await target.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, old: true, v: 1 },
      { _id: 2, v: 2 },
      { _id: 3, v: 3 },
      { _id: 9, untouched: true },
    ]);
    await col('g').aggregate([{ $project: { k: 1 } }, { $merge: { into: 'm', whenMatched: 'replace', whenNotMatched: 'discard' } }]).toArray();
    expect(await target.findOne({ _id: 1 })).toEqual({ _id: 1, k: 'a' });
    await col('g').aggregate([{ $project: { v: 1 } }, { $merge: { into: 'm', whenMatched: 'keepExisting' } }]).toArray();
    expect(await target.findOne({ _id: 1 })).toEqual({ _id: 1, k: 'a' });
    await col('g').aggregate([
      { $project: { v: 1 } },
      { $merge: { into: 'm', whenMatched: [{ $set: { v: { $add: [{ $ifNull: ['$v', 10] }, '$$new.v'] } } }] } },
    ]).toArray();
    expect((await target.findOne({ _id: 2 }))?.v).toBe(12);
    const failed = await col('g').aggregate([{ $merge: { into: 'm', whenMatched: 'fail' } }]).toArray().catch((e: unknown) => e);
    expect((failed as MongoServerError).code).toBe(11000);
    const notMatched = await col('g').aggregate([{ $project: { _id: { $add: ['$_id', 100] } } }, { $merge: { into: 'm', whenNotMatched: 'fail' } }]).toArray().catch((e: unknown) => e);
    expect((notMatched as MongoServerError).code).toBe(13113);
  });

  test('when $merge matches on a non-_id field, then it needs a unique index on it', async () => {
    const error = await col('g').aggregate([{ $merge: { into: 'byk', on: 'k' } }]).toArray().catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(51183);
    await col('byk').createIndex({ k: 1 }, { unique: true });
    await col('byk').insertOne({ k: 'a', seen: true });
    await col('g').aggregate([{ $match: { _id: 2 } }, { $project: { _id: 0, k: 1, v: 1 } }, { $merge: { into: 'byk', on: 'k' } }]).toArray();
    await col('g').aggregate([{ $match: { _id: 1 } }, { $project: { _id: 0, k: 1, v: 1 } }, { $merge: { into: 'byk', on: 'k' } }]).toArray();
    const docs = await col('byk').find({}, { projection: { _id: 0 } }).sort({ k: 1 }).toArray();
    expect(docs).toEqual([{ k: 'a', seen: true, v: 1 }, { k: 'b', v: 2 }]);
  });
});

describe('command options', () => {
  test('when let holds expressions, then each is evaluated once before the command runs', async () => {
    await col('letc').insertOne({ _id: 1, bar: 'B' });
    const [doc] = await col('letc')
      .aggregate([{ $project: { _id: 0, x: '$$x', y: '$$y', r: { $type: '$$rand' } } }], { let: { x: 'foo', y: { $literal: '$bar' }, rand: { $rand: {} } } })
      .toArray();
    expect(doc).toEqual({ x: 'foo', y: '$bar', r: 'double' });
    await col('letc').updateMany({ $expr: { $eq: ['$_id', '$$id'] } }, [{ $set: { y: '$$y' } }], { let: { id: 1, y: { $toUpper: 'bar' } } });
    expect((await col('letc').findOne({ _id: 1 }))?.y).toBe('BAR');
  });

  test('when a database aggregate starts with $documents, then those documents feed the pipeline and $merge', async () => {
    await col('docsrc').insertOne({ _id: 2, x: 0 });
    const docs = await db.aggregate([{ $documents: [{ a: 1 }, { a: 2 }] }, { $match: { a: 2 } }]).toArray();
    expect(docs).toEqual([{ a: 2 }]);
    const error = await db.aggregate([{ $documents: [{ _id: 2, x: 1 }] }, { $merge: { into: 'docsrc', whenMatched: 'fail' } }]).toArray().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 2 } });
  });

  test('when $listLocalSessions runs, then the caller session is listed', async () => {
    await db.command({ ping: 1 });
    const docs = await db.aggregate([{ $listLocalSessions: {} }, { $limit: 1 }, { $project: { _id: 0, dummy: 'x' } }]).toArray();
    expect(docs).toEqual([{ dummy: 'x' }]);
  });

  test('when an update statement carries an unknown field, then the command fails with 40415 and changes nothing', async () => {
    await col('unknown').insertOne({ _id: 1, a: 1 });
    const error = await commandError({ update: 'unknown', updates: [{ q: { _id: 1 }, u: { $set: { a: 2 } }, sort: { a: 1 } }] });
    expect(error.code).toBe(40415);
    expect((await col('unknown').findOne({ _id: 1 }))?.a).toBe(1);
  });
});

describe('document validation', () => {
  test('when a validator is set by create or collMod, then failing writes get code 121 with errInfo', async () => {
    await db.createCollection('v', { validator: { x: { $type: 'string' } } });
    const ins = await db.command({ insert: 'v', documents: [{ _id: 1, x: 'ok' }, { _id: 2, x: 5 }] });
    expect(ins.n).toBe(1);
    expect(ins.writeErrors[0]).toMatchObject({ index: 1, code: 121, errmsg: 'Document failed validation', errInfo: { failingDocumentId: 2 } });
    const fam = await commandError({ findAndModify: 'v', query: { _id: 1 }, update: { $set: { x: 1 } } });
    expect(fam.code).toBe(121);
    expect(fam.errInfo).toMatchObject({ failingDocumentId: 1 });
    await db.command({ insert: 'v', documents: [{ _id: 3, x: 7 }], bypassDocumentValidation: true });
    await db.command({ collMod: 'v', validationLevel: 'moderate' });
    await col('v').updateOne({ _id: 3 }, { $set: { y: 1 } });
    await db.command({ collMod: 'v', validator: {} });
    await col('v').insertOne({ _id: 4, x: 4 });
    expect(await col('v').countDocuments()).toBe(3);
  });

  test('when collMod changes a TTL index, then the reply shows old and new values and listIndexes follows', async () => {
    await col('ttlmod').createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    const res = await db.command({ collMod: 'ttlmod', index: { keyPattern: { at: 1 }, expireAfterSeconds: 120 } });
    expect(res).toMatchObject({ expireAfterSeconds_old: 60, expireAfterSeconds_new: 120, ok: 1 });
    expect((await col('ttlmod').indexes()).find((i) => i.name === 'at_1')?.expireAfterSeconds).toBe(120);
  });
});

describe('projections', () => {
  test('when find projects with the positional operator, then the first matching element is returned', async () => {
    await col('pos').insertOne({ _id: 1, items: [{ k: 1 }, { k: 2 }, { k: 3 }] });
    const doc = await col('pos').findOne({ 'items.k': { $gte: 2 } }, { projection: { 'items.$': 1 } });
    expect(doc).toEqual({ _id: 1, items: [{ k: 2 }] });
  });
});

describe('unsupported options are refused, not ignored', () => {
  test('when a non-simple collation is requested, then reads, writes and DDL fail with code 238 and nothing changes', async () => {
    await col('coll8').insertMany([{ n: 'a' }, { n: 'A' }]);
    const collation = { locale: 'en', strength: 2 };
    expect((await commandError({ find: 'coll8', filter: { n: 'a' }, collation })).code).toBe(238);
    expect((await commandError({ count: 'coll8', query: { n: 'a' }, collation })).code).toBe(238);
    expect((await commandError({ aggregate: 'coll8', pipeline: [], cursor: {}, collation })).code).toBe(238);
    expect((await commandError({ update: 'coll8', updates: [{ q: { n: 'a' }, u: { $set: { x: 1 } }, multi: true, collation }] })).code).toBe(238);
    expect((await commandError({ createIndexes: 'coll8', indexes: [{ key: { n: 1 }, name: 'n_1', collation }] })).code).toBe(238);
    expect((await commandError({ create: 'coll9', collation })).code).toBe(238);
    expect(await col('coll8').countDocuments({ x: 1 })).toBe(0);
    expect(await col('coll8').find({ n: 'a' }, { collation: { locale: 'simple' } }).toArray()).toHaveLength(1);
  });

  test('when a capped collection or a text index is requested, then it is refused', async () => {
    expect((await commandError({ create: 'capped', capped: true, size: 4096, max: 2 })).code).toBe(238);
    expect((await db.listCollections({ name: 'capped' }).toArray())).toEqual([]);
    expect((await commandError({ createIndexes: 'txt', indexes: [{ key: { t: 'text' }, name: 't_text' }] })).code).toBe(67);
  });

  test('when returnKey is set, then the index keys come back instead of documents', async () => {
    await col('rk').insertMany([{ _id: 1, a: 5, b: 1 }, { _id: 2, a: 6, b: 2 }]);
    await col('rk').createIndex({ a: 1 });
    expect(await col('rk').find({ a: 5 }, { returnKey: true }).toArray()).toEqual([{ a: 5 }]);
    expect(await col('rk').find({ b: 2 }, { returnKey: true }).toArray()).toEqual([{}]);
  });
});

describe('views', () => {
  test('when a view is defined, then reads see its pipeline and writes are refused with code 166', async () => {
    await col('src').insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 3 }]);
    await db.createCollection('big', { viewOn: 'src', pipeline: [{ $match: { a: { $gt: 1 } } }] });
    await db.createCollection('bigger', { viewOn: 'big', pipeline: [{ $set: { b: { $multiply: ['$a', 10] } } }] });
    expect(await col('big').estimatedDocumentCount()).toBe(2);
    expect(await col('big').countDocuments({ a: 3 })).toBe(1);
    expect(await col('bigger').find({}, { sort: { a: -1 } }).toArray()).toEqual([{ _id: 3, a: 3, b: 30 }, { _id: 2, a: 2, b: 20 }]);
    expect(await col('big').distinct('a')).toEqual([2, 3]);
    expect(await col('bigger').aggregate([{ $group: { _id: null, s: { $sum: '$b' } } }]).toArray()).toEqual([{ _id: null, s: 50 }]);
    const infos = await db.listCollections({ name: 'big' }).toArray();
    expect(infos[0]).toMatchObject({ name: 'big', type: 'view', options: { viewOn: 'src' } });
    expect((await commandError({ insert: 'big', documents: [{ a: 9 }] })).code).toBe(166);
    expect((await commandError({ update: 'big', updates: [{ q: {}, u: { $set: { a: 0 } } }] })).code).toBe(166);
    expect((await commandError({ createIndexes: 'big', indexes: [{ key: { a: 1 }, name: 'a_1' }] })).code).toBe(166);
    await col('src').insertOne({ _id: 4, a: 4 });
    expect(await col('big').countDocuments()).toBe(3);
    await col('big').drop();
    expect((await db.listCollections({ name: 'big' }).toArray())).toEqual([]);
  });
});

describe('stored documents are never changed by reads', () => {
  test('when pipelines rewrite nested fields and arrays, then the stored documents stay as they were', async () => {
    await col('imm').insertOne({ _id: 1, nested: { a: 1 }, arr: [{ k: 1 }, { k: 2 }] });
    await col('imm').aggregate([{ $set: { 'nested.a': 99, 'nested.b': 2 } }, { $unwind: '$arr' }, { $set: { 'arr.k': 0 } }]).toArray();
    await col('imm').aggregate([{ $lookup: { from: 'imm', localField: '_id', foreignField: '_id', as: 'self' } }, { $set: { 'self.nested.a': 5 } }]).toArray();
    await col('imm').find({}, { projection: { 'nested.a': 1 } }).toArray();
    expect(await col('imm').findOne({ _id: 1 })).toEqual({ _id: 1, nested: { a: 1 }, arr: [{ k: 1 }, { k: 2 }] });
  });
});

describe('renameCollection', () => {
  test('when a collection is renamed, then documents and indexes move and dropTarget replaces an existing target', async () => {
    await col('r1').insertMany([{ _id: 1, k: 'a' }, { _id: 2, k: 'b' }]);
    await col('r1').createIndex({ k: 1 }, { unique: true });
    await col('r1').rename('r2');
    expect(await col('r2').countDocuments()).toBe(2);
    expect((await col('r2').indexes()).map((i) => i.name)).toEqual(['_id_', 'k_1']);
    expect(await col('r1').countDocuments()).toBe(0);
    await col('r3').insertOne({ _id: 9 });
    const exists = await col('r2').rename('r3').catch((e: unknown) => e);
    expect((exists as MongoServerError).code).toBe(48);
    await col('r2').rename('r3', { dropTarget: true });
    expect((await col('r3').find().toArray()).map((d) => d._id)).toEqual([1, 2]);
    const missing = await col('nothing').rename('r4').catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(26);
  });
});
