// Order-preserving string encoding of BSON values for index keys and the _id map (MongoDB's type order).
import { Binary, Decimal128, Long, ObjectId, Timestamp, type Document } from 'bson';

/** Type class prefixes, in MongoDB's cross-type comparison order. */
export const TypeClass = {
  minKey: 0x10,
  nullish: 0x20,
  number: 0x30,
  string: 0x40,
  object: 0x50,
  array: 0x60,
  binData: 0x70,
  objectId: 0x80,
  boolean: 0x90,
  date: 0xa0,
  timestamp: 0xb0,
  regex: 0xc0,
  maxKey: 0xd0,
} as const;

const NULL_KEY = String.fromCharCode(TypeClass.nullish) + '0';
const EMPTY_ARRAY_KEY = String.fromCharCode(TypeClass.array) + '\u0000';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Eight lowercase hex digits of a 32-bit unsigned value (a table per byte: keys are encoded on every write). */
function hex8(n: number): string {
  return HEX_BYTES[n >>> 24] + HEX_BYTES[(n >>> 16) & 0xff] + HEX_BYTES[(n >>> 8) & 0xff] + HEX_BYTES[n & 0xff];
}

function encodeNumber(x: number): string {
  if (Number.isNaN(x)) return '0000000000000000';
  f64[0] = x === 0 ? 0 : x;
  let hi = u32[1];
  let lo = u32[0];
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else {
    hi = (hi | 0x80000000) >>> 0;
  }
  return hex8(hi) + hex8(lo);
}

/**
 * JS compares UTF-16 code units; MongoDB orders strings by code point (UTF-8 bytes). Moving U+E000–U+FFFF below
 * the surrogates (and the surrogates to the top) makes the code-unit order of the result the code-point order.
 */
function codePointOrdered(s: string): string {
  return s.replace(/[\ud800-\uffff]/g, (c) => {
    const unit = c.charCodeAt(0);
    return String.fromCharCode(unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);
  });
}

function escapeString(s: string): string {
  const ordered = /[\ud800-\uffff]/.test(s) ? codePointOrdered(s) : s;
  if (ordered.indexOf('\u0000') < 0 && ordered.indexOf('\u0001') < 0) return ordered;
  return ordered.replace(/[\u0000\u0001]/g, (c) => (c === '\u0000' ? '\u0001\u0001' : '\u0001\u0002'));
}

/** The type class of a value (missing and undefined are nullish). */
export function typeClassOf(value: unknown): number {
  if (value === null || value === undefined) return TypeClass.nullish;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return TypeClass.number;
    case 'string':
      return TypeClass.string;
    case 'boolean':
      return TypeClass.boolean;
    case 'object':
      break;
    default:
      return TypeClass.nullish;
  }
  if (Array.isArray(value)) return TypeClass.array;
  if (value instanceof Date) return TypeClass.date;
  if (value instanceof RegExp) return TypeClass.regex;
  const bsontype = (value as { _bsontype?: string })._bsontype;
  switch (bsontype) {
    case 'ObjectId':
      return TypeClass.objectId;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return TypeClass.number;
    case 'Binary':
      return TypeClass.binData;
    case 'Timestamp':
      return TypeClass.timestamp;
    case 'BSONRegExp':
      return TypeClass.regex;
    case 'MinKey':
      return TypeClass.minKey;
    case 'MaxKey':
      return TypeClass.maxKey;
    case 'BSONSymbol':
      return TypeClass.string;
    case 'Code':
      return TypeClass.string;
    default:
      return TypeClass.object;
  }
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number.parseFloat(value.toString());
  const v = (value as { valueOf(): unknown }).valueOf();
  return typeof v === 'number' ? v : Number(v);
}

/**
 * What a 64-bit integer loses when rounded to the nearest double (|r| ≤ 1024), as 4 sortable hex digits: numbers
 * order by their double first, then by this remainder, so longs beyond 2^53 keep their exact order.
 */
function encodeRemainder(value: unknown, rounded: number): string {
  let remainder = 0;
  if ((value instanceof Long || typeof value === 'bigint') && Number.isFinite(rounded) && Math.abs(rounded) >= 2 ** 53) {
    remainder = Number(BigInt(value.toString()) - BigInt(rounded));
  }
  return (remainder + 0x8000).toString(16).padStart(4, '0');
}

/** Encodes one value; the result is prefix-free and compares (as a JS string) like MongoDB orders values. */
export function encodeValue(value: unknown): string {
  const tc = typeClassOf(value);
  const t = String.fromCharCode(tc);
  switch (tc) {
    case TypeClass.nullish:
      return NULL_KEY;
    case TypeClass.minKey:
    case TypeClass.maxKey:
      return t;
    case TypeClass.number: {
      const rounded = numberOf(value);
      return t + encodeNumber(rounded) + encodeRemainder(value, rounded);
    }
    case TypeClass.string:
      return t + escapeString(typeof value === 'string' ? value : String((value as { value?: unknown; code?: unknown }).value ?? (value as { code?: unknown }).code)) + '\u0000';
    case TypeClass.boolean:
      return t + (value ? '1' : '0');
    case TypeClass.date:
      return t + encodeNumber((value as Date).getTime());
    case TypeClass.objectId:
      return t + (value as ObjectId).toHexString();
    case TypeClass.timestamp: {
      const ts = value as Timestamp;
      return t + hex8(ts.high) + hex8(ts.low);
    }
    case TypeClass.binData: {
      const bin = value as Binary;
      const bytes = Buffer.from(bin.buffer.buffer, bin.buffer.byteOffset, bin.position);
      return t + hex8(bytes.length) + bin.sub_type.toString(16).padStart(2, '0') + bytes.toString('hex');
    }
    case TypeClass.regex: {
      const src = value instanceof RegExp ? value.source : String((value as { pattern: string }).pattern);
      const flags = value instanceof RegExp ? value.flags : String((value as { options: string }).options);
      return t + escapeString(src) + '\u0000' + flags + '\u0000';
    }
    case TypeClass.array: {
      let out = t;
      for (const el of value as unknown[]) out += encodeValue(el);
      return out + '\u0000';
    }
    default: {
      let out = t;
      for (const [k, v] of Object.entries(value as Document)) {
        if (v === undefined) continue;
        out += String.fromCharCode(typeClassOf(v)) + escapeString(k) + '\u0000' + encodeValue(v);
      }
      return out + '\u0000';
    }
  }
}

/** Characters per `String.fromCharCode` call, well below the engine's limit on arguments. */
const CHARS_PER_CALL = 4096;

/** Reverses the order of an encoded value (for descending index fields). */
export function complement(encoded: string): string {
  const codes: number[] = new Array<number>(encoded.length);
  for (let i = 0; i < encoded.length; i++) codes[i] = 0xffff - encoded.charCodeAt(i);
  if (codes.length <= CHARS_PER_CALL) return String.fromCharCode.apply(null, codes);
  let out = '';
  for (let i = 0; i < codes.length; i += CHARS_PER_CALL) out += String.fromCharCode.apply(null, codes.slice(i, i + CHARS_PER_CALL));
  return out;
}

/**
 * The values an index on `path` sees in a document, following arrays like MongoDB's multikey indexes:
 * each array element is a separate key; a missing field is null; an empty array at the leaf is its own key.
 */
export function keyValuesAt(doc: unknown, path: string[], from = 0, out: unknown[] = []): unknown[] {
  if (from === path.length) {
    if (Array.isArray(doc)) {
      if (doc.length === 0) out.push(EMPTY_ARRAY_MARK);
      else for (const el of doc) out.push(el);
    } else {
      out.push(doc);
    }
    return out;
  }
  if (doc === null || doc === undefined || typeof doc !== 'object' || isBsonScalar(doc)) {
    out.push(null);
    return out;
  }
  if (Array.isArray(doc)) {
    const seg = path[from];
    if (/^\d+$/.test(seg)) {
      const idx = Number(seg);
      if (idx < doc.length) return keyValuesAt(doc[idx], path, from + 1, out);
    }
    if (doc.length === 0) {
      out.push(null);
      return out;
    }
    for (const el of doc) {
      if (el !== null && typeof el === 'object' && !isBsonScalar(el)) keyValuesAt(el, path, from, out);
      else out.push(null);
    }
    return out;
  }
  return keyValuesAt((doc as Document)[path[from]], path, from + 1, out);
}

/** Marker value standing for an empty array at an index path's leaf. */
export const EMPTY_ARRAY_MARK = Symbol('emptyArray');

/** encodeValue that understands the empty-array marker. */
export function encodeKeyValue(value: unknown): string {
  return value === EMPTY_ARRAY_MARK ? EMPTY_ARRAY_KEY : encodeValue(value);
}

/** True for BSON values that are objects in JS but scalars in MongoDB (ObjectId, Date, Binary...). */
export function isBsonScalar(value: object): boolean {
  if (value instanceof Date || value instanceof RegExp || Array.isArray(value)) return !Array.isArray(value);
  const t = (value as { _bsontype?: string })._bsontype;
  return t !== undefined && t !== 'Document';
}

export { NULL_KEY, EMPTY_ARRAY_KEY };
