// $jsonSchema: the subset of MongoDB's JSON Schema draft 4 dialect used by collection validators.

import { ErrorCodes, MongoError } from '../errors';
import { compareValues, isPlainObject, toNumber, typeRank, TypeRank, valuesEqual, type Doc } from './compare';
import { typeName } from './format';

type Check = (v: unknown) => boolean;

const KEYWORDS = new Set([
  'bsonType', 'type', 'required', 'properties', 'additionalProperties', 'patternProperties', 'enum',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern',
  'items', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'anyOf', 'allOf',
  'oneOf', 'not', 'multipleOf', 'title', 'description',
]);

const JSON_TYPES: Record<string, (v: unknown) => boolean> = {
  object: (v) => isPlainObject(v),
  array: (v) => Array.isArray(v),
  number: (v) => typeRank(v) === TypeRank.Number,
  boolean: (v) => typeof v === 'boolean',
  string: (v) => typeof v === 'string',
  null: (v) => v === null,
};

function bsonTypeMatches(name: string, v: unknown): boolean {
  if (name === 'number') return typeRank(v) === TypeRank.Number;
  const actual = typeName(v);
  if (name === actual) return true;
  if (typeof v === 'number' && Number.isInteger(v)) return name === 'double' || name === 'int' || name === 'long';
  return false;
}

function typeList(v: unknown, keyword: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x) => typeof x === 'string')) {
    throw new MongoError(ErrorCodes.TypeMismatch, `$jsonSchema keyword '${keyword}' must be a string or an array of strings`);
  }
  return list as string[];
}

function num(schema: Doc, key: string): number {
  const v = schema[key];
  if (typeRank(v) !== TypeRank.Number) throw new MongoError(ErrorCodes.TypeMismatch, `$jsonSchema keyword '${key}' must be a number`);
  return toNumber(v);
}

/** Compiles a $jsonSchema document into a predicate over values. */
export function compileJsonSchema(schema: unknown): Check {
  if (!isPlainObject(schema)) throw new MongoError(ErrorCodes.TypeMismatch, '$jsonSchema must be an object');
  const checks: Check[] = [];
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key)) {
      throw new MongoError(ErrorCodes.FailedToParse, `Unknown $jsonSchema keyword: ${key}`);
    }
  }
  if (schema.type !== undefined && schema.bsonType !== undefined) {
    throw new MongoError(ErrorCodes.FailedToParse, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
  }
  if (schema.bsonType !== undefined) {
    const names = typeList(schema.bsonType, 'bsonType');
    checks.push((v) => names.some((n) => bsonTypeMatches(n, v)));
  }
  if (schema.type !== undefined) {
    const names = typeList(schema.type, 'type');
    for (const n of names) {
      if (n === 'integer') throw new MongoError(ErrorCodes.BadValue, "$jsonSchema type 'integer' is not currently supported.");
      if (!JSON_TYPES[n]) throw new MongoError(ErrorCodes.BadValue, `Unknown type name alias: ${n}`);
    }
    checks.push((v) => names.some((n) => JSON_TYPES[n](v)));
  }
  if (schema.enum !== undefined) {
    const values = schema.enum;
    if (!Array.isArray(values) || values.length === 0) throw new MongoError(ErrorCodes.FailedToParse, '$jsonSchema keyword \'enum\' must be a non-empty array');
    checks.push((v) => values.some((x) => valuesEqual(x, v) && typeRank(x) === typeRank(v)));
  }
  const isNum = (v: unknown) => typeRank(v) === TypeRank.Number;
  if (schema.minimum !== undefined) {
    const m = num(schema, 'minimum');
    const excl = schema.exclusiveMinimum === true;
    checks.push((v) => !isNum(v) || (excl ? compareValues(v, m) > 0 : compareValues(v, m) >= 0));
  }
  if (schema.maximum !== undefined) {
    const m = num(schema, 'maximum');
    const excl = schema.exclusiveMaximum === true;
    checks.push((v) => !isNum(v) || (excl ? compareValues(v, m) < 0 : compareValues(v, m) <= 0));
  }
  if (schema.multipleOf !== undefined) {
    const m = num(schema, 'multipleOf');
    checks.push((v) => !isNum(v) || toNumber(v) % m === 0);
  }
  if (schema.minLength !== undefined) {
    const m = num(schema, 'minLength');
    checks.push((v) => typeof v !== 'string' || [...v].length >= m);
  }
  if (schema.maxLength !== undefined) {
    const m = num(schema, 'maxLength');
    checks.push((v) => typeof v !== 'string' || [...v].length <= m);
  }
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, "$jsonSchema keyword 'pattern' must be a string");
    const re = new RegExp(schema.pattern, 'u');
    checks.push((v) => typeof v !== 'string' || re.test(v));
  }
  if (schema.minItems !== undefined) {
    const m = num(schema, 'minItems');
    checks.push((v) => !Array.isArray(v) || v.length >= m);
  }
  if (schema.maxItems !== undefined) {
    const m = num(schema, 'maxItems');
    checks.push((v) => !Array.isArray(v) || v.length <= m);
  }
  if (schema.uniqueItems === true) {
    checks.push((v) => !Array.isArray(v) || v.every((x, i) => v.findIndex((y) => valuesEqual(x, y)) === i));
  }
  if (schema.items !== undefined) {
    if (Array.isArray(schema.items)) {
      const tuple = schema.items.map((s) => compileJsonSchema(s));
      checks.push((v) => !Array.isArray(v) || tuple.every((c, i) => i >= v.length || c(v[i])));
    } else {
      const item = compileJsonSchema(schema.items);
      checks.push((v) => !Array.isArray(v) || v.every(item));
    }
  }
  if (schema.required !== undefined) {
    const req = schema.required;
    if (!Array.isArray(req) || req.length === 0 || !req.every((x) => typeof x === 'string')) {
      throw new MongoError(ErrorCodes.FailedToParse, "$jsonSchema keyword 'required' must be a non-empty array of strings");
    }
    checks.push((v) => !isPlainObject(v) || req.every((k) => v[k] !== undefined));
  }
  if (schema.minProperties !== undefined) {
    const m = num(schema, 'minProperties');
    checks.push((v) => !isPlainObject(v) || Object.keys(v).length >= m);
  }
  if (schema.maxProperties !== undefined) {
    const m = num(schema, 'maxProperties');
    checks.push((v) => !isPlainObject(v) || Object.keys(v).length <= m);
  }
  const props = schema.properties;
  const propChecks = new Map<string, Check>();
  if (props !== undefined) {
    if (!isPlainObject(props)) throw new MongoError(ErrorCodes.TypeMismatch, "$jsonSchema keyword 'properties' must be an object");
    for (const [k, s] of Object.entries(props)) propChecks.set(k, compileJsonSchema(s));
    checks.push((v) => !isPlainObject(v) || [...propChecks].every(([k, c]) => v[k] === undefined || c(v[k])));
  }
  const patternChecks: Array<[RegExp, Check]> = [];
  if (schema.patternProperties !== undefined) {
    if (!isPlainObject(schema.patternProperties)) throw new MongoError(ErrorCodes.TypeMismatch, "$jsonSchema keyword 'patternProperties' must be an object");
    for (const [p, s] of Object.entries(schema.patternProperties)) patternChecks.push([new RegExp(p, 'u'), compileJsonSchema(s)]);
    checks.push((v) => !isPlainObject(v) || patternChecks.every(([re, c]) => Object.keys(v).every((k) => !re.test(k) || c(v[k]))));
  }
  if (schema.additionalProperties !== undefined) {
    const ap = schema.additionalProperties;
    const extraCheck: Check = ap === false ? () => false : ap === true ? () => true : compileJsonSchema(ap);
    checks.push((v) => !isPlainObject(v) || Object.keys(v).every((k) =>
      propChecks.has(k) || patternChecks.some(([re]) => re.test(k)) || extraCheck(v[k])));
  }
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) throw new MongoError(ErrorCodes.FailedToParse, `$jsonSchema keyword '${key}' must be a non-empty array`);
    const subs = list.map((s) => compileJsonSchema(s));
    if (key === 'anyOf') checks.push((v) => subs.some((c) => c(v)));
    else if (key === 'allOf') checks.push((v) => subs.every((c) => c(v)));
    else checks.push((v) => subs.filter((c) => c(v)).length === 1);
  }
  if (schema.not !== undefined) {
    const sub = compileJsonSchema(schema.not);
    checks.push((v) => !sub(v));
  }
  return (v) => checks.every((c) => c(v));
}
