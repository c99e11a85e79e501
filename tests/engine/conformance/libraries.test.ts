// Conformance: the app's other database users (connect-mongo sessions, rate-limiter-flexible) work unmodified.
import { promisify } from 'node:util';
import MongoStore from 'connect-mongo';
import type { SessionData } from 'express-session';
import { MongoClient } from 'mongodb';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { connectClient, rejectionOf } from './support';

let database: TestDatabase;
let client: MongoClient;

beforeAll(async () => {
  database = await startTestDatabase('conf_libs');
  client = await connectClient(database);
});

afterAll(async () => {
  await client?.db(database.dbName).dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

test('when connect-mongo stores, reads, replaces and destroys a session, then each step is visible', async () => {
  const storeClient = await connectClient(database);
  const store = MongoStore.create({ client: storeClient, dbName: database.dbName, collectionName: 'sessions', ttl: 3600 });
  const get = promisify(store.get.bind(store)) as (sid: string) => Promise<SessionData | null | undefined>;
  const set = promisify(store.set.bind(store)) as (sid: string, data: SessionData) => Promise<void>;
  const destroy = promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>;
  const session = { cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) }, user: 'cán bộ 1' } as unknown as SessionData;
  try {
    await set('sid-1', session);
    expect(await get('sid-1')).toMatchObject({ user: 'cán bộ 1' });
    await set('sid-1', { ...session, user: 'cán bộ 2' } as SessionData);
    expect(await get('sid-1')).toMatchObject({ user: 'cán bộ 2' });
    expect(await client.db(database.dbName).collection('sessions').countDocuments()).toBe(1);
    const indexes = await client.db(database.dbName).collection('sessions').listIndexes().toArray();
    expect(indexes.find((index) => index.key.expires === 1)).toMatchObject({ expireAfterSeconds: 0 });
    await destroy('sid-1');
    expect(await get('sid-1')).toBeFalsy();
  } finally {
    await store.close();
  }
});

test('when rate-limiter-flexible consumes points past its limit, then it refuses, and a reset starts over', async () => {
  const limiter = new RateLimiterMongo({
    storeClient: client,
    dbName: database.dbName,
    tableName: 'rate_limits',
    points: 3,
    duration: 60,
  });
  const results = [];
  for (let i = 0; i < 3; i += 1) results.push(await limiter.consume('10.0.0.1'));
  expect(results.map((result) => result.remainingPoints)).toEqual([2, 1, 0]);
  const refused = await rejectionOf(limiter.consume('10.0.0.1'));
  expect(refused).toBeInstanceOf(RateLimiterRes);
  expect((refused as unknown as RateLimiterRes).remainingPoints).toBe(0);
  expect((await limiter.consume('10.0.0.2')).remainingPoints).toBe(2);
  await limiter.delete('10.0.0.1');
  expect((await limiter.consume('10.0.0.1')).remainingPoints).toBe(2);
});

test('when a rate-limit window has expired but its document is still there, then the next consume starts a new window', async () => {
  const limiter = new RateLimiterMongo({
    storeClient: client,
    dbName: database.dbName,
    tableName: 'rate_limits_expired',
    points: 2,
    duration: 60,
  });
  await limiter.consume('key-1', 2);
  const coll = client.db(database.dbName).collection('rate_limits_expired');
  const update = await coll.updateMany({}, { $set: { expire: new Date(Date.now() - 1000) } });
  expect(update.modifiedCount).toBe(1);
  const fresh = await limiter.consume('key-1');
  expect(fresh.remainingPoints).toBe(1);
  expect(await coll.countDocuments()).toBe(1);
});
