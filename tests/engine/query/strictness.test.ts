// Every failure leaves the query layer as a MongoError with a MongoDB code, never as a plain Error.

import { applyProjection, applyUpdate, compileFilter, compileSort, runPipeline, upsertSeed } from '../../../src/engine/query';
import { MongoError } from '../../../src/engine/errors';

type D = Record<string, unknown>;
const run = (pipeline: D[], docs: D[] = [{ _id: 1, a: 1, s: 'x', arr: [1] }]) => runPipeline(docs, pipeline, { collection: () => [] });

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof MongoError) return e.code;
    throw new Error(`plain error escaped: ${String(e)}`);
  }
  throw new Error('expected an error');
}

describe('strictness', () => {
  it.each<[string, () => unknown, number]>([
    ['unknown stage', () => run([{ $nope: {} }]), 40324],
    ['unknown expression in $project', () => run([{ $project: { x: { $nope: 1 } } }]), 168],
    ['unknown expression in $group _id', () => run([{ $group: { _id: { $nope: 1 } } }]), 168],
    ['unknown accumulator', () => run([{ $group: { _id: null, x: { $nope: 1 } } }]), 15952],
    ['$group without _id', () => run([{ $group: { x: { $sum: 1 } } }]), 15955],
    ['$sort with bad direction', () => run([{ $sort: { a: 2 } }]), 15975],
    ['$sort by $meta', () => compileSort({ a: { $meta: 'textScore' } }), 2],
    ['bad $bucket', () => run([{ $bucket: { groupBy: '$a', boundaries: [1] } }]), 40192],
    ['$match with unknown operator', () => run([{ $match: { a: { $nope: 1 } } }]), 2],
    ['invalid regex', () => compileFilter({ a: { $regex: '(' } }), 51091],
    ['$size negative', () => compileFilter({ a: { $size: -1 } }), 2],
    ['$mod by zero', () => compileFilter({ a: { $mod: [0, 1] } }), 2],
    ['$elemMatch not an object', () => compileFilter({ a: { $elemMatch: 1 } }), 2],
    ['$not empty', () => compileFilter({ a: { $not: {} } }), 2],
    ['$type unknown alias', () => compileFilter({ a: { $type: 'nope' } }), 2],
    ['invalid timezone in $expr', () => compileFilter({ $expr: { $eq: [{ $year: { date: '$d', timezone: 'Nope/Nope' } }, 1] } })({ d: new Date() }), 40485],
    ['$inc on string', () => applyUpdate({ _id: 1, s: 'x' }, { $inc: { s: 1 } }), 14],
    ['$push on string', () => applyUpdate({ _id: 1, s: 'x' }, { $push: { s: 1 } }), 2],
    ['unknown update operator', () => applyUpdate({ _id: 1 }, { $nope: { a: 1 } }), 9],
    ['mixed operator and field', () => applyUpdate({ _id: 1 }, { $set: { a: 1 }, b: 2 }), 9],
    ['empty path', () => applyUpdate({ _id: 1 }, { $set: { '': 1 } }), 56],
    ['$rename to itself', () => applyUpdate({ _id: 1, a: 1 }, { $rename: { a: 'a' } }), 2],
    ['$pop with 2', () => applyUpdate({ _id: 1, a: [1] }, { $pop: { a: 2 } }), 9],
    ['$push $each not array', () => applyUpdate({ _id: 1 }, { $push: { a: { $each: 1 } } }), 2],
    ['pipeline update with $match', () => applyUpdate({ _id: 1 }, [{ $match: {} }]), 72],
    ['replacement with $ field', () => applyUpdate({ _id: 1 }, { a: 1, $set: { b: 1 } }), 52],
    ['projection mix', () => applyProjection({ a: 1 }, { a: 1, b: 0 }), 31254],
    ['unknown expression at runtime in $addFields', () => run([{ $addFields: { x: { $nope: [] } } }]), 168],
    ['$divide by zero', () => run([{ $project: { x: { $divide: [1, 0] } } }]), 2],
    ['$lookup without as', () => run([{ $lookup: { from: 'x', localField: 'a', foreignField: 'b' } }]), 9],
  ])('when %s, then a MongoError with code %#', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('when $expr compares a missing field with null, then it is false (missing sorts below null)', () => {
    expect(compileFilter({ $expr: { $eq: ['$x', null] } })({})).toBe(false);
    expect(compileFilter({ $expr: { $lt: ['$x', null] } })({})).toBe(true);
  });

  it('when an upsert filter mixes operators, then only equalities seed the document', () => {
    expect(upsertSeed({ _id: 7, name: { $in: ['x'] }, age: { $gt: 3 }, 'addr.city': 'Huế', $or: [{ z: 1 }] }))
      .toEqual({ _id: 7, name: 'x', addr: { city: 'Huế' } });
    expect(upsertSeed({ a: { $eq: { b: 1 } }, re: /x/ })).toEqual({ a: { b: 1 } });
  });
});
