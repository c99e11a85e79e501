// Query filters: compiles a MongoDB filter document into a predicate, with MongoDB's array and type rules.

import { ErrorCodes, MongoError } from '../errors';
import { bsonType, compareValues, isPlainObject, toNumber, typeRank, TypeRank, valuesEqual, type Doc } from './compare';
import { toMongoError } from './convert';
import { compileForDocs, isTruthy } from './expression';
import { typeName } from './format';
import { groupKey } from './hashkey';
import { compileJsonSchema } from './jsonschema';

export interface FilterOptions {
  variables?: Doc;
}

type Pred = (doc: Doc) => boolean;
type Leaf = (value: unknown) => boolean;

const NUMERIC = /^\d+$/;
const UNSUPPORTED_QUERY_OPS = new Set(['$near', '$nearSphere', '$geoWithin', '$geoIntersects', '$within', '$text', '$where']);

/** Compiles a filter; throws MongoError naming any unknown or unsupported operator. */
export function compileFilter(filter: Doc, options: FilterOptions = {}): Pred {
  if (!isPlainObject(filter)) {
    throw new MongoError(ErrorCodes.BadValue, 'query filter must be an object');
  }
  const pred = compileDoc(filter, options);
  return (doc: Doc) => {
    try {
      return pred(doc);
    } catch (e) {
      throw toMongoError(e);
    }
  };
}

function compileDoc(filter: Doc, options: FilterOptions): Pred {
  const preds: Pred[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) preds.push(compileTopLevel(key, value, options));
    else preds.push(compileField(key, value, options));
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (doc) => {
    for (const p of preds) if (!p(doc)) return false;
    return true;
  };
}

function compileTopLevel(op: string, value: unknown, options: FilterOptions): Pred {
  switch (op) {
    case '$and':
    case '$or':
    case '$nor': {
      if (!Array.isArray(value) || value.length === 0) {
        throw new MongoError(ErrorCodes.BadValue, `${op} must be a nonempty array`);
      }
      const subs = value.map((sub: unknown) => {
        if (!isPlainObject(sub)) {
          throw new MongoError(ErrorCodes.BadValue, '$or/$and/$nor entries need to be full objects');
        }
        return compileDoc(sub, options);
      });
      if (op === '$and') return (doc) => subs.every((p) => p(doc));
      if (op === '$or') return (doc) => subs.some((p) => p(doc));
      return (doc) => !subs.some((p) => p(doc));
    }
    case '$expr': {
      const f = compileForDocs(value, options.variables);
      return (doc) => isTruthy(f(doc));
    }
    case '$comment':
      return () => true;
    case '$alwaysTrue':
      return () => true;
    case '$alwaysFalse':
      return () => false;
    case '$text':
      throw new MongoError(ErrorCodes.IndexNotFound, '$text is not supported by this engine (text index required for $text query)');
    case '$where':
      throw new MongoError(ErrorCodes.BadValue, '$where is not supported by this engine');
    case '$jsonSchema': {
      const check = compileJsonSchema(value);
      return (doc) => check(doc);
    }
    default:
      throw new MongoError(ErrorCodes.BadValue, `unknown top level operator: ${op}`);
  }
}

function isOperatorObject(value: unknown): value is Doc {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys[0].startsWith('$');
}

function compileField(path: string, cond: unknown, options: FilterOptions): Pred {
  const parts = path.split('.');
  if (isOperatorObject(cond)) {
    const preds: Pred[] = [];
    const ops = cond;
    for (const [op, arg] of Object.entries(ops)) {
      if (op === '$options') {
        if (!('$regex' in ops)) throw new MongoError(ErrorCodes.BadValue, '$options needs a $regex');
        continue;
      }
      preds.push(compileOperator(parts, op, arg, ops, options));
    }
    if (preds.length === 1) return preds[0];
    return (doc) => preds.every((p) => p(doc));
  }
  return positive(parts, eqLeaf(cond), cond === null);
}

/** A predicate true when some value reached by the path (arrays traversed) satisfies leaf. */
function positive(parts: string[], leaf: Leaf, matchMissing: boolean): Pred {
  if (parts.length === 1) {
    const field = parts[0];
    return (doc) => {
      const v = doc[field];
      return leaf(v) || (matchMissing && v === undefined);
    };
  }
  return (doc) => walk(doc, parts, 0, leaf, matchMissing);
}

function walk(value: unknown, parts: string[], i: number, leaf: Leaf, matchMissing: boolean): boolean {
  if (i === parts.length) return leaf(value) || (matchMissing && value === undefined);
  const part = parts[i];
  if (Array.isArray(value)) {
    if (NUMERIC.test(part) && walk(value[Number(part)], parts, i + 1, leaf, matchMissing)) return true;
    for (const el of value) {
      if (isPlainObject(el) && walk(el, parts, i, leaf, matchMissing)) return true;
    }
    return false;
  }
  if (isPlainObject(value)) return walk(value[part], parts, i + 1, leaf, matchMissing);
  return walk(undefined, parts, parts.length, leaf, matchMissing);
}

function anyElement(leaf: Leaf): Leaf {
  return (v) => {
    if (leaf(v)) return true;
    if (Array.isArray(v)) {
      for (const el of v) if (leaf(el)) return true;
    }
    return false;
  };
}

function isRegexValue(v: unknown): boolean {
  return v instanceof RegExp || bsonType(v) === 'BSONRegExp';
}

function toRegExp(v: unknown, extraFlags = ''): RegExp {
  let source: string;
  let flags: string;
  if (v instanceof RegExp) {
    source = v.source;
    flags = v.flags;
  } else if (bsonType(v) === 'BSONRegExp') {
    const r = v as { pattern: string; options: string };
    source = r.pattern;
    flags = r.options;
  } else if (typeof v === 'string') {
    source = v;
    flags = '';
  } else {
    throw new MongoError(ErrorCodes.BadValue, '$regex has to be a string');
  }
  flags += extraFlags;
  let jsFlags = '';
  for (const f of new Set(flags)) {
    if (f === 'i' || f === 'm' || f === 's') jsFlags += f;
    else if (f === 'x') source = source.replace(/\\#/g, '\u0000').replace(/#[^\n]*/g, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
    else if (f === 'u' || f === 'g') continue;
    else throw new MongoError(51108, `invalid flag in regex options: ${f}`);
  }
  try {
    return new RegExp(source, jsFlags);
  } catch (e) {
    throw new MongoError(51091, `Regular expression is invalid: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function regexLeaf(re: RegExp): Leaf {
  return anyElement((v) => {
    if (typeof v === 'string') {
      re.lastIndex = 0;
      return re.test(v);
    }
    if (isRegexValue(v)) {
      const r = toRegExp(v);
      return r.source === re.source && r.flags === re.flags;
    }
    return false;
  });
}

/** Equality as a query leaf: the value, or any element of an array value, equals target. */
function eqLeaf(target: unknown): Leaf {
  if (isRegexValue(target)) return regexLeaf(toRegExp(target));
  if (target === null || target === undefined) {
    return (v) => v === null || v === undefined || (Array.isArray(v) && v.some((x) => x === null));
  }
  if (typeof target === 'string' || typeof target === 'boolean') {
    return (v) => v === target || (Array.isArray(v) && v.includes(target));
  }
  if (typeof target === 'number' && !Number.isNaN(target)) {
    return (v) => {
      if (v === target) return true;
      if (typeof v === 'number' || v === undefined || v === null || typeof v === 'string') return false;
      if (Array.isArray(v)) return v.some((x) => x === target || (typeof x === 'object' && x !== null && valuesEqual(x, target)));
      return valuesEqual(v, target);
    };
  }
  return (v) => valuesEqual(v, target) || (Array.isArray(v) && v.some((x) => valuesEqual(x, target)));
}

function inLeaf(values: unknown): Leaf {
  if (!Array.isArray(values)) throw new MongoError(ErrorCodes.BadValue, '$in needs an array');
  for (const v of values) {
    if (isOperatorObject(v)) throw new MongoError(ErrorCodes.BadValue, 'cannot nest $ under $in');
  }
  const hashable = values.filter((v) => v !== null && !isRegexValue(v) && (typeof v !== 'object' || v instanceof Date || bsonType(v) === 'ObjectId'));
  const others = values.filter((v) => !hashable.includes(v)).map((v) => eqLeaf(v));
  const keys = new Set(hashable.map((v) => groupKey(v)));
  const scalarHit = (x: unknown): boolean =>
    x !== null && x !== undefined && (typeof x !== 'object' || x instanceof Date || bsonType(x) === 'ObjectId' || typeRank(x) === TypeRank.Number) && keys.has(groupKey(x));
  return (v) => {
    if (keys.size > 0) {
      if (scalarHit(v)) return true;
      if (Array.isArray(v) && v.some(scalarHit)) return true;
    }
    for (const l of others) if (l(v)) return true;
    return false;
  };
}

function comparisonLeaf(op: string, target: unknown): Leaf {
  const test = (c: number): boolean =>
    op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
  if (isRegexValue(target)) {
    if (op === '$gte' || op === '$lte') return regexLeaf(toRegExp(target));
    return () => false;
  }
  const rank = typeRank(target);
  const bracketed = (v: unknown): boolean => {
    const r = typeRank(v);
    if (rank === TypeRank.MinKey || rank === TypeRank.MaxKey) return test(compareValues(v, target));
    if (r !== rank) return false;
    if (rank === TypeRank.Null) return op === '$gte' || op === '$lte';
    return test(compareValues(v, target));
  };
  if (Array.isArray(target)) {
    return (v) => (Array.isArray(v) && bracketed(v)) || (Array.isArray(v) && v.some((x) => Array.isArray(x) && bracketed(x)));
  }
  return (v) => {
    if (Array.isArray(v)) return v.some(bracketed);
    return bracketed(v);
  };
}

const TYPE_ALIASES: Record<string, number> = {
  double: 1, string: 2, object: 3, array: 4, binData: 5, undefined: 6, objectId: 7, bool: 8, date: 9,
  null: 10, regex: 11, dbPointer: 12, javascript: 13, symbol: 14, javascriptWithScope: 15, int: 16,
  timestamp: 17, long: 18, decimal: 19, minKey: -1, maxKey: 127,
};

function typeCodesOf(v: unknown): number[] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return [1];
    return v >= -2147483648 && v <= 2147483647 ? [16, 1] : [18, 1];
  }
  const name = typeName(v);
  const code = TYPE_ALIASES[name];
  return code === undefined ? [] : [code];
}

function typeLeaf(spec: unknown): Leaf {
  const specs = Array.isArray(spec) ? spec : [spec];
  if (specs.length === 0) throw new MongoError(ErrorCodes.FailedToParse, '$type must match at least one type');
  const codes = new Set<number>();
  let numberAlias = false;
  for (const s of specs) {
    if (s === 'number') numberAlias = true;
    else if (typeof s === 'string') {
      const code = TYPE_ALIASES[s];
      if (code === undefined) throw new MongoError(ErrorCodes.BadValue, `Unknown type name alias: ${s}`);
      codes.add(code);
    } else if (typeof s === 'number' && Number.isInteger(s)) {
      if (!Object.values(TYPE_ALIASES).includes(s)) throw new MongoError(ErrorCodes.BadValue, `Invalid numerical type code: ${s}`);
      codes.add(s);
    } else {
      throw new MongoError(ErrorCodes.TypeMismatch, 'type must be represented as a number or a string');
    }
  }
  const matches = (v: unknown): boolean => {
    if (v === undefined) return false;
    if (numberAlias && typeRank(v) === TypeRank.Number) return true;
    return typeCodesOf(v).some((c) => codes.has(c));
  };
  return (v) => matches(v) || (Array.isArray(v) && v.some(matches));
}

function sizeLeaf(arg: unknown): Leaf {
  const n = toNumber(arg);
  if (typeRank(arg) !== TypeRank.Number) throw new MongoError(ErrorCodes.BadValue, '$size needs a number');
  if (!Number.isInteger(n)) throw new MongoError(ErrorCodes.BadValue, `$size must be a whole number`);
  if (n < 0) throw new MongoError(ErrorCodes.BadValue, '$size may not be negative');
  return (v) => Array.isArray(v) && v.length === n;
}

function modLeaf(arg: unknown): Leaf {
  if (!Array.isArray(arg)) throw new MongoError(ErrorCodes.BadValue, 'malformed mod, needs to be an array');
  if (arg.length < 2) throw new MongoError(ErrorCodes.BadValue, 'malformed mod, not enough elements');
  if (arg.length > 2) throw new MongoError(ErrorCodes.BadValue, 'malformed mod, too many elements');
  if (typeRank(arg[0]) !== TypeRank.Number || typeRank(arg[1]) !== TypeRank.Number) {
    throw new MongoError(ErrorCodes.BadValue, 'malformed mod, divisor and remainder must be numbers');
  }
  const d = Math.trunc(toNumber(arg[0]));
  const r = Math.trunc(toNumber(arg[1]));
  if (d === 0) throw new MongoError(ErrorCodes.BadValue, 'divisor cannot be 0');
  return anyElement((v) => typeRank(v) === TypeRank.Number && Math.trunc(toNumber(v)) % d === r);
}

function bitsLeaf(op: string, arg: unknown): Leaf {
  let mask = 0n;
  if (Array.isArray(arg)) {
    for (const p of arg) {
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
        throw new MongoError(ErrorCodes.BadValue, `bit positions must be non-negative integers: ${op}`);
      }
      mask |= 1n << BigInt(p);
    }
  } else if (typeRank(arg) === TypeRank.Number && Number.isInteger(toNumber(arg)) && toNumber(arg) >= 0) {
    mask = BigInt(toNumber(arg));
  } else {
    throw new MongoError(ErrorCodes.BadValue, `${op} takes an Array, a number, or a BinData but received: ${typeName(arg)}`);
  }
  return (v) => {
    if (typeRank(v) !== TypeRank.Number) return false;
    const n = toNumber(v);
    if (!Number.isInteger(n)) return false;
    const bits = BigInt.asUintN(64, BigInt(n));
    const set = bits & mask;
    switch (op) {
      case '$bitsAllSet':
        return set === mask;
      case '$bitsAnySet':
        return set !== 0n;
      case '$bitsAllClear':
        return set === 0n;
      default:
        return set !== mask;
    }
  };
}

function elemMatchLeaf(spec: unknown, options: FilterOptions): Leaf {
  if (!isPlainObject(spec)) throw new MongoError(ErrorCodes.BadValue, '$elemMatch needs an Object');
  const keys = Object.keys(spec);
  const valueForm = keys.length > 0 && keys.every((k) => k.startsWith('$') && !['$and', '$or', '$nor', '$expr', '$where'].includes(k));
  let elTest: (el: unknown) => boolean;
  if (valueForm) {
    const p = compileField('v', spec, options);
    elTest = (el) => p({ v: el });
  } else {
    const p = compileDoc(spec, options);
    elTest = (el) => isPlainObject(el) && p(el);
  }
  return (v) => Array.isArray(v) && v.some(elTest);
}

function allLeaf(arg: unknown, options: FilterOptions): Leaf {
  if (!Array.isArray(arg)) throw new MongoError(ErrorCodes.BadValue, '$all needs an array');
  if (arg.length === 0) return () => false;
  const leaves = arg.map((a: unknown) => {
    if (isPlainObject(a) && '$elemMatch' in a) return elemMatchLeaf(a.$elemMatch, options);
    if (isOperatorObject(a)) throw new MongoError(ErrorCodes.BadValue, 'no $ expressions in $all');
    return eqLeaf(a);
  });
  return (v) => leaves.every((l) => l(v));
}

function compileOperator(parts: string[], op: string, arg: unknown, all: Doc, options: FilterOptions): Pred {
  switch (op) {
    case '$eq':
      return positive(parts, eqLeaf(arg), arg === null);
    case '$ne': {
      const p = positive(parts, eqLeaf(arg), arg === null);
      return (doc) => !p(doc);
    }
    case '$in': {
      const hasNull = Array.isArray(arg) && arg.some((x) => x === null);
      return positive(parts, inLeaf(arg), hasNull);
    }
    case '$nin': {
      const hasNull = Array.isArray(arg) && arg.some((x) => x === null);
      const p = positive(parts, inLeaf(arg), hasNull);
      return (doc) => !p(doc);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return positive(parts, comparisonLeaf(op, arg), arg === null && op !== '$gt' && op !== '$lt');
    case '$exists': {
      const want = !(arg === false || arg === 0 || arg === null);
      const p = positive(parts, (v) => v !== undefined, false);
      return want ? p : (doc) => !p(doc);
    }
    case '$type':
      return positive(parts, typeLeaf(arg), false);
    case '$size':
      return positive(parts, sizeLeaf(arg), false);
    case '$all':
      return positive(parts, allLeaf(arg, options), false);
    case '$elemMatch':
      return positive(parts, elemMatchLeaf(arg, options), false);
    case '$regex': {
      const flags = typeof all.$options === 'string' ? all.$options : '';
      if (all.$options !== undefined && typeof all.$options !== 'string') {
        throw new MongoError(ErrorCodes.BadValue, '$options has to be a string');
      }
      return positive(parts, regexLeaf(toRegExp(arg, flags)), false);
    }
    case '$mod':
      return positive(parts, modLeaf(arg), false);
    case '$bitsAllSet':
    case '$bitsAnySet':
    case '$bitsAllClear':
    case '$bitsAnyClear':
      return positive(parts, bitsLeaf(op, arg), false);
    case '$not': {
      let inner: Pred;
      if (isRegexValue(arg)) inner = positive(parts, regexLeaf(toRegExp(arg)), false);
      else if (isPlainObject(arg)) {
        if (Object.keys(arg).length === 0) throw new MongoError(ErrorCodes.BadValue, '$not cannot be empty');
        if (!isOperatorObject(arg)) throw new MongoError(ErrorCodes.BadValue, 'unknown operator: ' + Object.keys(arg)[0]);
        inner = compileField(parts.join('.'), arg, options);
      } else {
        throw new MongoError(ErrorCodes.BadValue, '$not needs a regex or a document');
      }
      return (doc) => !inner(doc);
    }
    case '$comment':
      return () => true;
    default:
      if (UNSUPPORTED_QUERY_OPS.has(op)) {
        throw new MongoError(ErrorCodes.BadValue, `${op} is not supported by this engine (geospatial and text queries are unavailable)`);
      }
      throw new MongoError(ErrorCodes.BadValue, `unknown operator: ${op}`);
  }
}
