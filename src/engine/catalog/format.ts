// Formats values the way MongoDB prints them in messages, e.g. the `dup key: { ... }` part of E11000 errors.
import type { Document } from 'bson';
import { isBsonScalar } from './keys';

/** One value in MongoDB's shell-like notation: "text", 5, 5.5, ObjectId('...'), new Date(ms), { a: 1 }. */
export function formatValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan.0';
    if (!Number.isFinite(value)) return value > 0 ? 'inf.0' : '-inf.0';
    return String(value);
  }
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(formatValue).join(', ')} ]`;
  if (typeof value === 'object' && isBsonScalar(value)) {
    const t = (value as { _bsontype: string })._bsontype;
    if (t === 'ObjectId') return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`;
    if (t === 'Long' || t === 'Int32' || t === 'Double') return String(value);
    if (t === 'Decimal128') return `NumberDecimal("${String(value)}")`;
    if (t === 'Timestamp') {
      const ts = value as { high: number; low: number };
      return `Timestamp(${ts.high}, ${ts.low})`;
    }
    if (t === 'Binary') {
      const b = value as { sub_type: number; toString(enc: string): string };
      return `BinData(${b.sub_type}, ${b.toString('hex').toUpperCase()})`;
    }
    if (t === 'MinKey') return 'MinKey';
    if (t === 'MaxKey') return 'MaxKey';
    return String(value);
  }
  return formatDocument(value as Document);
}

/** A document in MongoDB's notation: `{ a: 1, b: "x" }`. */
export function formatDocument(doc: Document): string {
  const parts = Object.entries(doc).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}
