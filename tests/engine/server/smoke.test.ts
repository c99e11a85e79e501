// Smoke test: the official driver and Mongoose connect to the embedded engine and do basic CRUD.
import { MongoClient, MongoServerError } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { startEngine, type RunningEngine } from '../../../src/engine';

let engine: RunningEngine;

beforeAll(async () => {
  engine = await startEngine({ dataDir: null });
});

afterAll(async () => {
  await engine.close();
});

describe('through the official mongodb driver', () => {
  let client: MongoClient;

  beforeAll(async () => {
    client = new MongoClient(engine.uri);
    await client.connect();
  });

  afterAll(async () => {
    await client.close();
  });

  test('when the driver connects, then ping answers ok and buildInfo reports 7.0.0', async () => {
    const db = client.db('smoke');
    expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
    const info = await db.admin().buildInfo();
    expect(info.version).toBe('7.0.0');
    expect(info.versionArray).toEqual([7, 0, 0, 0]);
  });

  test('when documents are inserted, then find, update, count and delete see them', async () => {
    const coll = client.db('smoke').collection('items');
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await coll.find({ n: { $gte: 2 } }, { projection: { _id: 0 } }).sort({ n: -1 }).toArray()).toEqual([{ n: 3 }, { n: 2 }]);
    const upd = await coll.updateOne({ n: 2 }, { $set: { tag: 'two' } });
    expect(upd.matchedCount).toBe(1);
    expect(upd.modifiedCount).toBe(1);
    expect(await coll.countDocuments({ tag: 'two' })).toBe(1);
    expect(await coll.estimatedDocumentCount()).toBe(3);
    expect((await coll.deleteMany({ n: { $lt: 3 } })).deletedCount).toBe(2);
    expect(await coll.countDocuments()).toBe(1);
  });

  test('when a unique index is violated, then the driver raises MongoServerError 11000', async () => {
    const coll = client.db('smoke').collection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ email: 'a@example.org' });
    const error = await coll.insertOne({ email: 'a@example.org' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect((error as MongoServerError).message).toBe(
      `E11000 duplicate key error collection: smoke.users index: email_1 dup key: { email: "a@example.org" }`,
    );
  });

  test('when more documents than one batch are read, then getMore returns them all', async () => {
    const coll = client.db('smoke').collection('many');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const all = await coll.find({}).batchSize(40).toArray();
    expect(all.map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });
});

describe('through Mongoose', () => {
  interface Person {
    name: string;
    email: string;
    age: number;
  }
  const PersonSchema = new Schema<Person>({
    name: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    age: { type: Number, default: 0 },
  });
  let conn: mongoose.Connection;

  beforeAll(async () => {
    conn = await mongoose.createConnection(engine.uri, { dbName: 'mongoose_smoke' }).asPromise();
  });

  afterAll(async () => {
    await conn.close();
  });

  test('when a model is used, then indexes are created and save/find/update/delete/count work', async () => {
    const Person = conn.model<Person>('Person', PersonSchema);
    await Person.init();
    const indexes = await Person.collection.indexes();
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'email_1']);

    await new Person({ name: 'An', email: 'an@example.org', age: 30 }).save();
    await Person.create({ name: 'Binh', email: 'binh@example.org', age: 40 });
    expect(await Person.countDocuments()).toBe(2);
    expect(await Person.estimatedDocumentCount()).toBe(2);

    const found = await Person.findOne({ email: 'binh@example.org' }).lean();
    expect(found?.name).toBe('Binh');

    await Person.updateOne({ email: 'an@example.org' }, { $inc: { age: 1 } });
    const updated = await Person.findOneAndUpdate({ email: 'an@example.org' }, { $set: { name: 'Ân' } }, { returnDocument: 'after' }).lean();
    expect(updated).toMatchObject({ name: 'Ân', age: 31 });

    const dup = await Person.create({ name: 'X', email: 'an@example.org' }).catch((e: unknown) => e);
    expect((dup as { code?: number }).code).toBe(11000);
    expect((dup as Error).name).toBe('MongoServerError');

    await Person.deleteOne({ email: 'binh@example.org' });
    expect(await Person.countDocuments()).toBe(1);
  });
});
