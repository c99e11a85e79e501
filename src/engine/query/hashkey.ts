// String keys that identify values by MongoDB equality, for hashing groups and $in lists.

import { bsonType, isPlainObject, toNumber, typeRank, TypeRank } from './compare';

/** A string identifying a group key by MongoDB equality (1, 1.0 and Long(1) alike; missing = null). */
export function groupKey(v: unknown): string {
  if (v === null || v === undefined) return 'z';
  switch (typeof v) {
    case 'number':
      return `n${v}`;
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'bt' : 'bf';
    default:
      break;
  }
  if (v instanceof Date) return `d${v.getTime()}`;
  if (Array.isArray(v)) return `a[${v.map(groupKey).join(',')}]`;
  if (isPlainObject(v)) {
    return `o{${Object.keys(v).filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${groupKey(v[k])}`).join(',')}}`;
  }
  const t = bsonType(v);
  if (t === 'ObjectId') {
    const o = v as { i0?: number; i1?: number; i2?: number; i3?: number; toHexString(): string };
    return typeof o.i0 === 'number' ? `o${o.i0},${o.i1},${o.i2},${o.i3}` : `o${o.toHexString()}`;
  }
  if (typeRank(v) === TypeRank.Number) return `n${toNumber(v)}`;
  return `x${t ?? ''}:${String(v)}`;
}
