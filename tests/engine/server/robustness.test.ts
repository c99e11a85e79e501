// Hostile or odd input through the driver: every command answers (an error at worst) and the server keeps serving.
import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
import { startEngine, type RunningEngine } from '../../../src/engine';

let engine: RunningEngine;
let client: MongoClient;
let db: Db;
const errors: object[] = [];

beforeAll(async () => {
  engine = await startEngine({
    dataDir: null,
    logger: { info: () => {}, warn: () => {}, error: (o) => errors.push(o) },
  });
  client = await new MongoClient(engine.uri).connect();
  db = client.db('robust');
  await db.collection('c').insertMany([{ _id: 1 as never, a: 1 }, { _id: 2 as never, a: 'x' }]);
});

afterAll(async () => {
  await client.close();
  await engine.close();
});

async function outcome(cmd: Document): Promise<{ ok: boolean; code?: number }> {
  try {
    await db.command(cmd);
    return { ok: true };
  } catch (error) {
    expect(error).toBeInstanceOf(MongoServerError);
    return { ok: false, code: Number((error as MongoServerError).code) };
  }
}

function nested(depth: number): Document {
  let filter: Document = { a: 1 };
  for (let i = 0; i < depth; i++) filter = { $and: [filter] };
  return filter;
}

test.each<[string, Document]>([
  ['a wrong-typed filter', { find: 'c', filter: 'nope' }],
  ['an unknown query operator', { find: 'c', filter: { a: { $frob: 1 } } }],
  ['an unknown update operator', { update: 'c', updates: [{ q: {}, u: { $frob: { a: 1 } } }] }],
  ['a non-array pipeline', { aggregate: 'c', pipeline: { $match: {} }, cursor: {} }],
  ['a wrong-typed cursor id', { getMore: 'abc', collection: 'c' }],
  ['a negative batchSize', { find: 'c', filter: {}, batchSize: -1 }],
  ['a bad sort direction', { find: 'c', filter: {}, sort: { a: 'sideways' } }],
  ['a number as collection name', { find: 5, filter: {} }],
  ['an empty insert', { insert: 'c', documents: [] }],
  ['a non-object document', { insert: 'c', documents: [5] }],
  ['a bad delete limit', { delete: 'c', deletes: [{ q: {}, limit: 7 }] }],
  ['a deeply nested filter', { find: 'c', filter: nested(2000) }],
  ['a __proto__ field', { insert: 'c', documents: [JSON.parse('{"__proto__": {"polluted": true}, "_id": 9}') as Document] }],
  ['a $where filter', { find: 'c', filter: { $where: 'true' } }],
  ['an explain of an unknown command', { explain: { frob: 'c' } }],
])('when a client sends %s, then it gets a reply and the server keeps working', async (_label, cmd) => {
  const before = errors.length;
  const res = await outcome(cmd);
  if (!res.ok) expect(res.code).not.toBe(1);
  expect(errors.length).toBe(before);
  expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('when $inc or $push hit the wrong type, then MongoDB codes come back', async () => {
  const inc = await db.command({ update: 'c', updates: [{ q: { _id: 2 }, u: { $inc: { a: 1 } } }] });
  expect(inc.writeErrors[0].code).toBe(14);
  const push = await db.command({ update: 'c', updates: [{ q: { _id: 1 }, u: { $push: { a: 1 } } }] });
  expect(push.writeErrors[0].code).toBe(2);
});

test('when a reply would exceed 16 MiB, then the command fails with code 10334 and the connection stays usable', async () => {
  const big = 'x'.repeat(1024 * 1024);
  await db.collection('huge').insertMany(Array.from({ length: 18 }, (_, i) => ({ _id: i as never, s: `${i}${big}` })));
  const error = await db.collection('huge').distinct('s').catch((e: unknown) => e);
  expect((error as MongoServerError).code).toBe(10334);
  expect(await db.collection('huge').countDocuments()).toBe(18);
  expect((await db.collection('huge').find({}).toArray()).length).toBe(18);
});
