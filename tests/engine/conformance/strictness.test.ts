// Conformance: what the server refuses, with MongoDB's codes, and that bad input never takes the server down.
import { Socket } from 'node:net';
import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
import { startEngine } from '../../../src/engine';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { connectClient, embeddedOnly, isStandalone, rejectionOf, type LooseDoc } from './support';

let database: TestDatabase;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  database = await startTestDatabase('conf_strict');
  client = await connectClient(database);
  db = client.db(database.dbName);
  await db.collection<LooseDoc>('items').insertMany([{ _id: 1, name: 'text', list: 'not an array', n: 1 }]);
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

test('when an unknown command is sent, then the server answers CommandNotFound (59)', async () => {
  const error = await rejectionOf(db.command({ frobnicate: 1 }));
  expect(error).toBeInstanceOf(MongoServerError);
  expect(error.code).toBe(59);
  expect(error.codeName).toBe('CommandNotFound');
  expect(error.message).toContain('frobnicate');
});

test('when a query uses an unknown operator, then the server answers BadValue (2) naming it', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').find({ n: { $frob: 1 } }).toArray());
  expect(error.code).toBe(2);
  expect(error.message).toContain('$frob');
});

test('when a pipeline uses an unknown stage, then the server answers 40324 naming it', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').aggregate([{ $frob: {} }]).toArray());
  expect(error.code).toBe(40324);
  expect(error.message).toContain('$frob');
});

test('when an expression uses an unknown operator, then the server answers 168 InvalidPipelineOperator', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').aggregate([{ $project: { x: { $frob: 1 } } }]).toArray());
  expect(error.code).toBe(168);
});

test('when an update uses an unknown operator, then the server refuses it and the document stays', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').updateOne({ _id: 1 }, { $frob: { n: 1 } }));
  expect(error).toBeInstanceOf(MongoServerError);
  expect(error.code).toBe(9);
  expect(await db.collection<LooseDoc>('items').findOne({ _id: 1 })).toMatchObject({ n: 1 });
});

test('when $inc targets a string, then the update fails with TypeMismatch (14) and nothing changes', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').updateOne({ _id: 1 }, { $inc: { name: 1 } }));
  expect(error.code).toBe(14);
  expect(await db.collection<LooseDoc>('items').findOne({ _id: 1 })).toMatchObject({ name: 'text' });
});

test('when $push targets a non-array, then the update fails with BadValue (2) and nothing changes', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('items').updateOne({ _id: 1 }, { $push: { list: 1 } } as Document));
  expect(error.code).toBe(2);
  expect(await db.collection<LooseDoc>('items').findOne({ _id: 1 })).toMatchObject({ list: 'not an array' });
});

test('when $rename reads through an array, then the update fails with BadValue (2) and nothing changes', async () => {
  await db.collection<LooseDoc>('renames').insertOne({ _id: 1, a: [{ b: 1 }] });
  const error = await rejectionOf(db.collection<LooseDoc>('renames').updateOne({ _id: 1 }, { $rename: { 'a.b': 'c' } }));
  expect(error.code).toBe(2);
  expect(await db.collection<LooseDoc>('renames').findOne({ _id: 1 })).toEqual({ _id: 1, a: [{ b: 1 }] });
});

test('when a transaction is attempted on a standalone, then it fails with code 20 and nothing is written', async () => {
  if (!(await isStandalone(client))) {
    // A replica set or mongos runs the transaction; this check only describes a standalone server.
    expect(database.external).toBe(true);
    return;
  }
  const session = client.startSession();
  try {
    session.startTransaction();
    const readError = await rejectionOf(db.collection<LooseDoc>('tx').find({}, { session }).toArray());
    expect(readError.code).toBe(20);
    expect(readError.message).toContain('Transaction numbers are only allowed on a replica set member or mongos');
    await session.abortTransaction().catch(() => undefined);
    session.startTransaction();
    const writeError = await rejectionOf(db.collection<LooseDoc>('tx').insertOne({ a: 1 }, { session }));
    // The driver rewrites code 20 on writes into its "does not support retryable writes" error; the server's answer is kept.
    const original = (writeError.originalError ?? writeError) as { code?: number; message?: string };
    expect(original.code).toBe(20);
    expect(original.message).toContain('Transaction numbers are only allowed on a replica set member or mongos');
    await session.abortTransaction().catch(() => undefined);
  } finally {
    await session.endSession();
  }
  expect(await db.collection<LooseDoc>('tx').countDocuments()).toBe(0);
});

test('when an _id holds a $-prefixed field, then the server refuses the insert', async () => {
  const error = await rejectionOf(db.collection<LooseDoc>('ids').insertOne({ _id: { $bad: 1 } } as unknown as LooseDoc));
  expect(error).toBeInstanceOf(MongoServerError);
  expect(await db.collection<LooseDoc>('ids').countDocuments()).toBe(0);
});

describe('collation', () => {
  const caseInsensitive = { locale: 'en', strength: 2 };

  /** MongoDB's answer, or a server error: both are honest; the simple-collation answer is not. */
  async function answerOrRefusal<T>(operation: Promise<T>): Promise<T | 'refused'> {
    try {
      return await operation;
    } catch (error) {
      expect(error).toBeInstanceOf(MongoServerError);
      return 'refused';
    }
  }

  beforeAll(async () => {
    await db.collection<LooseDoc>('names').insertMany([{ n: 'a' }, { n: 'A' }, { n: 'b' }]);
  });

  test('when find asks for a case-insensitive collation, then it gets both spellings or an error, never one', async () => {
    const found = await answerOrRefusal(db.collection<LooseDoc>('names').find({ n: 'a' }, { collation: caseInsensitive }).toArray());
    if (found !== 'refused') expect(found.map((doc) => doc.n).sort()).toEqual(['A', 'a']);
  });

  test('when count and aggregate ask for a case-insensitive collation, then they count both spellings or refuse', async () => {
    const counted = await answerOrRefusal(db.collection<LooseDoc>('names').countDocuments({ n: 'a' }, { collation: caseInsensitive }));
    if (counted !== 'refused') expect(counted).toBe(2);
    const grouped = await answerOrRefusal(
      db.collection<LooseDoc>('names').aggregate([{ $match: { n: 'A' } }, { $count: 'n' }], { collation: caseInsensitive }).toArray(),
    );
    if (grouped !== 'refused') expect(grouped).toEqual([{ n: 2 }]);
  });

  test('when updateMany asks for a case-insensitive collation, then it updates both spellings or refuses and changes nothing', async () => {
    const updated = await answerOrRefusal(
      db.collection<LooseDoc>('names').updateMany({ n: 'a' }, { $set: { seen: true } }, { collation: caseInsensitive }),
    );
    const seen = await db.collection<LooseDoc>('names').countDocuments({ seen: true });
    expect(seen).toBe(updated === 'refused' ? 0 : 2);
  });
});

test('when a capped collection with max 2 gets 3 inserts, then only the newest 2 remain, or creating it is refused', async () => {
  let created = true;
  try {
    await db.createCollection('capped', { capped: true, size: 4096, max: 2 });
  } catch (error) {
    expect(error).toBeInstanceOf(MongoServerError);
    created = false;
  }
  if (!created) {
    expect(await db.listCollections({ name: 'capped' }).toArray()).toEqual([]);
    return;
  }
  const capped = db.collection<LooseDoc>('capped');
  for (const a of [1, 2, 3]) await capped.insertOne({ a });
  expect((await capped.find().toArray()).map((doc) => doc.a)).toEqual([2, 3]);
});

/** Sends raw bytes on a fresh socket and tells whether the server closed that connection within 5 s. */
async function serverClosesAfter(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('error', () => undefined);
    socket.connect(port, '127.0.0.1', () => socket.write(bytes));
  });
}

function messageHeader(length: number, opCode: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(1, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(opCode, 12);
  return header;
}

describe('malformed input', () => {
  embeddedOnly('when garbage bytes arrive on a connection, then that connection is closed with a log line and the server keeps serving', async () => {
    const logged: string[] = [];
    const record = (o: object, m?: string): void => {
      logged.push(`${m ?? ''} ${JSON.stringify(o)}`);
    };
    const engine = await startEngine({ dataDir: null, logger: { info: record, warn: record, error: record } });
    try {
      const port = Number(new URL(engine.uri).port);
      const garbage = Buffer.concat([messageHeader(16 + 8, 2013), Buffer.from([0, 0, 0, 0, 7, 0xff, 0xff, 0xff])]);
      expect(await serverClosesAfter(port, garbage)).toBe(true);
      expect(await serverClosesAfter(port, messageHeader(2_000_000_000, 2013))).toBe(true);
      expect(await serverClosesAfter(port, messageHeader(16, 9999))).toBe(true);
      const closings = logged.filter((line) => /clos/i.test(line));
      expect(closings.length).toBeGreaterThanOrEqual(3);
      const probe = new MongoClient(engine.uri);
      try {
        await probe.connect();
        expect(await probe.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      } finally {
        await probe.close();
      }
    } finally {
      await engine.close();
    }
  });
});
