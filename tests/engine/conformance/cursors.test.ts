// Conformance: cursors across batches (find and aggregate), getMore, toArray and killCursors on early close.
import { Long, type Collection, type Db, type MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { connectClient, recordCommands, rejectionOf, type LooseDoc } from './support';

let database: TestDatabase;
let client: MongoClient;
let db: Db;
let coll: Collection<LooseDoc>;
let commands: ReturnType<typeof recordCommands>;

beforeAll(async () => {
  database = await startTestDatabase('conf_cursor');
  client = await connectClient(database, true);
  commands = recordCommands(client);
  db = client.db(database.dbName);
  coll = db.collection<LooseDoc>('eleven');
  await coll.insertMany(Array.from({ length: 11 }, (_, i) => ({ _id: i + 1, sq: (i + 1) * (i + 1) })));
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

beforeEach(() => {
  commands.events.length = 0;
});

test('when 11 documents are read with batchSize 2, then the driver needs five getMores and gets all in order', async () => {
  const docs = await coll.find({}, { batchSize: 2 }).sort({ _id: 1 }).toArray();
  expect(docs.map((doc) => doc._id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  expect(commands.names().filter((name) => name === 'find')).toHaveLength(1);
  expect(commands.names().filter((name) => name === 'getMore')).toHaveLength(5);
  expect(commands.names()).not.toContain('killCursors');
});

test('when the cursor is iterated one document at a time, then every batch boundary is crossed', async () => {
  const cursor = coll.find({ _id: { $gt: 4 } }, { batchSize: 2 }).sort({ _id: -1 });
  const seen: unknown[] = [];
  for await (const doc of cursor) seen.push(doc._id);
  expect(seen).toEqual([11, 10, 9, 8, 7, 6, 5]);
  expect(commands.names().filter((name) => name === 'getMore')).toHaveLength(3);
});

test('when the first batch holds everything, then the server closes the cursor itself (id 0)', async () => {
  const reply = await db.command({ find: 'eleven', filter: { _id: { $lte: 3 } }, batchSize: 5 });
  expect(reply.cursor.firstBatch).toHaveLength(3);
  expect(Long.fromValue(reply.cursor.id).isZero()).toBe(true);
  expect(reply.cursor.ns).toBe(`${database.dbName}.eleven`);
});

test('when a cursor is closed early, then the driver sends killCursors and a later getMore finds no cursor', async () => {
  const cursor = coll.find({}, { batchSize: 2 }).sort({ _id: 1 });
  expect((await cursor.next())?._id).toBe(1);
  expect((await cursor.next())?._id).toBe(2);
  expect((await cursor.next())?._id).toBe(3);
  const cursorId = cursor.id;
  expect(cursorId).toBeDefined();
  await cursor.close();
  const kill = commands.events.find((event) => event.commandName === 'killCursors');
  expect(kill).toBeDefined();
  expect(kill?.command.cursors.map((id: Long) => Long.fromValue(id).toString())).toEqual([String(cursorId)]);
  const error = await rejectionOf(db.command({ getMore: cursorId, collection: 'eleven', batchSize: 2 }));
  expect(error.code).toBe(43);
});

test('when killCursors is sent directly, then it reports the cursor as killed', async () => {
  const reply = await db.command({ find: 'eleven', filter: {}, batchSize: 1 });
  const id = reply.cursor.id;
  expect(Long.fromValue(id).isZero()).toBe(false);
  const killed = await db.command({ killCursors: 'eleven', cursors: [id] });
  expect(killed.ok).toBe(1);
  expect(killed.cursorsKilled.map((value: Long) => Long.fromValue(value).toString())).toEqual([Long.fromValue(id).toString()]);
});

test('when getMore is sent by hand, then each batch honours its batchSize and the last one has id 0', async () => {
  const first = await db.command({ find: 'eleven', filter: {}, sort: { _id: 1 }, batchSize: 4 });
  expect(first.cursor.firstBatch.map((doc: { _id: number }) => doc._id)).toEqual([1, 2, 3, 4]);
  const second = await db.command({ getMore: first.cursor.id, collection: 'eleven', batchSize: 5 });
  expect(second.cursor.nextBatch.map((doc: { _id: number }) => doc._id)).toEqual([5, 6, 7, 8, 9]);
  expect(Long.fromValue(second.cursor.id).toString()).toBe(Long.fromValue(first.cursor.id).toString());
  const third = await db.command({ getMore: first.cursor.id, collection: 'eleven', batchSize: 5 });
  expect(third.cursor.nextBatch.map((doc: { _id: number }) => doc._id)).toEqual([10, 11]);
  expect(Long.fromValue(third.cursor.id).isZero()).toBe(true);
});

test('when an aggregate cursor has batchSize 2, then its results also arrive over getMore', async () => {
  const docs = await coll
    .aggregate([{ $match: { sq: { $gt: 20 } } }, { $sort: { _id: 1 } }, { $project: { _id: 1 } }], { batchSize: 2 })
    .toArray();
  expect(docs).toEqual([5, 6, 7, 8, 9, 10, 11].map((id) => ({ _id: id })));
  expect(commands.names().filter((name) => name === 'getMore')).toHaveLength(3);
});

test('when find uses limit with a smaller batchSize, then no more than the limit is returned', async () => {
  const docs = await coll.find({}, { batchSize: 2, limit: 5 }).sort({ _id: 1 }).toArray();
  expect(docs.map((doc) => doc._id)).toEqual([1, 2, 3, 4, 5]);
});

test('when singleBatch is asked for, then the server answers one batch and closes the cursor', async () => {
  const reply = await db.command({ find: 'eleven', filter: {}, batchSize: 3, singleBatch: true });
  expect(reply.cursor.firstBatch).toHaveLength(3);
  expect(Long.fromValue(reply.cursor.id).isZero()).toBe(true);
});
