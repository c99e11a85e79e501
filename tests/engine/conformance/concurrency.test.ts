// Conformance: many clients writing at once lose no update and no insert.
import type { LooseDoc } from './support';
import { MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';

let database: TestDatabase;
let clients: MongoClient[] = [];

beforeAll(async () => {
  database = await startTestDatabase('conf_conc');
  clients = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const client = new MongoClient(database.uri, { maxPoolSize: 4 });
      await client.connect();
      return client;
    }),
  );
});

afterAll(async () => {
  await clients[0]?.db(database.dbName).dropDatabase().catch(() => undefined);
  await Promise.all(clients.map((client) => client.close()));
  await database?.stop();
});

test('when 10 clients each $inc one counter 200 times, then the total is exactly 2000', async () => {
  const counters = clients[0].db(database.dbName).collection<LooseDoc>('counters');
  await counters.insertOne({ _id: 'hits', n: 0 });
  await Promise.all(
    clients.map(async (client) => {
      const coll = client.db(database.dbName).collection<LooseDoc>('counters');
      for (let i = 0; i < 200; i += 1) {
        await coll.updateOne({ _id: 'hits' }, { $inc: { n: 1 } });
      }
    }),
  );
  expect(await counters.findOne({ _id: 'hits' })).toEqual({ _id: 'hits', n: 2000 });
}, 120000);

test('when 10 clients each insert 100 documents concurrently, then 1000 distinct documents exist', async () => {
  await Promise.all(
    clients.map(async (client, c) => {
      const coll = client.db(database.dbName).collection<LooseDoc>('rows');
      await Promise.all(Array.from({ length: 100 }, (_, i) => coll.insertOne({ c, i })));
    }),
  );
  const rows = clients[0].db(database.dbName).collection<LooseDoc>('rows');
  expect(await rows.countDocuments()).toBe(1000);
  const perClient = await rows.aggregate([{ $group: { _id: '$c', n: { $sum: 1 }, distinct: { $addToSet: '$i' } } }]).toArray();
  expect(perClient).toHaveLength(10);
  expect(perClient.every((group) => group.n === 100 && group.distinct.length === 100)).toBe(true);
}, 120000);

test('when concurrent upserts race on a unique key, then exactly one document is created', async () => {
  const coll = clients[0].db(database.dbName).collection<LooseDoc>('claims');
  await coll.createIndex({ key: 1 }, { unique: true });
  const outcomes = await Promise.allSettled(
    clients.map((client, c) =>
      client
        .db(database.dbName)
        .collection<LooseDoc>('claims')
        .updateOne({ key: 'k' }, { $setOnInsert: { owner: c }, $inc: { tries: 1 } }, { upsert: true }),
    ),
  );
  const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
  for (const failure of failures) {
    expect((failure as PromiseRejectedResult).reason).toMatchObject({ code: 11000 });
  }
  const docs = await coll.find({ key: 'k' }).toArray();
  expect(docs).toHaveLength(1);
  expect(docs[0].tries).toBe(10 - failures.length);
}, 60000);

test('when findOneAndUpdate hands out numbers concurrently, then no number is given twice', async () => {
  const seq = clients[0].db(database.dbName).collection<LooseDoc>('seq');
  await seq.insertOne({ _id: 'ticket', n: 0 });
  const taken = (
    await Promise.all(
      clients.map(async (client) => {
        const coll = client.db(database.dbName).collection<LooseDoc>('seq');
        const mine: number[] = [];
        for (let i = 0; i < 20; i += 1) {
          const doc = await coll.findOneAndUpdate({ _id: 'ticket' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
          mine.push(Number(doc?.n));
        }
        return mine;
      }),
    )
  ).flat();
  expect(new Set(taken).size).toBe(200);
  expect(Math.max(...taken)).toBe(200);
}, 120000);
