// Renders values and BSON type names the way MongoDB's error messages show them.

import { bsonType, isPlainObject } from './compare';

/** MongoDB's type name of a value ('double', 'string', 'objectId', ...). */
export function typeName(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 'int' : 'double';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'long';
    default:
      break;
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch (bsonType(v)) {
    case undefined:
      return 'object';
    case 'ObjectId':
      return 'objectId';
    case 'Long':
      return 'long';
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'BSONSymbol':
      return 'symbol';
    case 'Code':
      return 'javascript';
    default:
      return 'object';
  }
}

/** A short shell-like rendering of a value for error messages: {_id: ObjectId('…'), a: "x"}. */
export function formatValue(v: unknown, depth = 0): string {
  if (depth > 4) return '...';
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[ ${v.map((x) => formatValue(x, depth + 1)).join(', ')} ]`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return String(v);
  if (isPlainObject(v)) {
    const entries = Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x, depth + 1)}`);
    return `{${entries.join(', ')}}`;
  }
  const t = bsonType(v);
  if (t === 'ObjectId') return `ObjectId('${String((v as { toHexString(): string }).toHexString())}')`;
  return String(v);
}

/** `{_id: …}` of a document, as MongoDB names the document in update errors. */
export function formatIdOf(doc: Record<string, unknown>): string {
  return `{_id: ${formatValue(doc._id)}}`;
}
