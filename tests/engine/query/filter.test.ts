// Query filter semantics: arrays, null/missing, type bracketing, operators, strict errors.

import { Decimal128, Long, ObjectId } from 'bson';
import { compileFilter } from '../../../src/engine/query';
import { errorOf } from './support';

type D = Record<string, unknown>;
const match = (filter: D, doc: D) => compileFilter(filter)(doc);

describe('equality', () => {
  it('when the field is an array, then equality matches an element or the whole array', () => {
    expect(match({ a: 2 }, { a: [1, 2] })).toBe(true);
    expect(match({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(match({ a: [2, 1] }, { a: [1, 2] })).toBe(false);
    expect(match({ a: 3 }, { a: [1, 2] })).toBe(false);
  });

  it('when a dotted path crosses an array of documents, then any element may match', () => {
    expect(match({ 'a.b': 2 }, { a: [{ b: 1 }, { b: 2 }] })).toBe(true);
    expect(match({ 'a.1.b': 2 }, { a: [{ b: 1 }, { b: 2 }] })).toBe(true);
    expect(match({ 'a.0.b': 2 }, { a: [{ b: 1 }, { b: 2 }] })).toBe(false);
  });

  it('when querying null, then missing and null fields match but other values do not', () => {
    expect(match({ a: null }, {})).toBe(true);
    expect(match({ a: null }, { a: null })).toBe(true);
    expect(match({ a: null }, { a: 0 })).toBe(false);
    expect(match({ 'a.b': null }, { a: 5 })).toBe(true);
    expect(match({ a: { $ne: null } }, {})).toBe(false);
    expect(match({ a: { $in: [null, 1] } }, {})).toBe(true);
  });

  it('when numbers have different BSON types, then they are equal by value', () => {
    expect(match({ a: 5 }, { a: Long.fromNumber(5) })).toBe(true);
    expect(match({ a: Decimal128.fromString('5') }, { a: 5 })).toBe(true);
    expect(match({ a: '5' }, { a: 5 })).toBe(false);
  });

  it('when comparing ObjectIds and Dates, then equal values match', () => {
    const id = new ObjectId();
    expect(match({ _id: new ObjectId(id.toHexString()) }, { _id: id })).toBe(true);
    expect(match({ _id: new ObjectId() }, { _id: id })).toBe(false);
    expect(match({ d: new Date(5) }, { d: new Date(5) })).toBe(true);
  });

  it('when comparing sub-documents, then field order matters', () => {
    expect(match({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 2 } })).toBe(true);
    expect(match({ a: { y: 2, x: 1 } }, { a: { x: 1, y: 2 } })).toBe(false);
  });
});

describe('comparison operators', () => {
  it('when types differ, then $gt/$lt do not match across types (type bracketing)', () => {
    expect(match({ a: { $gt: 1 } }, { a: 'z' })).toBe(false);
    expect(match({ a: { $lt: 'z' } }, { a: 1 })).toBe(false);
    expect(match({ a: { $gte: 2, $lt: 5 } }, { a: 3 })).toBe(true);
    expect(match({ a: { $gt: 3 } }, { a: [1, 5] })).toBe(true);
    expect(match({ d: { $gte: new Date(10) } }, { d: new Date(11) })).toBe(true);
  });

  it('when $in lists ObjectIds, Dates and numbers of other types, then equal values match', () => {
    const id = new ObjectId();
    const f = compileFilter({ a: { $in: [new ObjectId(id.toHexString()), new Date(7), 5, 'x', null] } });
    expect(f({ a: id })).toBe(true);
    expect(f({ a: new Date(7) })).toBe(true);
    expect(f({ a: Long.fromNumber(5) })).toBe(true);
    expect(f({ a: [9, 'x'] })).toBe(true);
    expect(f({})).toBe(true);
    expect(f({ a: '5' })).toBe(false);
    expect(f({ a: new ObjectId() })).toBe(false);
  });

  it('when $in/$nin are used, then membership (with regexes) decides', () => {
    expect(match({ a: { $in: [1, /^x/] } }, { a: 'xy' })).toBe(true);
    expect(match({ a: { $nin: [1, 2] } }, { a: 3 })).toBe(true);
    expect(match({ a: { $nin: [1, 2] } }, { a: [3, 2] })).toBe(false);
  });

  it('when $exists, $type, $size, $all, $elemMatch, $mod, $regex, $not are used, then they behave as MongoDB', () => {
    expect(match({ a: { $exists: false } }, {})).toBe(true);
    expect(match({ 'a.b': { $exists: true } }, { a: [{ c: 1 }, { b: 2 }] })).toBe(true);
    expect(match({ a: { $type: 'string' } }, { a: 'x' })).toBe(true);
    expect(match({ a: { $type: 'number' } }, { a: 1.5 })).toBe(true);
    expect(match({ a: { $type: 'array' } }, { a: [] })).toBe(true);
    expect(match({ a: { $size: 2 } }, { a: [1, 2] })).toBe(true);
    expect(match({ a: { $all: [1, 3] } }, { a: [1, 2, 3] })).toBe(true);
    expect(match({ a: { $all: [1, 4] } }, { a: [1, 2, 3] })).toBe(false);
    expect(match({ a: { $elemMatch: { x: 1, y: { $gt: 1 } } } }, { a: [{ x: 1, y: 1 }, { x: 2, y: 2 }] })).toBe(false);
    expect(match({ a: { $elemMatch: { x: 1, y: { $gt: 1 } } } }, { a: [{ x: 1, y: 1 }, { x: 1, y: 2 }] })).toBe(true);
    expect(match({ a: { $elemMatch: { $gte: 5, $lt: 6 } } }, { a: [1, 5.5] })).toBe(true);
    expect(match({ a: { $mod: [4, 1] } }, { a: 9 })).toBe(true);
    expect(match({ a: { $regex: '^ab', $options: 'i' } }, { a: 'ABc' })).toBe(true);
    expect(match({ a: { $not: { $gt: 5 } } }, { a: 3 })).toBe(true);
    expect(match({ a: { $not: /^x/ } }, { a: 'xa' })).toBe(false);
    expect(match({ a: { $bitsAllSet: [0, 2] } }, { a: 5 })).toBe(true);
  });

  it('when logical operators combine, then $and/$or/$nor apply', () => {
    expect(match({ $or: [{ a: 1 }, { b: 1 }] }, { b: 1 })).toBe(true);
    expect(match({ $nor: [{ a: 1 }, { b: 1 }] }, { b: 1 })).toBe(false);
    expect(match({ $and: [{ a: 1 }, { b: 1 }] }, { a: 1, b: 1 })).toBe(true);
  });
});

describe('$expr', () => {
  it('when $expr compares fields, then the aggregation expression decides', () => {
    expect(match({ $expr: { $gt: ['$a', '$b'] } }, { a: 2, b: 1 })).toBe(true);
    expect(match({ $expr: { $gt: ['$a', '$b'] } }, { a: 1, b: 2 })).toBe(false);
  });

  it('when $expr uses let variables, then they resolve', () => {
    const f = compileFilter({ $expr: { $eq: ['$a', '$$want'] } }, { variables: { want: 3 } });
    expect(f({ a: 3 })).toBe(true);
  });
});

describe('$jsonSchema', () => {
  const schema = {
    bsonType: 'object',
    required: ['name', 'score'],
    properties: {
      name: { bsonType: 'string', minLength: 2 },
      score: { bsonType: ['int', 'double'], minimum: 1, maximum: 5 },
      tags: { bsonType: 'array', items: { enum: ['a', 'b'] } },
    },
    additionalProperties: true,
  };

  it('when a document satisfies the schema, then it matches; violations do not', () => {
    const f = compileFilter({ $jsonSchema: schema });
    expect(f({ name: 'An', score: 3, tags: ['a'] })).toBe(true);
    expect(f({ name: 'An' })).toBe(false);
    expect(f({ name: 'A', score: 3 })).toBe(false);
    expect(f({ name: 'An', score: 6 })).toBe(false);
    expect(f({ name: 'An', score: 3, tags: ['c'] })).toBe(false);
  });

  it('when additionalProperties is false, then unknown fields fail', () => {
    const f = compileFilter({ $jsonSchema: { properties: { _id: {}, a: {} }, additionalProperties: false } });
    expect(f({ _id: 1, a: 1 })).toBe(true);
    expect(f({ _id: 1, b: 1 })).toBe(false);
  });

  it('when a keyword is unknown, then the error names it', () => {
    expect(errorOf(() => compileFilter({ $jsonSchema: { nope: 1 } })).message).toContain('nope');
  });
});

describe('strict errors', () => {
  it('when a query operator is unknown, then BadValue 2 names it', () => {
    const e = errorOf(() => compileFilter({ a: { $foo: 1 } }));
    expect(e.code).toBe(2);
    expect(e.message).toBe('unknown operator: $foo');
  });

  it('when a top-level operator is unknown, then BadValue 2 names it', () => {
    const e = errorOf(() => compileFilter({ $foo: 1 }));
    expect(e.code).toBe(2);
    expect(e.message).toBe('unknown top level operator: $foo');
  });

  it('when an expression operator is unknown, then code 168 names it', () => {
    const e = errorOf(() => compileFilter({ $expr: { $foo: 1 } }));
    expect(e.code).toBe(168);
    expect(e.message).toBe("Unrecognized expression '$foo'");
  });

  it('when unsupported operators are used, then the error names them', () => {
    for (const op of ['$near', '$geoWithin']) {
      const e = errorOf(() => compileFilter({ loc: { [op]: {} } }));
      expect(e.code).toBe(2);
      expect(e.message).toContain(op);
    }
    expect(errorOf(() => compileFilter({ $where: 'true' })).message).toContain('$where');
    expect(errorOf(() => compileFilter({ $text: { $search: 'x' } })).message).toContain('$text');
  });

  it('when $and/$or are malformed, then BadValue 2', () => {
    expect(errorOf(() => compileFilter({ $or: [] })).code).toBe(2);
    expect(errorOf(() => compileFilter({ $and: {} })).code).toBe(2);
    expect(errorOf(() => compileFilter({ a: { $in: 5 } })).code).toBe(2);
  });
});
