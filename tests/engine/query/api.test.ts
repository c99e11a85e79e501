// Smoke tests of the query layer's public API.

import { ObjectId } from 'bson';
import {
  applyProjection, applyUpdate, compareValues, compileFilter, compileSort, getPath, runPipeline,
  upsertSeed, validatePipeline, valuesEqual,
} from '../../../src/engine/query';
import { MongoError } from '../../../src/engine/errors';

describe('query layer API', () => {
  it('when a filter uses comparison operators, then it matches like MongoDB', () => {
    const f = compileFilter({ a: { $gt: 1 }, b: 'x' });
    expect(f({ a: 2, b: 'x' })).toBe(true);
    expect(f({ a: 1, b: 'x' })).toBe(false);
  });

  it('when an update uses $set, then a new document is returned and the input is untouched', () => {
    const doc = { _id: 1, a: { b: 1 } };
    const res = applyUpdate(doc, { $set: { 'a.b': 2 } });
    expect(res).toEqual({ doc: { _id: 1, a: { b: 2 } }, changed: true });
    expect(doc).toEqual({ _id: 1, a: { b: 1 } });
  });

  it('when a replacement has no _id, then the original _id is kept', () => {
    expect(applyUpdate({ _id: 5, a: 1 }, { b: 2 }).doc).toEqual({ _id: 5, b: 2 });
  });

  it('when an upsert filter has equalities, then the seed holds them with dotted paths expanded', () => {
    expect(upsertSeed({ a: 1, 'b.c': 2, $and: [{ d: { $eq: 3 } }], e: { $gt: 1 } })).toEqual({ a: 1, b: { c: 2 }, d: 3 });
  });

  it('when values have different BSON types, then they compare in MongoDB type order', () => {
    const oid = new ObjectId();
    const ordered = [null, 1, 'a', { a: 1 }, [1], oid, false, new Date(0)];
    for (let i = 0; i + 1 < ordered.length; i++) expect(compareValues(ordered[i], ordered[i + 1])).toBe(-1);
    expect(valuesEqual(new ObjectId(oid.toHexString()), oid)).toBe(true);
  });

  it('when sorting by a dotted path, then documents are ordered by that path', () => {
    const docs = [{ a: { b: 2 } }, { a: { b: 1 } }, { a: {} }];
    expect(docs.slice().sort(compileSort({ 'a.b': 1 }))).toEqual([{ a: {} }, { a: { b: 1 } }, { a: { b: 2 } }]);
  });

  it('when projecting an inclusion, then only those fields and _id remain', () => {
    expect(applyProjection({ _id: 1, a: 1, b: 2 }, { a: 1 })).toEqual({ _id: 1, a: 1 });
  });

  it('when a pipeline groups, then it returns the groups', () => {
    const out = runPipeline([{ k: 'x' }, { k: 'x' }, { k: 'y' }], [{ $group: { _id: '$k', n: { $sum: 1 } } }, { $sort: { _id: 1 } }], { collection: () => [] });
    expect(out).toEqual([{ _id: 'x', n: 2 }, { _id: 'y', n: 1 }]);
  });

  it('when a pipeline ends in $out, then validation returns it separately', () => {
    expect(validatePipeline([{ $match: {} }, { $out: 'c' }])).toEqual({ stages: [{ $match: {} }], output: { kind: '$out', spec: 'c' } });
    expect(() => validatePipeline([{ $nope: 1 }])).toThrow(MongoError);
  });

  it('when a path crosses arrays, then getPath returns all values', () => {
    expect(getPath({ a: [{ b: 1 }, { b: [2, 3] }] }, 'a.b')).toEqual([1, 2, 3]);
    expect(getPath({ a: { b: 1 } }, 'a.b')).toBe(1);
  });
});
