// Index key encoding: encoded strings order exactly like MongoDB's BSON comparison (the query module's compareValues).
import fc from 'fast-check';
import { Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { complement, encodeValue } from '../../../src/engine/catalog/keys';
import { compareValues } from '../../../src/engine/query';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const scalar = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
  fc.constantFrom(0, -0, Infinity, -Infinity, Number.NaN, 2 ** 53, -(2 ** 53)),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((n) => ObjectId.createFromTime(n)),
  fc.integer({ min: -100, max: 100 }).map((n) => Long.fromNumber(n)),
  fc.integer({ min: -100, max: 100 }).map((n) => Decimal128.fromString(`${n}.5`)),
  fc.constantFrom(new MinKey(), new MaxKey(), new Timestamp({ t: 5, i: 1 })),
);
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b', 'c'), scalar, { maxKeys: 2 }) },
);

test('when two values are encoded, then the string order equals MongoDB comparison order', () => {
  fc.assert(
    fc.property(value, value, (a, b) => {
      expect(sign(cmpStrings(encodeValue(a), encodeValue(b)))).toBe(sign(compareValues(a, b)));
    }),
    { numRuns: 3000 },
  );
});

test('when an encoding is complemented, then the order reverses (descending index fields)', () => {
  fc.assert(
    fc.property(value, value, (a, b) => {
      const ea = encodeValue(a);
      const eb = encodeValue(b);
      expect(sign(cmpStrings(complement(ea), complement(eb)))).toBe(-sign(cmpStrings(ea, eb)) || 0);
    }),
    { numRuns: 2000 },
  );
});

test('when a long encoding is complemented, then every code unit is reversed, across the chunks it is built in', () => {
  const encoded = encodeValue('ab\u00e9\u4e2d'.repeat(3000));
  const complemented = complement(encoded);
  expect(complemented).toHaveLength(encoded.length);
  for (const i of [0, 4095, 4096, 4097, encoded.length - 1]) expect(complemented.charCodeAt(i)).toBe(0xffff - encoded.charCodeAt(i));
  expect(complement(complemented)).toBe(encoded);
});

test('when dates and timestamps are encoded, then their 32-bit halves are eight hex digits each', () => {
  expect(encodeValue(new Timestamp({ t: 0xdeadbeef, i: 0x0102 })).slice(1)).toBe('deadbeef00000102');
  expect(encodeValue(new Date(0)).slice(1)).toBe('8000000000000000');
  expect(encodeValue(new Date(-1)).slice(1)).toBe('400fffffffffffff');
});

test('when numbers of different BSON types are equal, then they share one key', () => {
  expect(encodeValue(5)).toBe(encodeValue(Long.fromNumber(5)));
  expect(encodeValue(5)).toBe(encodeValue(Decimal128.fromString('5')));
  expect(encodeValue(0)).toBe(encodeValue(-0));
  expect(encodeValue(null)).toBe(encodeValue(undefined));
});
