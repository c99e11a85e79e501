// Aggregation stages over in-memory documents, including the corrections to mingo's behaviour.

import { ObjectId, MinKey, MaxKey } from 'bson';
import { runPipeline, validatePipeline } from '../../../src/engine/query';
import { errorOf } from './support';

type D = Record<string, unknown>;
const run = (docs: D[], pipeline: D[], collections: Record<string, D[]> = {}, variables?: D) =>
  runPipeline(docs, pipeline, { collection: (n) => collections[n] ?? [], variables });

describe('$bucket', () => {
  const docs = [{ p: 0 }, { p: 5 }, { p: 10 }, { p: 19.99 }, { p: 20 }, { p: 40 }, { p: 'x' }, {}];

  it('when values fall on boundaries, then they go to [b_i, b_i+1) and empty buckets are omitted', () => {
    const out = run(docs, [{ $bucket: { groupBy: '$p', boundaries: [0, 10, 20, 30, 35, 50], default: 'other' } }]);
    expect(out).toEqual([
      { _id: 0, count: 2 },
      { _id: 10, count: 2 },
      { _id: 20, count: 1 },
      { _id: 35, count: 1 },
      { _id: 'other', count: 2 },
    ]);
  });

  it('when a value is out of range and there is no default, then it fails with 40066', () => {
    expect(errorOf(() => run([{ p: 100 }], [{ $bucket: { groupBy: '$p', boundaries: [0, 10] } }])).code).toBe(40066);
  });

  it('when output is given, then only those accumulators are computed', () => {
    const out = run([{ p: 1, q: 2 }, { p: 2, q: 3 }], [{ $bucket: { groupBy: '$p', boundaries: [0, 5], output: { total: { $sum: '$q' } } } }]);
    expect(out).toEqual([{ _id: 0, total: 5 }]);
  });

  it('when boundaries are unsorted, mixed or the default is inside the range, then it fails', () => {
    expect(errorOf(() => run([], [{ $bucket: { groupBy: '$p', boundaries: [5, 1] } }])).code).toBe(40194);
    expect(errorOf(() => run([], [{ $bucket: { groupBy: '$p', boundaries: [1, 'a'] } }])).code).toBe(40193);
    expect(errorOf(() => run([], [{ $bucket: { groupBy: '$p', boundaries: [0, 10], default: 5 } }])).code).toBe(40199);
  });
});

describe('$sort', () => {
  it('when values have mixed BSON types, then they sort in MongoDB type order', () => {
    const id = new ObjectId('65a000000000000000000001');
    const docs = [{ v: true }, { v: id }, { v: 'b' }, { v: new Date(0) }, { v: 2 }, { v: null }, { v: { x: 1 } }, { v: [0] }, { v: new MaxKey() }, { v: new MinKey() }];
    const out = run(docs, [{ $sort: { v: 1 } }]).map((d) => d.v);
    expect(out).toEqual([new MinKey(), null, [0], 2, 'b', { x: 1 }, id, true, new Date(0), new MaxKey()]);
  });

  it('when sorting descending by an array field, then the max element is the key', () => {
    const out = run([{ _id: 1, a: [1, 9] }, { _id: 2, a: [5] }], [{ $sort: { a: -1 } }]);
    expect(out.map((d) => d._id)).toEqual([1, 2]);
    const asc = run([{ _id: 1, a: [1, 9] }, { _id: 2, a: [5] }], [{ $sort: { a: 1 } }]);
    expect(asc.map((d) => d._id)).toEqual([1, 2]);
  });

  it('when keys tie, then the input order is kept', () => {
    const out = run([{ _id: 1, k: 1 }, { _id: 2, k: 0 }, { _id: 3, k: 1 }], [{ $sort: { k: -1 } }]);
    expect(out.map((d) => d._id)).toEqual([1, 3, 2]);
  });
});

describe('stages do not mutate input', () => {
  it('when $set writes a nested path, then the input documents are unchanged', () => {
    const docs = [{ _id: 1, a: { b: 1 } }];
    const out = run(docs, [{ $set: { 'a.c': 2 } }]);
    expect(out).toEqual([{ _id: 1, a: { b: 1, c: 2 } }]);
    expect(docs).toEqual([{ _id: 1, a: { b: 1 } }]);
  });

  it('when $lookup joins, then neither collection is modified', () => {
    const orders = [{ _id: 1, item: 'x' }];
    const items = [{ _id: 'i', sku: 'x' }];
    const out = run(orders, [{ $lookup: { from: 'items', localField: 'item', foreignField: 'sku', as: 'inv' } }, { $set: { 'inv.0.seen': true } }], { items });
    expect(out[0].inv).toEqual([{ _id: 'i', sku: 'x', seen: true }]);
    expect(items).toEqual([{ _id: 'i', sku: 'x' }]);
    expect(orders).toEqual([{ _id: 1, item: 'x' }]);
  });
});

describe('other stages', () => {
  it('when $group uses accumulators on ObjectId keys, then groups are formed by value', () => {
    const a = new ObjectId('65a000000000000000000001');
    const out = run([{ k: a, n: 1 }, { k: new ObjectId(a.toHexString()), n: 2 }], [{ $group: { _id: '$k', s: { $sum: '$n' }, l: { $push: '$n' } } }]);
    expect(out).toEqual([{ _id: a, s: 3, l: [1, 2] }]);
  });

  it('when $unwind has includeArrayIndex and preserveNullAndEmptyArrays, then it follows MongoDB', () => {
    const docs = [{ _id: 1, a: [10, 20] }, { _id: 2, a: [] }, { _id: 3 }, { _id: 4, a: 5 }];
    expect(run(docs, [{ $unwind: '$a' }])).toEqual([{ _id: 1, a: 10 }, { _id: 1, a: 20 }, { _id: 4, a: 5 }]);
    expect(run(docs, [{ $unwind: { path: '$a', includeArrayIndex: 'i', preserveNullAndEmptyArrays: true } }])).toEqual([
      { _id: 1, a: 10, i: 0 }, { _id: 1, a: 20, i: 1 }, { _id: 2, i: null }, { _id: 3, i: null }, { _id: 4, a: 5, i: null },
    ]);
  });

  it('when $lookup uses localField with arrays, then every matching foreign document is joined', () => {
    const out = run([{ _id: 1, tags: ['a', 'b'] }], [{ $lookup: { from: 't', localField: 'tags', foreignField: 'k', as: 'j' } }], { t: [{ k: 'a' }, { k: 'c' }, { k: 'b' }] });
    expect(out[0].j).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('when $lookup uses a pipeline with let, then variables reach the sub-pipeline', () => {
    const out = run([{ _id: 1, min: 5 }], [{
      $lookup: { from: 's', let: { m: '$min' }, pipeline: [{ $match: { $expr: { $gte: ['$v', '$$m'] } } }, { $project: { _id: 0, v: 1 } }], as: 'big' },
    }], { s: [{ v: 1 }, { v: 7 }, { v: 5 }] });
    expect(out[0].big).toEqual([{ v: 7 }, { v: 5 }]);
  });

  it('when $lookup has localField, foreignField and a pipeline, then the pipeline sees only matches', () => {
    const out = run([{ _id: 1, k: 'a' }], [{ $lookup: { from: 's', localField: 'k', foreignField: 'k', pipeline: [{ $count: 'n' }], as: 'c' } }], { s: [{ k: 'a' }, { k: 'a' }, { k: 'b' }] });
    expect(out[0].c).toEqual([{ n: 2 }]);
  });

  it('when $facet, $sortByCount, $count, $replaceRoot, $skip, $limit run, then results match MongoDB', () => {
    const docs = [{ t: 'a', v: { x: 1 } }, { t: 'b', v: { x: 2 } }, { t: 'a', v: { x: 3 } }];
    expect(run(docs, [{ $sortByCount: '$t' }])).toEqual([{ _id: 'a', count: 2 }, { _id: 'b', count: 1 }]);
    expect(run(docs, [{ $count: 'n' }])).toEqual([{ n: 3 }]);
    expect(run(docs, [{ $match: { t: 'zzz' } }, { $count: 'n' }])).toEqual([]);
    expect(run(docs, [{ $replaceRoot: { newRoot: '$v' } }, { $skip: 1 }, { $limit: 1 }])).toEqual([{ x: 2 }]);
    expect(run(docs, [{ $facet: { n: [{ $count: 'n' }], top: [{ $sort: { 'v.x': -1 } }, { $limit: 1 }, { $project: { _id: 0, t: 1 } }] } }]))
      .toEqual([{ n: [{ n: 3 }], top: [{ t: 'a' }] }]);
  });

  it('when $bucketAuto and $sample run, then they return the requested shape', () => {
    const docs = Array.from({ length: 10 }, (_, i) => ({ v: i }));
    const auto = run(docs, [{ $bucketAuto: { groupBy: '$v', buckets: 2 } }]);
    expect(auto.map((b) => b.count)).toEqual([5, 5]);
    expect(run(docs, [{ $sample: { size: 3 } }])).toHaveLength(3);
  });

  it('when $unionWith adds another collection through a pipeline, then its documents follow and it is not mutated', () => {
    const other = [{ _id: 'o', v: { n: 1 } }];
    const out = run([{ _id: 1 }], [{ $unionWith: { coll: 'other', pipeline: [{ $set: { 'v.m': 2 } }] } }], { other });
    expect(out).toEqual([{ _id: 1 }, { _id: 'o', v: { n: 1, m: 2 } }]);
    expect(other).toEqual([{ _id: 'o', v: { n: 1 } }]);
  });

  it('when a stage MongoDB has but the engine lacks is used, then 40324 names it', () => {
    expect(errorOf(() => run([], [{ $collStats: {} }])).message).toContain('$collStats');
    const windows = errorOf(() => run([{ a: 1 }], [{ $setWindowFields: { sortBy: { a: 1 }, output: { n: { $sum: 1 } } } }]));
    expect(windows.code).toBe(40324);
    expect(windows.message).toBe("Unrecognized pipeline stage name: '$setWindowFields' (not supported by this engine)");
  });

  it('when $project includes fields, then _id comes first, document order is kept, expressions follow', () => {
    const out = run([{ _id: 1, a: 1, b: { c: 2, d: 3 }, arr: [1, 2, 3] }], [{ $project: { x: { $slice: ['$arr', 2] }, b: { c: 1 }, a: 1 } }]);
    expect(JSON.stringify(out)).toBe('[{"_id":1,"a":1,"b":{"c":2},"x":[1,2]}]');
    expect(errorOf(() => run([], [{ $project: { a: 1, b: 0 } }])).code).toBe(31254);
  });

  it('when pipeline variables are given, then $$name resolves', () => {
    expect(run([{ a: 1 }], [{ $project: { _id: 0, x: { $add: ['$a', '$$k'] } } }], {}, { k: 2 })).toEqual([{ x: 3 }]);
  });
});

describe('strictness', () => {
  it('when a stage is unknown, then 40324 names it', () => {
    const e = errorOf(() => run([], [{ $foo: {} }]));
    expect(e.code).toBe(40324);
    expect(e.message).toBe("Unrecognized pipeline stage name: '$foo'");
  });

  it('when an expression operator is unknown, then 168 names it', () => {
    const e = errorOf(() => run([{ a: 1 }], [{ $project: { x: { $foo: 1 } } }]));
    expect(e.code).toBe(168);
    expect(e.message).toBe("Unrecognized expression '$foo'");
  });

  it('when $out is not last or a stage has two keys, then validation fails', () => {
    expect(errorOf(() => validatePipeline([{ $out: 'x' }, { $match: {} }])).code).toBe(40601);
    expect(errorOf(() => validatePipeline([{ $match: {}, $sort: { a: 1 } }])).code).toBe(40323);
    expect(errorOf(() => validatePipeline({})).code).toBe(14);
  });
});
