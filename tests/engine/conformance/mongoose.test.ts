// Conformance through Mongoose: schemas, validation, unique errors, populate, counts, timestamps, lean, sessions.
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import { MongoServerError } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { rejectionOf } from './support';

let database: TestDatabase;
let connection: Connection;

interface UnitDoc {
  code: string;
  name: string;
  province?: string;
}

interface CitizenDoc {
  email: string;
  name: string;
  age?: number;
  unit?: Types.ObjectId;
  tags: string[];
  createdAt?: Date;
  updatedAt?: Date;
}

const unitSchema = new Schema<UnitDoc>({
  code: { type: String, required: true, unique: true },
  name: { type: String, required: true },
  province: String,
});

const citizenSchema = new Schema<CitizenDoc>(
  {
    email: { type: String, required: true, unique: true, lowercase: true, trim: true },
    name: { type: String, required: true, minlength: 2 },
    age: { type: Number, min: 0, max: 150 },
    unit: { type: Schema.Types.ObjectId, ref: 'Unit' },
    tags: { type: [String], default: [] },
  },
  { timestamps: true },
);

beforeAll(async () => {
  database = await startTestDatabase('conf_mongoose');
  connection = await mongoose.createConnection(database.uri, { serverSelectionTimeoutMS: 10000 }).asPromise();
  const Unit = connection.model<UnitDoc>('Unit', unitSchema);
  const Citizen = connection.model<CitizenDoc>('Citizen', citizenSchema);
  await Promise.all([Unit.init(), Citizen.init()]);
});

afterAll(async () => {
  await connection?.dropDatabase().catch(() => undefined);
  await connection?.close();
  await database?.stop();
});

function models(): { Unit: mongoose.Model<UnitDoc>; Citizen: mongoose.Model<CitizenDoc> } {
  return { Unit: connection.model<UnitDoc>('Unit'), Citizen: connection.model<CitizenDoc>('Citizen') };
}

beforeEach(async () => {
  const { Unit, Citizen } = models();
  await Citizen.deleteMany({});
  await Unit.deleteMany({});
});

test('when a document is saved, then it reads back with casting, defaults and timestamps', async () => {
  const { Citizen } = models();
  const saved = await new Citizen({ email: '  AN@Example.VN ', name: 'An', age: '42' }).save();
  expect(saved._id).toBeInstanceOf(Types.ObjectId);
  const found = await Citizen.findById(saved._id).lean();
  expect(found).toMatchObject({ email: 'an@example.vn', name: 'An', age: 42, tags: [] });
  expect(found?.createdAt).toBeInstanceOf(Date);
  expect(found?.updatedAt).toBeInstanceOf(Date);
  expect(found?.createdAt?.getTime()).toBe(found?.updatedAt?.getTime());
});

test('when a document is updated, then updatedAt moves and createdAt stays', async () => {
  const { Citizen } = models();
  const saved = await Citizen.create({ email: 'b@x.vn', name: 'Bình' });
  const createdAt = saved.createdAt?.getTime();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await Citizen.updateOne({ _id: saved._id }, { $set: { name: 'Bình 2' } });
  const after = await Citizen.findById(saved._id).lean();
  expect(after?.name).toBe('Bình 2');
  expect(after?.createdAt?.getTime()).toBe(createdAt);
  expect((after?.updatedAt?.getTime() ?? 0) > (createdAt ?? 0)).toBe(true);
});

test('when validation fails, then save rejects with a ValidationError and nothing is written', async () => {
  const { Citizen } = models();
  const error = await rejectionOf(new Citizen({ email: 'c@x.vn', name: 'C', age: -1 }).save());
  expect(error).toBeInstanceOf(mongoose.Error.ValidationError);
  expect(Object.keys((error as unknown as mongoose.Error.ValidationError).errors).sort()).toEqual(['age', 'name']);
  expect(await Citizen.countDocuments()).toBe(0);
});

test('when save repeats a unique email, then Mongoose surfaces MongoServerError 11000 with keyValue', async () => {
  const { Citizen } = models();
  await Citizen.create({ email: 'dup@x.vn', name: 'First' });
  const error = await rejectionOf(new Citizen({ email: 'dup@x.vn', name: 'Second' }).save());
  expect(error).toBeInstanceOf(MongoServerError);
  expect(error.code).toBe(11000);
  expect(error.keyValue).toEqual({ email: 'dup@x.vn' });
  expect(error.message).toContain('index: email_1 dup key: { email: "dup@x.vn" }');
});

test('when updateOne or an upsert repeats a unique email, then Mongoose surfaces MongoServerError 11000', async () => {
  const { Citizen } = models();
  await Citizen.create([
    { email: 'one@x.vn', name: 'One' },
    { email: 'two@x.vn', name: 'Two' },
  ]);
  const updateError = await rejectionOf(Citizen.updateOne({ email: 'two@x.vn' }, { $set: { email: 'one@x.vn' } }));
  expect(updateError).toBeInstanceOf(MongoServerError);
  expect(updateError.code).toBe(11000);
  const upsertError = await rejectionOf(
    Citizen.findOneAndUpdate({ name: 'Three' }, { $set: { email: 'one@x.vn' } }, { upsert: true, returnDocument: 'after' }),
  );
  expect(upsertError).toBeInstanceOf(MongoServerError);
  expect(upsertError.code).toBe(11000);
  const insertManyError = await rejectionOf(
    Citizen.insertMany([{ email: 'four@x.vn', name: 'Four' }, { email: 'two@x.vn', name: 'Dup' }]),
  );
  expect(insertManyError.code).toBe(11000);
  expect(await Citizen.countDocuments()).toBe(3);
});

test('when a reference is populated, then Mongoose fetches the referenced documents', async () => {
  const { Unit, Citizen } = models();
  const [p1, p2] = await Unit.create([
    { code: 'P1', name: 'Phường 1' },
    { code: 'P2', name: 'Phường 2' },
  ]);
  await Citizen.create([
    { email: 'a@p.vn', name: 'Anh', unit: p1._id },
    { email: 'b@p.vn', name: 'Bảo', unit: p2._id },
    { email: 'c@p.vn', name: 'Chi', unit: p1._id },
  ]);
  const rows = await Citizen.find().sort({ email: 1 }).populate<{ unit: UnitDoc }>('unit', 'code name').lean();
  expect(rows.map((row) => [row.email, row.unit.code, row.unit.name])).toEqual([
    ['a@p.vn', 'P1', 'Phường 1'],
    ['b@p.vn', 'P2', 'Phường 2'],
    ['c@p.vn', 'P1', 'Phường 1'],
  ]);
});

test('when counting, then countDocuments filters and estimatedDocumentCount counts the collection', async () => {
  const { Citizen } = models();
  await Citizen.insertMany(
    Array.from({ length: 7 }, (_, i) => ({ email: `n${i}@x.vn`, name: `Name ${i}`, age: 20 + i })),
  );
  expect(await Citizen.countDocuments({ age: { $gte: 24 } })).toBe(3);
  expect(await Citizen.countDocuments()).toBe(7);
  expect(await Citizen.estimatedDocumentCount()).toBe(7);
});

test('when queries chain select, sort, skip, limit and lean, then plain objects come back', async () => {
  const { Citizen } = models();
  await Citizen.insertMany(
    Array.from({ length: 5 }, (_, i) => ({ email: `q${i}@x.vn`, name: `Q ${i}`, age: i, tags: i % 2 ? ['odd'] : [] })),
  );
  const rows = await Citizen.find({ age: { $lt: 5 } }).select('name age -_id').sort({ age: -1 }).skip(1).limit(2).lean();
  expect(rows).toEqual([
    { name: 'Q 3', age: 3 },
    { name: 'Q 2', age: 2 },
  ]);
  const odd = await Citizen.find({ tags: 'odd' }).lean();
  expect(odd.map((row) => row.age).sort()).toEqual([1, 3]);
  expect(await Citizen.exists({ email: 'q4@x.vn' })).not.toBeNull();
  expect(await Citizen.exists({ email: 'nobody@x.vn' })).toBeNull();
});

test('when a document is modified and saved again, then only the change is written', async () => {
  const { Citizen } = models();
  const doc = await Citizen.create({ email: 'm@x.vn', name: 'Minh', tags: ['a'] });
  doc.tags.push('b');
  doc.age = 30;
  await doc.save();
  const found = await Citizen.findOne({ email: 'm@x.vn' }).lean();
  expect(found).toMatchObject({ name: 'Minh', age: 30, tags: ['a', 'b'] });
  expect(found?.__v).toBe(1);
});

test('when aggregate and distinct run through a model, then the results are right', async () => {
  const { Citizen } = models();
  await Citizen.insertMany([
    { email: 'g1@x.vn', name: 'G1', age: 10, tags: ['x'] },
    { email: 'g2@x.vn', name: 'G2', age: 30, tags: ['x', 'y'] },
    { email: 'g3@x.vn', name: 'G3', age: 50, tags: ['y'] },
  ]);
  const groups = await Citizen.aggregate<{ _id: string; avgAge: number }>([
    { $unwind: '$tags' },
    { $group: { _id: '$tags', avgAge: { $avg: '$age' } } },
    { $sort: { _id: 1 } },
  ]);
  expect(groups).toEqual([
    { _id: 'x', avgAge: 20 },
    { _id: 'y', avgAge: 40 },
  ]);
  expect((await Citizen.distinct('tags')).sort()).toEqual(['x', 'y']);
});

test('when a pipeline update is sent with updatePipeline, then computed fields are stored', async () => {
  const { Citizen } = models();
  await Citizen.create({ email: 'p@x.vn', name: 'Phúc', age: 20 });
  await Citizen.updateOne({ email: 'p@x.vn' }, [{ $set: { age: { $add: ['$age', 5] } } }], { updatePipeline: true });
  expect((await Citizen.findOne({ email: 'p@x.vn' }).lean())?.age).toBe(25);
});

test('when findOneAndUpdate, findOneAndDelete and deleteMany run, then they return and remove what MongoDB does', async () => {
  const { Citizen } = models();
  await Citizen.create([
    { email: 'f1@x.vn', name: 'F1', age: 1 },
    { email: 'f2@x.vn', name: 'F2', age: 2 },
  ]);
  const updated = await Citizen.findOneAndUpdate({ email: 'f1@x.vn' }, { $inc: { age: 10 } }, { returnDocument: 'after' }).lean();
  expect(updated?.age).toBe(11);
  const removed = await Citizen.findOneAndDelete({}, { sort: { age: 1 } }).lean();
  expect(removed?.email).toBe('f2@x.vn');
  expect((await Citizen.deleteMany({})).deletedCount).toBe(1);
});

test('when a session is started and used without a transaction, then reads and writes work in it', async () => {
  const { Citizen } = models();
  const session = await connection.startSession();
  try {
    await Citizen.create([{ email: 's@x.vn', name: 'Sơn' }], { session });
    const found = await Citizen.findOne({ email: 's@x.vn' }).session(session).lean();
    expect(found?.name).toBe('Sơn');
  } finally {
    await session.endSession();
  }
});

test('when a query cursor is consumed with eachAsync, then every document arrives once across batches', async () => {
  const { Citizen } = models();
  await Citizen.insertMany(Array.from({ length: 140 }, (_, i) => ({ email: `c${i}@x.vn`, name: `C ${i}`, age: i })));
  const seen: number[] = [];
  await Citizen.find({ age: { $gte: 10 } }).sort({ age: 1 }).batchSize(50).lean().cursor().eachAsync((doc) => {
    seen.push(doc.age ?? -1);
  });
  expect(seen).toEqual(Array.from({ length: 130 }, (_, i) => i + 10));
  const grouped: number[] = [];
  for await (const row of Citizen.aggregate<{ _id: number; n: number }>([
    { $group: { _id: { $mod: ['$age', 3] }, n: { $sum: 1 } } },
    { $sort: { _id: 1 } },
  ]).cursor({ batchSize: 1 })) {
    grouped.push(row.n);
  }
  expect(grouped).toEqual([47, 47, 46]);
});

test('when Model.bulkWrite mixes operations and an upsert applies defaults, then the results are MongoDB\'s', async () => {
  const { Citizen } = models();
  await Citizen.create({ email: 'b1@x.vn', name: 'B1', age: 1 });
  const result = await Citizen.bulkWrite([
    { insertOne: { document: { email: 'b2@x.vn', name: 'B2', age: 2 } } },
    { updateOne: { filter: { email: 'b1@x.vn' }, update: { $inc: { age: 10 } } } },
    { updateOne: { filter: { email: 'b3@x.vn' }, update: { $set: { name: 'B3' } }, upsert: true } },
    { deleteOne: { filter: { email: 'b2@x.vn' } } },
  ]);
  expect({ inserted: result.insertedCount, modified: result.modifiedCount, upserted: result.upsertedCount, deleted: result.deletedCount }).toEqual({
    inserted: 1,
    modified: 1,
    upserted: 1,
    deleted: 1,
  });
  const upserted = await Citizen.findOne({ email: 'b3@x.vn' }).lean();
  expect(upserted).toMatchObject({ name: 'B3', tags: [] });
  expect(upserted?.createdAt).toBeInstanceOf(Date);
  expect((await Citizen.findOne({ email: 'b1@x.vn' }).lean())?.age).toBe(11);
});

test('when syncIndexes runs, then the schema indexes exist on the server', async () => {
  const { Citizen } = models();
  await Citizen.syncIndexes();
  const names = (await Citizen.listIndexes()).map((index) => index.name).sort();
  expect(names).toEqual(['_id_', 'email_1']);
});
