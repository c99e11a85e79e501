// Update operators, positional paths, replacement and pipeline updates, checked against MongoDB's rules.

import { Long, ObjectId, Timestamp } from 'bson';
import { applyUpdate } from '../../../src/engine/query';
import { errorOf } from './support';


const up = (doc: Record<string, unknown>, update: Record<string, unknown> | Record<string, unknown>[], opts = {}) =>
  applyUpdate(doc, update, opts).doc;

describe('field operators', () => {
  it('when $set targets a missing dotted path, then intermediate objects are created', () => {
    expect(up({ _id: 1 }, { $set: { 'a.b.c': 1 } })).toEqual({ _id: 1, a: { b: { c: 1 } } });
  });

  it('when $set targets an array index past the end, then the array is padded with nulls', () => {
    expect(up({ _id: 1, a: [1] }, { $set: { 'a.3': 9 } })).toEqual({ _id: 1, a: [1, null, null, 9] });
  });

  it('when $set goes through a scalar, then it fails with PathNotViable 28', () => {
    const e = errorOf(() => up({ _id: 1, a: 5 }, { $set: { 'a.b': 1 } }));
    expect(e.code).toBe(28);
    expect(e.message).toBe("Cannot create field 'b' in element {a: 5}");
  });

  it('when $set leaves the value identical, then changed is false', () => {
    expect(applyUpdate({ _id: 1, a: 1 }, { $set: { a: 1 } }).changed).toBe(false);
    expect(applyUpdate({ _id: 1, a: 1 }, { $set: { a: 2 } }).changed).toBe(true);
  });

  it('when $unset names an array element, then it becomes null; missing fields are a no-op', () => {
    expect(up({ _id: 1, a: [1, 2] }, { $unset: { 'a.0': '' } })).toEqual({ _id: 1, a: [null, 2] });
    expect(applyUpdate({ _id: 1 }, { $unset: { 'x.y': '' } }).changed).toBe(false);
  });

  it('when $inc applies to numbers and missing fields, then it adds; Longs stay Longs', () => {
    expect(up({ _id: 1, a: 1 }, { $inc: { a: 2, b: -1 } })).toEqual({ _id: 1, a: 3, b: -1 });
    const r = up({ _id: 1, n: Long.fromNumber(5) }, { $inc: { n: 1 } });
    expect(r.n).toBeInstanceOf(Long);
    expect((r.n as Long).toNumber()).toBe(6);
  });

  it('when $inc targets a string, then it fails with TypeMismatch 14 naming the document', () => {
    const e = errorOf(() => up({ _id: 1, x: 'a' }, { $inc: { x: 1 } }));
    expect(e.code).toBe(14);
    expect(e.message).toBe("Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'x' of non-numeric type string");
  });

  it('when $inc has a non-numeric argument, then it fails with 14', () => {
    expect(errorOf(() => up({ _id: 1 }, { $inc: { x: 'a' } })).code).toBe(14);
  });

  it('when $mul targets a missing field, then it is set to zero; a string fails with 14', () => {
    expect(up({ _id: 1, a: 3 }, { $mul: { a: 2, b: 5 } })).toEqual({ _id: 1, a: 6, b: 0 });
    expect(errorOf(() => up({ _id: 1, a: 'x' }, { $mul: { a: 2 } })).code).toBe(14);
  });

  it('when $min/$max compare, then they use BSON order and only replace when beyond', () => {
    expect(up({ _id: 1, a: 5, b: 5 }, { $min: { a: 3, b: 9 }, $max: { c: 1 } })).toEqual({ _id: 1, a: 3, b: 5, c: 1 });
    expect(up({ _id: 1, a: 5 }, { $max: { a: 'str' } })).toEqual({ _id: 1, a: 'str' });
  });

  it('when $rename moves a field, then the source is removed; a missing source is a no-op', () => {
    expect(up({ _id: 1, a: 1, n: { x: 2 } }, { $rename: { a: 'b', 'n.x': 'n.y' } })).toEqual({ _id: 1, n: { y: 2 }, b: 1 });
    expect(applyUpdate({ _id: 1 }, { $rename: { a: 'b' } }).changed).toBe(false);
  });

  it('when $setOnInsert is used, then it applies only to an upsert insert', () => {
    expect(up({ _id: 1 }, { $setOnInsert: { a: 1 }, $set: { b: 2 } })).toEqual({ _id: 1, b: 2 });
    expect(up({ _id: 1 }, { $setOnInsert: { a: 1 }, $set: { b: 2 } }, { isUpsertInsert: true })).toEqual({ _id: 1, a: 1, b: 2 });
  });

  it('when $currentDate is used, then it writes a Date or a Timestamp', () => {
    const r = up({ _id: 1 }, { $currentDate: { d: true, t: { $type: 'timestamp' } } });
    expect(r.d).toBeInstanceOf(Date);
    expect(r.t).toBeInstanceOf(Timestamp);
  });

  it('when $bit is used, then it applies and/or/xor to integers', () => {
    expect(up({ _id: 1, a: 13 }, { $bit: { a: { and: 10 } } })).toEqual({ _id: 1, a: 8 });
    expect(up({ _id: 1, a: 3 }, { $bit: { a: { or: 5 } } })).toEqual({ _id: 1, a: 7 });
    expect(up({ _id: 1, a: 1 }, { $bit: { a: { xor: 5 } } })).toEqual({ _id: 1, a: 4 });
  });

  it('when fields are created by one update, then they are added in lexicographic order', () => {
    expect(Object.keys(up({ _id: 1 }, { $set: { b: 1, a: 1 } }))).toEqual(['_id', 'a', 'b']);
  });
});

describe('array operators', () => {
  it('when $push has $each, $position, $sort and $slice, then they apply in MongoDB order', () => {
    expect(up({ _id: 1, a: [1, 2] }, { $push: { a: 3 } })).toEqual({ _id: 1, a: [1, 2, 3] });
    expect(up({ _id: 1, a: [1, 2] }, { $push: { a: { $each: [9], $position: 0 } } })).toEqual({ _id: 1, a: [9, 1, 2] });
    expect(up({ _id: 1, a: [1, 2] }, { $push: { a: { $each: [9], $position: -1 } } })).toEqual({ _id: 1, a: [1, 9, 2] });
    expect(up({ _id: 1, a: [5, 1] }, { $push: { a: { $each: [3], $sort: 1, $slice: 2 } } })).toEqual({ _id: 1, a: [1, 3] });
    expect(up({ _id: 1, a: [5, 1] }, { $push: { a: { $each: [3], $slice: -2 } } })).toEqual({ _id: 1, a: [1, 3] });
    expect(up({ _id: 1, s: [{ v: 2 }, { v: 1 }] }, { $push: { s: { $each: [{ v: 3 }], $sort: { v: -1 } } } }))
      .toEqual({ _id: 1, s: [{ v: 3 }, { v: 2 }, { v: 1 }] });
  });

  it('when $push targets a missing field, then an array is created', () => {
    expect(up({ _id: 1 }, { $push: { 'a.b': 1 } })).toEqual({ _id: 1, a: { b: [1] } });
  });

  it('when $push targets a string, then it fails with BadValue 2 naming the field and document', () => {
    const e = errorOf(() => up({ _id: 1, x: 's' }, { $push: { x: 1 } }));
    expect(e.code).toBe(2);
    expect(e.message).toBe("The field 'x' must be an array but is of type string in document {_id: 1}");
  });

  it('when $addToSet adds present and absent values, then only absent ones are appended', () => {
    expect(up({ _id: 1, a: [1, 2] }, { $addToSet: { a: { $each: [2, 3, 3] } } })).toEqual({ _id: 1, a: [1, 2, 3] });
    expect(applyUpdate({ _id: 1, a: [1] }, { $addToSet: { a: 1 } }).changed).toBe(false);
    expect(errorOf(() => up({ _id: 1, a: 1 }, { $addToSet: { a: 1 } })).code).toBe(2);
  });

  it('when $pop is 1 or -1, then it removes the last or first element', () => {
    expect(up({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } })).toEqual({ _id: 1, a: [1, 2] });
    expect(up({ _id: 1, a: [1, 2, 3] }, { $pop: { a: -1 } })).toEqual({ _id: 1, a: [2, 3] });
    expect(errorOf(() => up({ _id: 1, a: 's' }, { $pop: { a: 1 } })).code).toBe(14);
  });

  it('when $pull has a value, a condition or a document, then matching elements are removed', () => {
    expect(up({ _id: 1, a: [1, 2, 3, 2] }, { $pull: { a: 2 } })).toEqual({ _id: 1, a: [1, 3] });
    expect(up({ _id: 1, a: [1, 5, 7] }, { $pull: { a: { $gte: 5 } } })).toEqual({ _id: 1, a: [1] });
    expect(up({ _id: 1, a: [{ s: 8, x: 1 }, { s: 9 }] }, { $pull: { a: { s: 8 } } })).toEqual({ _id: 1, a: [{ s: 9 }] });
  });

  it('when $pullAll lists values, then all equal elements are removed', () => {
    expect(up({ _id: 1, a: [0, 2, 5, 5, 1, 0] }, { $pullAll: { a: [0, 5] } })).toEqual({ _id: 1, a: [2, 1] });
  });

  it('when the positional $ is used, then the first element matched by the query is updated', () => {
    const doc = { _id: 1, grades: [80, 85, 90] };
    expect(up(doc, { $set: { 'grades.$': 82 } }, { query: { _id: 1, grades: 85 } })).toEqual({ _id: 1, grades: [80, 82, 90] });
    const d2 = { _id: 1, items: [{ k: 'a', n: 1 }, { k: 'b', n: 1 }] };
    expect(up(d2, { $inc: { 'items.$.n': 5 } }, { query: { 'items.k': 'b' } })).toEqual({ _id: 1, items: [{ k: 'a', n: 1 }, { k: 'b', n: 6 }] });
    expect(up(d2, { $inc: { 'items.$.n': 5 } }, { query: { items: { $elemMatch: { k: 'a' } } } })).toEqual({ _id: 1, items: [{ k: 'a', n: 6 }, { k: 'b', n: 1 }] });
  });

  it('when the positional $ has no matching query condition, then it fails with 2', () => {
    expect(errorOf(() => up({ _id: 1, a: [1] }, { $set: { 'a.$': 2 } }, { query: { _id: 1 } })).code).toBe(2);
  });

  it('when $[] is used, then every element is updated', () => {
    expect(up({ _id: 1, a: [1, 2] }, { $inc: { 'a.$[]': 10 } })).toEqual({ _id: 1, a: [11, 12] });
  });

  it('when $[ident] is used with arrayFilters, then only matching elements are updated', () => {
    const doc = { _id: 1, g: [{ s: 80, m: 0 }, { s: 95, m: 0 }] };
    expect(up(doc, { $set: { 'g.$[e].m': 1 } }, { arrayFilters: [{ 'e.s': { $gte: 90 } }] }))
      .toEqual({ _id: 1, g: [{ s: 80, m: 0 }, { s: 95, m: 1 }] });
    expect(up({ _id: 1, a: [1, 5, 9] }, { $set: { 'a.$[x]': 0 } }, { arrayFilters: [{ x: { $gt: 4 } }] }))
      .toEqual({ _id: 1, a: [1, 0, 0] });
  });

  it('when an array filter identifier is missing or unused, then the update fails', () => {
    expect(errorOf(() => up({ _id: 1, a: [1] }, { $set: { 'a.$[x]': 0 } })).code).toBe(2);
    expect(errorOf(() => up({ _id: 1, a: [1] }, { $set: { a: [] } }, { arrayFilters: [{ x: 1 }] })).code).toBe(9);
  });
});

describe('update documents', () => {
  it('when an operator is unknown, then it fails with FailedToParse 9 naming it', () => {
    const e = errorOf(() => up({ _id: 1 }, { $foo: { a: 1 } }));
    expect(e.code).toBe(9);
    expect(e.message).toMatch(/^Unknown modifier: \$foo/);
  });

  it('when an operator argument is not a document, then it fails with 9', () => {
    expect(errorOf(() => up({ _id: 1 }, { $set: 5 })).code).toBe(9);
  });

  it('when two operators touch overlapping paths, then it fails with ConflictingUpdateOperators 40', () => {
    const e = errorOf(() => up({ _id: 1 }, { $set: { 'a.b': 1 }, $inc: { a: 1 } }));
    expect(e.code).toBe(40);
    expect(e.message).toBe("Updating the path 'a.b' would create a conflict at 'a'");
  });

  it('when _id would change, then it fails with ImmutableField 66; setting the same _id is allowed', () => {
    const id = new ObjectId();
    expect(errorOf(() => up({ _id: id }, { $set: { _id: new ObjectId() } })).code).toBe(66);
    expect(errorOf(() => up({ _id: 1 }, { _id: 2, a: 1 })).code).toBe(66);
    expect(up({ _id: id }, { $set: { _id: new ObjectId(id.toHexString()), a: 1 } }).a).toBe(1);
  });

  it('when a replacement is given, then _id is kept first and other fields replaced', () => {
    expect(up({ _id: 1, a: 1 }, { b: 2, _id: 1 })).toEqual({ _id: 1, b: 2 });
    expect(Object.keys(up({ _id: 1, a: 1 }, { b: 2, _id: 1 }))).toEqual(['_id', 'b']);
    expect(applyUpdate({ _id: 1, a: 1 }, { a: 1 }).changed).toBe(false);
  });

  it('when a pipeline update runs, then aggregation semantics apply and _id is kept', () => {
    const r = up({ _id: 1, a: 2, b: 3 }, [{ $set: { c: { $add: ['$a', '$b'] } } }, { $unset: 'a' }]);
    expect(r).toEqual({ _id: 1, b: 3, c: 5 });
    expect(errorOf(() => up({ _id: 1 }, [{ $group: { _id: null } }])).code).toBe(72);
  });

  it('when the update is applied, then the input document is not mutated', () => {
    const doc = { _id: 1, a: { b: [1, 2] }, c: 1 };
    const snapshot = JSON.stringify(doc);
    up(doc, { $push: { 'a.b': 3 }, $inc: { c: 1 }, $set: { 'a.x': 1 } });
    up(doc, [{ $set: { 'a.y': 1 } }]);
    expect(JSON.stringify(doc)).toBe(snapshot);
  });
});
