// Unified test format matching: expected values (with $$ operators) against driver results; lists every mismatch.
import { EJSON, Long, Int32, Double, Decimal128, ObjectId, Binary, Timestamp, BSONRegExp } from 'bson';

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function numeric(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  return null;
}

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  try {
    return EJSON.stringify(value, { relaxed: true });
  } catch {
    return String(value);
  }
}

/** The unified-format type name of a value (as far as JavaScript values can tell). */
export function bsonTypeOf(value: unknown): string[] {
  if (value === null) return ['null'];
  if (value === undefined) return ['undefined'];
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['int', 'long', 'double', 'number'] : ['double', 'number'];
  if (value instanceof Long || typeof value === 'bigint') return ['long', 'number'];
  if (value instanceof Int32) return ['int', 'number'];
  if (value instanceof Double) return ['double', 'number'];
  if (value instanceof Decimal128) return ['decimal', 'number'];
  if (value instanceof ObjectId) return ['objectId'];
  if (value instanceof Date) return ['date'];
  if (value instanceof Binary) return ['binData'];
  if (value instanceof Timestamp) return ['timestamp'];
  if (value instanceof BSONRegExp || value instanceof RegExp) return ['regex'];
  if (Array.isArray(value)) return ['array'];
  return ['object'];
}

function special(expected: Plain): string | null {
  const keys = Object.keys(expected);
  return keys.length === 1 && keys[0].startsWith('$$') ? keys[0] : null;
}

/**
 * Matches `actual` against `expected`. Root documents (and documents directly inside a root array, such as
 * find results) may carry extra fields; nested documents may not.
 */
export function matchValue(expected: unknown, actual: unknown, path = '', root = true): string[] {
  const where = path === '' ? '(root)' : path;
  if (isPlainObject(expected)) {
    const operator = special(expected);
    if (operator === '$$unsetOrMatches') {
      return actual === undefined ? [] : matchValue(expected[operator], actual, path, root);
    }
    if (operator === '$$exists') {
      const wanted = Boolean(expected[operator]);
      return (actual !== undefined) === wanted ? [] : [`${where}: expected ${wanted ? 'present' : 'absent'}, got ${show(actual)}`];
    }
    if (operator === '$$type') {
      const wanted = ([] as unknown[]).concat(expected[operator]).map(String);
      const got = bsonTypeOf(actual);
      return wanted.some((type) => got.includes(type)) ? [] : [`${where}: expected type ${wanted.join('|')}, got ${got[0]} ${show(actual)}`];
    }
    if (operator === '$$lte') {
      const limit = numeric(expected[operator]);
      const got = numeric(actual);
      return limit !== null && got !== null && got <= limit ? [] : [`${where}: expected <= ${show(limit)}, got ${show(actual)}`];
    }
    if (operator !== null) return [`${where}: matching operator ${operator} is not supported by this runner`];
    if (actual instanceof Map) actual = Object.fromEntries(actual);
    if (!isPlainObject(actual)) {
      if (actual !== null && typeof actual === 'object' && !Array.isArray(actual)) {
        actual = { ...(actual as Plain) };
      } else {
        return [`${where}: expected a document ${show(expected)}, got ${show(actual)}`];
      }
    }
    const actualDoc = actual as Plain;
    const problems: string[] = [];
    for (const [key, value] of Object.entries(expected)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (isPlainObject(value) && special(value) === '$$exists') {
        problems.push(...matchValue(value, actualDoc[key], childPath, false));
        continue;
      }
      if (!(key in actualDoc) && !(isPlainObject(value) && special(value) === '$$unsetOrMatches')) {
        problems.push(`${childPath}: expected ${show(value)}, field absent`);
        continue;
      }
      problems.push(...matchValue(value, actualDoc[key], childPath, false));
    }
    if (!root) {
      const extra = Object.keys(actualDoc).filter((key) => !(key in expected) && actualDoc[key] !== undefined);
      if (extra.length > 0) problems.push(`${where}: unexpected field(s) ${extra.join(', ')} in ${show(actualDoc)}`);
    }
    return problems;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${where}: expected array ${show(expected)}, got ${show(actual)}`];
    if (actual.length !== expected.length) {
      return [`${where}: expected ${expected.length} element(s) ${show(expected)}, got ${actual.length} ${show(actual)}`];
    }
    return expected.flatMap((item, index) => matchValue(item, actual[index], `${path}[${index}]`, root && isPlainObject(item)));
  }
  const expectedNumber = numeric(expected);
  if (expectedNumber !== null) {
    const got = numeric(actual);
    return got !== null && (got === expectedNumber || (Number.isNaN(got) && Number.isNaN(expectedNumber)))
      ? []
      : [`${where}: expected ${show(expected)}, got ${show(actual)}`];
  }
  if (expected === null || typeof expected !== 'object') {
    return expected === actual ? [] : [`${where}: expected ${show(expected)}, got ${show(actual)}`];
  }
  return show(expected) === show(actual) ? [] : [`${where}: expected ${show(expected)}, got ${show(actual)}`];
}
