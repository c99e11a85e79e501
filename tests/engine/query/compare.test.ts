// BSON comparison order, equality across numeric types, dotted path reads and sort keys.

import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp, BSONRegExp } from 'bson';
import { compareValues, compileSort, getPath, valuesEqual } from '../../../src/engine/query';

describe('compareValues', () => {
  it('when values have different types, then the canonical BSON type order decides', () => {
    const ordered = [
      new MinKey(), null, 5, 'a', { a: 1 }, [1], new Binary(Buffer.from('x')), new ObjectId('000000000000000000000001'),
      false, new Date(0), new Timestamp({ t: 1, i: 0 }), /x/, new MaxKey(),
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareValues(ordered[i], ordered[j]))).toBe(Math.sign(i - j));
      }
    }
  });

  it('when numbers have different BSON types, then they compare by value', () => {
    expect(compareValues(Long.fromString('9007199254740993'), Long.fromString('9007199254740992'))).toBe(1);
    expect(compareValues(Long.fromNumber(3), 2.5)).toBe(1);
    expect(compareValues(Decimal128.fromString('1.5'), 2)).toBe(-1);
    expect(valuesEqual(Long.fromNumber(2), 2)).toBe(true);
    expect(valuesEqual(Decimal128.fromString('2.0'), 2)).toBe(true);
    expect(compareValues(NaN, -Infinity)).toBe(-1);
    expect(valuesEqual(NaN, NaN)).toBe(true);
  });

  it('when ObjectIds, strings, dates and documents are compared, then bytes, code points, time and fields decide', () => {
    expect(compareValues(new ObjectId('000000000000000000000002'), new ObjectId('000000000000000000000010'))).toBe(-1);
    expect(compareValues('B', 'a')).toBe(-1);
    expect(compareValues(new Date(2), new Date(1))).toBe(1);
    expect(compareValues({ a: 1, b: 2 }, { a: 1, b: 3 })).toBe(-1);
    expect(compareValues({ a: 1 }, { b: 0 })).toBe(-1);
    expect(compareValues([1, 2], [1, 2, 0])).toBe(-1);
    expect(valuesEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(valuesEqual(null, undefined)).toBe(true);
    expect(compareValues(new BSONRegExp('a', 'i'), /a/i)).toBe(0);
  });
});

describe('getPath', () => {
  it('when the path has no arrays, then the value (or undefined) is returned', () => {
    expect(getPath({ a: { b: { c: 3 } } }, 'a.b.c')).toBe(3);
    expect(getPath({ a: { b: [1, 2] } }, 'a.b')).toEqual([1, 2]);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
  });

  it('when the path crosses arrays, then all reachable values are returned; numeric parts index', () => {
    expect(getPath({ a: [{ b: 1 }, { c: 2 }, { b: [3, 4] }] }, 'a.b')).toEqual([1, 3, 4]);
    expect(getPath({ a: [{ b: 1 }, { b: 2 }] }, 'a.1.b')).toBe(2);
  });
});

describe('compileSort', () => {
  it('when a field is missing, null or an empty array, then [] < null = missing < values', () => {
    const docs = [{ _id: 1, a: 1 }, { _id: 2 }, { _id: 3, a: [] }, { _id: 4, a: null }];
    expect(docs.slice().sort(compileSort({ a: 1, _id: 1 })).map((d) => d._id)).toEqual([3, 2, 4, 1]);
  });

  it('when sorting descending on arrays, then the largest element is the key', () => {
    const docs = [{ _id: 1, a: [1, 10] }, { _id: 2, a: [5, 6] }];
    expect(docs.slice().sort(compileSort({ a: -1 })).map((d) => d._id)).toEqual([1, 2]);
    expect(docs.slice().sort(compileSort({ a: 1 })).map((d) => d._id)).toEqual([1, 2]);
  });
});
