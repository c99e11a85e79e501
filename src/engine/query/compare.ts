// BSON value ordering and equality as MongoDB defines them, plus dotted-path reads over arrays.

export type Doc = Record<string, unknown>;

interface BsonTagged {
  _bsontype: string;
}

/** The bson class name of a value (`ObjectId`, `Long`, ...), or undefined for plain JS values. */
export function bsonType(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object' && '_bsontype' in v) {
    const t = (v as BsonTagged)._bsontype;
    return typeof t === 'string' ? t : undefined;
  }
  return undefined;
}

/** Canonical type ranks of MongoDB's comparison order. */
export const TypeRank = {
  MinKey: 1,
  Null: 2,
  Number: 3,
  String: 4,
  Object: 5,
  Array: 6,
  BinData: 7,
  ObjectId: 8,
  Bool: 9,
  Date: 10,
  Timestamp: 11,
  Regex: 12,
  MaxKey: 13,
  Other: 14,
} as const;

/** The rank of a value's type in MongoDB's comparison order (missing and undefined rank as null). */
export function typeRank(v: unknown): number {
  if (v === null || v === undefined) return TypeRank.Null;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return TypeRank.Number;
    case 'string':
      return TypeRank.String;
    case 'boolean':
      return TypeRank.Bool;
    case 'object':
      break;
    default:
      return TypeRank.Other;
  }
  if (Array.isArray(v)) return TypeRank.Array;
  if (v instanceof Date) return TypeRank.Date;
  if (v instanceof RegExp) return TypeRank.Regex;
  switch (bsonType(v)) {
    case undefined:
      return TypeRank.Object;
    case 'ObjectId':
      return TypeRank.ObjectId;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return TypeRank.Number;
    case 'Binary':
      return TypeRank.BinData;
    case 'Timestamp':
      return TypeRank.Timestamp;
    case 'BSONRegExp':
      return TypeRank.Regex;
    case 'MinKey':
      return TypeRank.MinKey;
    case 'MaxKey':
      return TypeRank.MaxKey;
    case 'BSONSymbol':
      return TypeRank.String;
    case 'DBRef':
      return TypeRank.Object;
    default:
      return TypeRank.Other;
  }
}

interface LongLike {
  toBigInt(): bigint;
  toNumber(): number;
}
interface ValueOf {
  valueOf(): unknown;
}

/** A number-typed value as a JS number (Long and Decimal128 approximated). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  switch (bsonType(v)) {
    case 'Long':
      return (v as LongLike).toNumber();
    case 'Int32':
    case 'Double':
      return Number((v as ValueOf).valueOf());
    case 'Decimal128':
      return parseFloat(String(v));
    default:
      return NaN;
  }
}

function compareNumbers(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return cmpNum(a, b);
  const ta = bsonType(a);
  const tb = bsonType(b);
  if (ta === 'Long' && tb === 'Long') {
    const x = (a as LongLike).toBigInt();
    const y = (b as LongLike).toBigInt();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ta === 'Long' && typeof b === 'number' && Number.isInteger(b)) {
    const x = (a as LongLike).toBigInt();
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (tb === 'Long' && typeof a === 'number' && Number.isInteger(a)) {
    const x = BigInt(a);
    const y = (b as LongLike).toBigInt();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return cmpNum(toNumber(a), toNumber(b));
}

/** NaN sorts below every other number and equals itself, as in MongoDB. */
function cmpNum(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  const xn = Number.isNaN(x);
  const yn = Number.isNaN(y);
  if (xn && yn) return 0;
  return xn ? -1 : 1;
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/**
 * MongoDB's simple collation orders strings by their UTF-8 bytes, that is by code point. JS compares UTF-16 code
 * units, which differs only where a supplementary character (a surrogate pair) meets U+E000–U+FFFF.
 */
function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = isSurrogate(x);
    if (xs !== isSurrogate(y)) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const t = bsonType(v);
  if (t === 'ObjectId') return (v as { id: Uint8Array }).id;
  if (t === 'Binary') {
    const bin = v as { buffer: Uint8Array; position: number };
    return bin.buffer.subarray(0, bin.position);
  }
  return new Uint8Array(0);
}

interface OidWords {
  i0?: number;
  i1?: number;
  i2?: number;
  i3?: number;
}

/** ObjectIds of bson ≥ 7 keep their 12 bytes as four 24-bit words; comparing them avoids building buffers. */
function compareObjectIds(a: unknown, b: unknown): number {
  const x = a as OidWords;
  const y = b as OidWords;
  if (typeof x.i0 === 'number' && typeof y.i0 === 'number') {
    if (x.i0 !== y.i0) return x.i0 < y.i0 ? -1 : 1;
    if (x.i1 !== y.i1) return (x.i1 ?? 0) < (y.i1 ?? 0) ? -1 : 1;
    if (x.i2 !== y.i2) return (x.i2 ?? 0) < (y.i2 ?? 0) ? -1 : 1;
    if (x.i3 !== y.i3) return (x.i3 ?? 0) < (y.i3 ?? 0) ? -1 : 1;
    return 0;
  }
  return cmpBytes(bytesOf(a), bytesOf(b));
}

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

function timestampParts(v: unknown): [number, number] {
  const ts = v as { t: number; i: number };
  return [ts.t, ts.i];
}

function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : String((v as ValueOf).valueOf());
}

/** MongoDB's BSON comparison: by type rank, then by value within the type. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return cmpNum(a, b);
  if (typeof a === 'string' && typeof b === 'string') return cmpStr(a, b);
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case TypeRank.Null:
    case TypeRank.MinKey:
    case TypeRank.MaxKey:
      return 0;
    case TypeRank.Number:
      return compareNumbers(a, b);
    case TypeRank.String:
      return cmpStr(stringOf(a), stringOf(b));
    case TypeRank.Bool:
      return a === b ? 0 : a ? 1 : -1;
    case TypeRank.Date:
      return cmpNum((a as Date).getTime(), (b as Date).getTime());
    case TypeRank.ObjectId:
      return compareObjectIds(a, b);
    case TypeRank.BinData: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      const sa = (a as { sub_type: number }).sub_type ?? 0;
      const sb = (b as { sub_type: number }).sub_type ?? 0;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return cmpBytes(x, y);
    }
    case TypeRank.Timestamp: {
      const [ta, ia] = timestampParts(a);
      const [tb, ib] = timestampParts(b);
      return ta !== tb ? (ta < tb ? -1 : 1) : cmpNum(ia, ib);
    }
    case TypeRank.Regex: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return cmpStr(pa, pb) || cmpStr(fa, fb);
    }
    case TypeRank.Array: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case TypeRank.Object:
      return compareObjects(a as Doc, b as Doc);
    default:
      return cmpStr(String(a), String(b));
  }
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const rt = typeRank(va) - typeRank(vb);
    if (rt !== 0) return rt < 0 ? -1 : 1;
    const kc = cmpStr(ka[i], kb[i]);
    if (kc !== 0) return kc;
    const vc = compareValues(va, vb);
    if (vc !== 0) return vc;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/** MongoDB equality: numbers equal across int/double/Long/Decimal128, documents field-order sensitive. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === 'string' || ta === 'boolean') return false;
  if (ta === 'number' && typeof b === 'number') return Number.isNaN(a as number) && Number.isNaN(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (ta === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const x = a as OidWords;
    const y = b as OidWords;
    if (typeof x.i0 === 'number' && typeof y.i0 === 'number' && bsonType(a) === 'ObjectId' && bsonType(b) === 'ObjectId') {
      return x.i0 === y.i0 && x.i1 === y.i1 && x.i2 === y.i2 && x.i3 === y.i3;
    }
  }
  return compareValues(a, b) === 0;
}

/** A plain (non-bson, non-array) object: a sub-document. */
export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return false;
  return bsonType(v) === undefined;
}

const NUMERIC = /^\d+$/;

function collectPath(value: unknown, parts: string[], i: number, out: unknown[], crossed: { v: boolean }): void {
  if (i === parts.length) {
    if (value !== undefined) out.push(value);
    return;
  }
  const part = parts[i];
  if (Array.isArray(value)) {
    if (NUMERIC.test(part)) {
      collectPath(value[Number(part)], parts, i + 1, out, crossed);
      return;
    }
    crossed.v = true;
    for (const el of value) {
      if (isPlainObject(el) || Array.isArray(el)) collectPath(el, parts, i, out, crossed);
    }
    return;
  }
  if (isPlainObject(value)) collectPath(value[part], parts, i + 1, out, crossed);
}

/**
 * Reads a dotted path. Without arrays on the way it returns the value (or undefined when missing).
 * When the path crosses arrays it returns the array of values found (leaf arrays flattened one level),
 * as MongoDB does for index keys: {a:[{b:1},{b:[2,3]}]} at 'a.b' gives [1,2,3].
 */
export function getPath(doc: Doc, path: string): unknown {
  if (!path.includes('.')) return doc[path];
  const out: unknown[] = [];
  const crossed = { v: false };
  collectPath(doc, path.split('.'), 0, out, crossed);
  if (!crossed.v) return out[0];
  const flat: unknown[] = [];
  for (const v of out) {
    if (Array.isArray(v)) flat.push(...v);
    else flat.push(v);
  }
  return flat;
}

/** Deep copy of a document: plain objects and arrays copied, bson values and Dates shared (treated as immutable). */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => cloneValue(x)) as T;
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  if (v instanceof Date) return new Date(v.getTime()) as T;
  return v;
}
