// Conformance: each aggregation stage the app relies on, with results computed by hand.
import type { Collection, Db, Document, MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { connectClient, rejectionOf, type LooseDoc } from './support';

let database: TestDatabase;
let client: MongoClient;
let db: Db;
let sales: Collection<LooseDoc>;

const salesDocs = [
  { _id: 1, unit: 'A', item: 'pen', qty: 2, price: 10, tags: ['blue', 'cheap'] },
  { _id: 2, unit: 'A', item: 'ink', qty: 5, price: 20, tags: ['blue'] },
  { _id: 3, unit: 'B', item: 'pen', qty: 1, price: 10, tags: [] },
  { _id: 4, unit: 'B', item: 'pad', qty: 4, price: 5 },
  { _id: 5, unit: 'C', item: 'pen', qty: 3, price: 12, tags: ['red', 'cheap', 'blue'] },
];

async function run(pipeline: Document[], coll: Collection<LooseDoc> = sales): Promise<Document[]> {
  return coll.aggregate(pipeline).toArray();
}

beforeAll(async () => {
  database = await startTestDatabase('conf_agg');
  client = await connectClient(database);
  db = client.db(database.dbName);
  sales = db.collection<LooseDoc>('sales');
  await sales.insertMany(salesDocs);
  await db.collection<LooseDoc>('units').insertMany([
    { _id: 'A', name: 'Phường 1', province: 'HN' },
    { _id: 'B', name: 'Phường 2', province: 'HN' },
    { _id: 'D', name: 'Phường 4', province: 'HCM' },
  ]);
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

test('when $match and $project run, then only matching documents with the projected and computed fields return', async () => {
  const docs = await run([
    { $match: { item: 'pen', qty: { $gte: 2 } } },
    { $project: { _id: 0, unit: 1, total: { $multiply: ['$qty', '$price'] } } },
    { $sort: { unit: 1 } },
  ]);
  expect(docs).toEqual([
    { unit: 'A', total: 20 },
    { unit: 'C', total: 36 },
  ]);
});

test('when $addFields, $set and $unset run, then fields are added, nested and removed without touching others', async () => {
  const docs = await run([
    { $match: { _id: 1 } },
    { $addFields: { total: { $multiply: ['$qty', '$price'] } } },
    { $set: { 'meta.source': 'x', tagCount: { $size: '$tags' } } },
    { $unset: ['tags', 'price'] },
  ]);
  expect(docs).toEqual([{ _id: 1, unit: 'A', item: 'pen', qty: 2, total: 20, meta: { source: 'x' }, tagCount: 2 }]);
  const original = await sales.findOne({ _id: 1 });
  expect(original).toEqual(salesDocs[0]);
});

test('when $group uses every accumulator, then each result is what MongoDB computes', async () => {
  const docs = await run([
    { $sort: { _id: 1 } },
    {
      $group: {
        _id: '$item',
        sum: { $sum: '$qty' },
        ones: { $sum: 1 },
        avg: { $avg: '$price' },
        min: { $min: '$qty' },
        max: { $max: '$qty' },
        pushed: { $push: '$unit' },
        set: { $addToSet: '$price' },
        first: { $first: '$_id' },
        last: { $last: '$_id' },
        count: { $count: {} },
      },
    },
    { $sort: { _id: 1 } },
  ]);
  expect(docs.map((doc) => ({ ...doc, set: [...(doc.set as number[])].sort((a, b) => a - b) }))).toEqual([
    { _id: 'ink', sum: 5, ones: 1, avg: 20, min: 5, max: 5, pushed: ['A'], set: [20], first: 2, last: 2, count: 1 },
    { _id: 'pad', sum: 4, ones: 1, avg: 5, min: 4, max: 4, pushed: ['B'], set: [5], first: 4, last: 4, count: 1 },
    {
      _id: 'pen',
      sum: 6,
      ones: 3,
      avg: 32 / 3,
      min: 1,
      max: 3,
      pushed: ['A', 'B', 'C'],
      set: [10, 12],
      first: 1,
      last: 5,
      count: 3,
    },
  ]);
});

test('when $group has _id null or a compound key, then it groups the whole input or by both fields', async () => {
  expect(await run([{ $group: { _id: null, qty: { $sum: '$qty' }, avgQty: { $avg: '$qty' } } }])).toEqual([
    { _id: null, qty: 15, avgQty: 3 },
  ]);
  const compound = await run([
    { $group: { _id: { unit: '$unit', cheap: { $gt: ['$price', 10] } }, n: { $sum: 1 } } },
    { $sort: { '_id.unit': 1, '_id.cheap': 1 } },
  ]);
  expect(compound).toEqual([
    { _id: { unit: 'A', cheap: false }, n: 1 },
    { _id: { unit: 'A', cheap: true }, n: 1 },
    { _id: { unit: 'B', cheap: false }, n: 2 },
    { _id: { unit: 'C', cheap: true }, n: 1 },
  ]);
});

test('when $sum and $avg meet missing or non-numeric values, then they ignore them', async () => {
  const docs = await run([{ $group: { _id: null, s: { $sum: '$tags' }, a: { $avg: '$missing' }, m: { $max: '$missing' } } }]);
  expect(docs).toEqual([{ _id: null, s: 0, a: null, m: null }]);
});

test('when $sort, $skip and $limit run, then they page like find', async () => {
  const docs = await run([{ $sort: { price: -1, _id: 1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { _id: 1 } }]);
  expect(docs).toEqual([{ _id: 5 }, { _id: 1 }]);
});

test('when $count runs, then it returns one document with the count, or nothing for no input', async () => {
  expect(await run([{ $match: { item: 'pen' } }, { $count: 'pens' }])).toEqual([{ pens: 3 }]);
  expect(await run([{ $match: { item: 'none' } }, { $count: 'pens' }])).toEqual([]);
});

test('when $facet runs, then each sub-pipeline sees the same input', async () => {
  const docs = await run([
    {
      $facet: {
        byUnit: [{ $group: { _id: '$unit', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
        total: [{ $count: 'n' }],
        top: [{ $sort: { qty: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }],
      },
    },
  ]);
  expect(docs).toEqual([
    {
      byUnit: [
        { _id: 'A', n: 2 },
        { _id: 'B', n: 2 },
        { _id: 'C', n: 1 },
      ],
      total: [{ n: 5 }],
      top: [{ _id: 2 }],
    },
  ]);
});

test('when $bucket runs, then values fall in [lower, upper) buckets, empty buckets are omitted and the rest go to default', async () => {
  const docs = await run([
    {
      $bucket: {
        groupBy: '$price',
        boundaries: [0, 10, 12, 15, 100],
        default: 'other',
        output: { n: { $sum: 1 }, ids: { $push: '$_id' } },
      },
    },
  ]);
  expect(docs).toEqual([
    { _id: 0, n: 1, ids: [4] },
    { _id: 10, n: 2, ids: [1, 3] },
    { _id: 12, n: 1, ids: [5] },
    { _id: 15, n: 1, ids: [2] },
  ]);
  const withDefault = await run([{ $bucket: { groupBy: '$qty', boundaries: [2, 4], default: 'other' } }]);
  expect(withDefault).toEqual([
    { _id: 2, count: 2 },
    { _id: 'other', count: 3 },
  ]);
});

test('when $bucket meets a value outside the boundaries and no default, then the aggregation fails', async () => {
  const error = await rejectionOf(run([{ $bucket: { groupBy: '$qty', boundaries: [2, 4] } }]));
  expect(typeof error.code).toBe('number');
});

test('when $unwind runs plain, with an index and preserving empties, then it emits the MongoDB rows', async () => {
  const plain = await run([{ $match: { _id: { $in: [1, 3, 4] } } }, { $unwind: '$tags' }, { $project: { tags: 1 } }]);
  expect(plain).toEqual([
    { _id: 1, tags: 'blue' },
    { _id: 1, tags: 'cheap' },
  ]);
  const preserved = await run([
    { $match: { _id: { $in: [1, 3, 4] } } },
    { $sort: { _id: 1 } },
    { $unwind: { path: '$tags', includeArrayIndex: 'i', preserveNullAndEmptyArrays: true } },
    { $project: { tags: 1, i: 1 } },
  ]);
  expect(preserved).toEqual([
    { _id: 1, tags: 'blue', i: 0 },
    { _id: 1, tags: 'cheap', i: 1 },
    { _id: 3, i: null },
    { _id: 4, i: null },
  ]);
});

test('when $lookup uses localField/foreignField, then matching documents are joined as an array', async () => {
  const docs = await run([
    { $sort: { _id: 1 } },
    { $lookup: { from: 'units', localField: 'unit', foreignField: '_id', as: 'u' } },
    { $project: { _id: 1, names: '$u.name' } },
  ]);
  expect(docs).toEqual([
    { _id: 1, names: ['Phường 1'] },
    { _id: 2, names: ['Phường 1'] },
    { _id: 3, names: ['Phường 2'] },
    { _id: 4, names: ['Phường 2'] },
    { _id: 5, names: [] },
  ]);
});

test('when $lookup uses let and a pipeline, then the sub-pipeline sees the variables', async () => {
  const docs = await db
    .collection('units')
    .aggregate([
      { $sort: { _id: 1 } },
      {
        $lookup: {
          from: 'sales',
          let: { unitId: '$_id' },
          pipeline: [
            { $match: { $expr: { $eq: ['$unit', '$$unitId'] } } },
            { $group: { _id: null, qty: { $sum: '$qty' } } },
            { $project: { _id: 0, qty: 1 } },
          ],
          as: 'sold',
        },
      },
      { $project: { sold: 1 } },
    ])
    .toArray();
  expect(docs).toEqual([
    { _id: 'A', sold: [{ qty: 7 }] },
    { _id: 'B', sold: [{ qty: 5 }] },
    { _id: 'D', sold: [] },
  ]);
});

test('when $sortByCount runs, then groups come back by count descending', async () => {
  const docs = await run([{ $sortByCount: '$item' }]);
  expect(docs[0]).toEqual({ _id: 'pen', count: 3 });
  expect(docs.slice(1).sort((a, b) => String(a._id).localeCompare(String(b._id)))).toEqual([
    { _id: 'ink', count: 1 },
    { _id: 'pad', count: 1 },
  ]);
});

test('when $replaceRoot and $replaceWith run, then the embedded document becomes the root', async () => {
  const docs = await run([
    { $match: { _id: 2 } },
    { $replaceRoot: { newRoot: { item: '$item', value: { $multiply: ['$qty', '$price'] } } } },
  ]);
  expect(docs).toEqual([{ item: 'ink', value: 100 }]);
  const replaced = await run([{ $match: { _id: 2 } }, { $replaceWith: { unit: '$unit' } }]);
  expect(replaced).toEqual([{ unit: 'A' }]);
});

test('when $replaceRoot meets a non-document, then the aggregation fails', async () => {
  const error = await rejectionOf(run([{ $replaceRoot: { newRoot: '$item' } }]));
  expect(typeof error.code).toBe('number');
});

test('when $out runs, then the target collection holds exactly the pipeline output, replacing what was there', async () => {
  const target = db.collection<LooseDoc>('out_target');
  await target.insertOne({ _id: 'stale' });
  const cursorDocs = await run([{ $group: { _id: '$unit', qty: { $sum: '$qty' } } }, { $out: 'out_target' }]);
  expect(cursorDocs).toEqual([]);
  expect(await target.find().sort({ _id: 1 }).toArray()).toEqual([
    { _id: 'A', qty: 7 },
    { _id: 'B', qty: 5 },
    { _id: 'C', qty: 3 },
  ]);
});

test('when $merge runs, then matching documents are merged and the others inserted', async () => {
  const target = db.collection<LooseDoc>('merge_target');
  await target.insertMany([
    { _id: 'A', qty: 0, keep: true },
    { _id: 'Z', qty: 99 },
  ]);
  await run([
    { $group: { _id: '$unit', qty: { $sum: '$qty' } } },
    { $merge: { into: 'merge_target', on: '_id', whenMatched: 'merge', whenNotMatched: 'insert' } },
  ]);
  expect(await target.find().sort({ _id: 1 }).toArray()).toEqual([
    { _id: 'A', qty: 7, keep: true },
    { _id: 'B', qty: 5 },
    { _id: 'C', qty: 3 },
    { _id: 'Z', qty: 99 },
  ]);
  await run([
    { $match: { unit: 'B' } },
    { $group: { _id: '$unit', qty: { $sum: 100 } } },
    { $merge: { into: 'merge_target', whenMatched: 'replace', whenNotMatched: 'discard' } },
  ]);
  expect(await target.findOne({ _id: 'B' })).toEqual({ _id: 'B', qty: 200 });
  expect(await target.countDocuments()).toBe(4);
});

test('when expressions use $cond, $ifNull, $switch, $concat, $toString and $round, then they compute like MongoDB', async () => {
  const docs = await run([
    { $match: { _id: 4 } },
    {
      $project: {
        _id: 0,
        label: { $concat: ['$unit', '-', { $toString: '$qty' }] },
        kind: { $cond: [{ $gte: ['$price', 10] }, 'dear', 'cheap'] },
        tags: { $ifNull: ['$tags', []] },
        size: { $switch: { branches: [{ case: { $lt: ['$qty', 3] }, then: 'S' }], default: 'L' } },
        ratio: { $round: [{ $divide: ['$price', 3] }, 2] },
      },
    },
  ]);
  expect(docs).toEqual([{ label: 'B-4', kind: 'cheap', tags: [], size: 'L', ratio: 1.67 }]);
});

test('when string expressions measure Vietnamese text, then code points and UTF-8 bytes are counted like MongoDB', async () => {
  const docs = await run([
    { $match: { _id: 1 } },
    {
      $project: {
        _id: 0,
        cp: { $strLenCP: 'Thước Đo 😀' },
        bytes: { $strLenBytes: 'Thước Đo 😀' },
        sub: { $substrCP: ['Thước Đo 😀', 6, 2] },
        atCP: { $indexOfCP: ['Thước Đo 😀', 'Đ'] },
        atByte: { $indexOfBytes: ['Thước Đo 😀', 'Đ'] },
      },
    },
  ]);
  expect(docs).toEqual([{ cp: 10, bytes: 17, sub: 'Đo', atCP: 6, atByte: 9 }]);
});
