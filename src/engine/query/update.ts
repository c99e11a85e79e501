// Updates: operator documents, replacement documents and pipeline updates, returning a new document.

import { Decimal128, Long, Timestamp } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { bsonType, cloneValue, compareValues, isPlainObject, toNumber, valuesEqual, type Doc } from './compare';
import { compileFilter } from './filter';
import { formatIdOf, formatValue, typeName } from './format';
import { runPipeline } from './pipeline';
import { positionalMatchIndex } from './positional';
import { compileSort } from './sort';

export interface UpdateOptions {
  isUpsertInsert?: boolean;
  arrayFilters?: Doc[];
  variables?: Doc;
  query?: Doc;
}

export interface UpdateResult {
  doc: Doc;
  changed: boolean;
}

const UPDATE_OPERATORS = new Set([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$setOnInsert', '$currentDate',
  '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$bit',
]);

const PIPELINE_UPDATE_STAGES = new Set([
  '$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith',
]);

const NUMERIC = /^\d+$/;
const IDENT = /^[a-z][a-zA-Z0-9]*$/;

interface Mod {
  op: string;
  path: string;
  parts: string[];
  arg: unknown;
}

type Container = Doc | unknown[];

/** Applies an update to a copy of doc; `changed` is false when the result is identical to doc. */
export function applyUpdate(doc: Doc, update: Doc | Doc[], options: UpdateOptions = {}): UpdateResult {
  let out: Doc;
  if (Array.isArray(update)) {
    out = applyPipelineUpdate(doc, update, options);
  } else if (!isPlainObject(update)) {
    throw new MongoError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  } else if (Object.keys(update).length > 0 && Object.keys(update)[0].startsWith('$')) {
    out = new OperatorUpdate(doc, update, options).run();
  } else {
    out = applyReplacement(doc, update);
  }
  if ('_id' in doc && !valuesEqual(doc._id, out._id)) {
    throw new MongoError(
      ErrorCodes.ImmutableField,
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  return { doc: out, changed: compareValues(doc, out) !== 0 || !sameTypes(doc, out) };
}

/** Detects type-only changes (e.g. a double replaced by a Long) that compare as equal. */
function sameTypes(a: unknown, b: unknown): boolean {
  if (typeName(a) !== typeName(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.every((x, i) => sameTypes(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) return Object.keys(a).every((k) => sameTypes(a[k], b[k]));
  return true;
}

function applyReplacement(doc: Doc, replacement: Doc): Doc {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw new MongoError(
        ErrorCodes.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
  const body = cloneValue(replacement);
  if ('_id' in body) {
    const { _id, ...rest } = body;
    return { _id, ...rest };
  }
  return '_id' in doc ? { _id: doc._id, ...body } : body;
}

function applyPipelineUpdate(doc: Doc, stages: Doc[], options: UpdateOptions): Doc {
  for (const stage of stages) {
    const name = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
    if (name === undefined || !PIPELINE_UPDATE_STAGES.has(name)) {
      throw new MongoError(
        ErrorCodes.InvalidOptions,
        `${String(name)} is not allowed to be used within an update`,
      );
    }
  }
  const [res] = runPipeline([doc], stages, { collection: () => [], variables: options.variables });
  const out = res ?? {};
  if ('_id' in out || !('_id' in doc)) return out;
  return { _id: doc._id, ...out };
}

class OperatorUpdate {
  private readonly out: Doc;
  private readonly mods: Mod[] = [];
  private readonly arrayFilters = new Map<string, (doc: Doc) => boolean>();
  private readonly usedFilters = new Set<string>();

  constructor(
    private readonly input: Doc,
    private readonly update: Doc,
    private readonly options: UpdateOptions,
  ) {
    this.out = cloneValue(input);
    this.parse();
    this.parseArrayFilters();
    this.checkConflicts();
  }

  run(): Doc {
    for (const mod of this.mods) {
      if (mod.op === '$setOnInsert' && !this.options.isUpsertInsert) continue;
      for (const parts of this.expand(mod.parts, mod.path)) this.apply(mod, parts);
    }
    for (const id of this.arrayFilters.keys()) {
      if (!this.usedFilters.has(id)) {
        throw new MongoError(
          ErrorCodes.FailedToParse,
          `The array filter for identifier '${id}' was not used in the update ${formatValue(this.update)}`,
        );
      }
    }
    return this.out;
  }

  private parse(): void {
    for (const [op, spec] of Object.entries(this.update)) {
      if (!UPDATE_OPERATORS.has(op)) {
        throw new MongoError(
          ErrorCodes.FailedToParse,
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
      }
      if (!isPlainObject(spec)) {
        throw new MongoError(
          ErrorCodes.FailedToParse,
          `Modifiers operate on fields but we found type ${typeName(spec)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(spec)}}`,
        );
      }
      for (const [path, arg] of Object.entries(spec)) {
        checkPath(path);
        this.mods.push({ op, path, parts: path.split('.'), arg });
        if (op === '$rename') {
          if (typeof arg !== 'string') {
            throw new MongoError(ErrorCodes.BadValue, `The 'to' field for $rename must be a string: ${path}: ${formatValue(arg)}`);
          }
          checkPath(arg);
          if (arg === path) {
            throw new MongoError(ErrorCodes.BadValue, `The source and target field for $rename must differ: ${path}: ${formatValue(arg)}`);
          }
          if (arg.startsWith(`${path}.`) || path.startsWith(`${arg}.`)) {
            throw new MongoError(ErrorCodes.BadValue, `The source and target field for $rename must not be on the same path: ${path}: ${formatValue(arg)}`);
          }
          for (const p of [path, arg]) {
            if (p.split('.').some((c) => c.startsWith('$'))) {
              throw new MongoError(ErrorCodes.BadValue, `The source field for $rename may not be dynamic: ${p}`);
            }
          }
        }
      }
    }
    this.mods.sort((a, b) => comparePaths(a.parts, b.parts));
  }

  private parseArrayFilters(): void {
    for (const filter of this.options.arrayFilters ?? []) {
      if (!isPlainObject(filter)) {
        throw new MongoError(ErrorCodes.FailedToParse, 'Each array filter must be an object');
      }
      const ids = new Set<string>();
      collectFilterIds(filter, ids);
      if (ids.size !== 1) {
        throw new MongoError(
          ErrorCodes.FailedToParse,
          ids.size === 0
            ? 'Cannot use an expression without a top-level field name in arrayFilters'
            : `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${[...ids].join("' and '")}'`,
        );
      }
      const [id] = ids;
      if (!IDENT.test(id)) {
        throw new MongoError(
          ErrorCodes.BadValue,
          `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`,
        );
      }
      if (this.arrayFilters.has(id)) {
        throw new MongoError(ErrorCodes.FailedToParse, `Found multiple array filters with the same top-level field name ${id}`);
      }
      this.arrayFilters.set(id, compileFilter(filter, { variables: this.options.variables }));
    }
  }

  private checkConflicts(): void {
    const paths: string[] = [];
    for (const m of this.mods) {
      paths.push(m.path);
      if (m.op === '$rename' && typeof m.arg === 'string') paths.push(m.arg);
    }
    for (let i = 0; i < paths.length; i++) {
      for (let j = 0; j < i; j++) {
        const [a, b] = [paths[j], paths[i]];
        if (a === b || b.startsWith(`${a}.`) || a.startsWith(`${b}.`)) {
          const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
          throw new MongoError(
            ErrorCodes.ConflictingUpdateOperators,
            `Updating the path '${longer}' would create a conflict at '${shorter}'`,
          );
        }
      }
    }
  }

  /** Resolves positional parts ($, $[], $[id]) into concrete paths. */
  private expand(parts: string[], path: string): string[][] {
    if (!parts.some((p) => p.startsWith('$'))) return [parts];
    const results: string[][] = [];
    const walk = (value: unknown, i: number, prefix: string[]): void => {
      if (i === parts.length) {
        results.push(prefix);
        return;
      }
      const part = parts[i];
      if (!part.startsWith('$')) {
        walk(childOf(value, part), i + 1, [...prefix, part]);
        return;
      }
      const prefixPath = prefix.join('.');
      if (part === '$') {
        const index = this.positionalIndex(prefixPath, value);
        walk(childOf(value, String(index)), i + 1, [...prefix, String(index)]);
        return;
      }
      const m = part.match(/^\$\[(.*)\]$/);
      if (!m) {
        throw new MongoError(
          ErrorCodes.DollarPrefixedFieldName,
          `The dollar ($) prefixed field '${part}' in '${path}' is not valid for storage.`,
        );
      }
      if (value === undefined) {
        throw new MongoError(
          ErrorCodes.BadValue,
          `The path '${prefixPath}' must exist in the document in order to apply array updates.`,
        );
      }
      if (!Array.isArray(value)) {
        throw new MongoError(
          ErrorCodes.BadValue,
          `Cannot apply array updates to non-array element ${prefix[prefix.length - 1]}: ${formatValue(value)}`,
        );
      }
      const id = m[1];
      let test: ((el: unknown) => boolean) | undefined;
      if (id !== '') {
        const filter = this.arrayFilters.get(id);
        if (!filter) {
          throw new MongoError(ErrorCodes.BadValue, `No array filter found for identifier '${id}' in path '${path}'`);
        }
        this.usedFilters.add(id);
        test = (el) => filter({ [id]: el });
      }
      value.forEach((el, idx) => {
        if (!test || test(el)) walk(el, i + 1, [...prefix, String(idx)]);
      });
    };
    walk(this.out, 0, []);
    return results;
  }

  /** The index matched by the query for the positional `$` operator on the array at arrayPath. */
  private positionalIndex(arrayPath: string, value: unknown): number {
    const index = Array.isArray(value) ? positionalMatchIndex(this.options.query, arrayPath, value, this.options.variables) : -1;
    if (index < 0) {
      throw new MongoError(ErrorCodes.BadValue, 'The positional operator did not find the match needed from the query.');
    }
    return index;
  }

  private apply(mod: Mod, parts: string[]): void {
    const path = parts.join('.');
    const creates = !['$unset', '$pop', '$pull', '$pullAll', '$rename'].includes(mod.op);
    if (mod.op === '$rename') {
      this.rename(parts, String(mod.arg));
      return;
    }
    const loc = locate(this.out, parts, creates);
    if (!loc) return;
    const [container, key] = loc;
    const current = readAt(container, key);
    const arg = mod.arg;
    switch (mod.op) {
      case '$set':
      case '$setOnInsert':
        writeAt(container, key, cloneValue(arg));
        return;
      case '$unset':
        if (current !== undefined) unsetAt(container, key);
        return;
      case '$inc':
      case '$mul': {
        const verb = mod.op === '$inc' ? 'increment' : 'multiply';
        if (!isNumeric(arg)) {
          throw new MongoError(ErrorCodes.TypeMismatch, `Cannot ${verb} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
        }
        if (current === undefined) {
          writeAt(container, key, mod.op === '$inc' ? arg : multiply(0, arg));
          return;
        }
        if (!isNumeric(current)) {
          throw new MongoError(
            ErrorCodes.TypeMismatch,
            `Cannot apply ${mod.op} to a value of non-numeric type. ${formatIdOf(this.input)} has the field '${key}' of non-numeric type ${typeName(current)}`,
          );
        }
        writeAt(container, key, mod.op === '$inc' ? add(current, arg) : multiply(current, arg));
        return;
      }
      case '$min':
      case '$max': {
        const c = current === undefined ? 0 : compareValues(arg, current);
        if (current === undefined || (mod.op === '$min' ? c < 0 : c > 0)) writeAt(container, key, cloneValue(arg));
        return;
      }
      case '$currentDate':
        writeAt(container, key, currentDateValue(arg));
        return;
      case '$push':
        writeAt(container, key, this.push(current, arg, key));
        return;
      case '$addToSet':
        writeAt(container, key, this.addToSet(current, arg, key));
        return;
      case '$pop':
        if (current === undefined) return;
        if (arg !== 1 && arg !== -1) {
          throw new MongoError(ErrorCodes.FailedToParse, `$pop expects 1 or -1, found: ${formatValue(arg)}`);
        }
        if (!Array.isArray(current)) {
          throw new MongoError(ErrorCodes.TypeMismatch, `Path '${path}' contains an element of non-array type '${typeName(current)}'`);
        }
        writeAt(container, key, arg === 1 ? current.slice(0, -1) : current.slice(1));
        return;
      case '$pull':
      case '$pullAll': {
        if (mod.op === '$pullAll' && !Array.isArray(arg)) {
          throw new MongoError(ErrorCodes.BadValue, `$pullAll requires an array argument but was given a ${typeName(arg)}`);
        }
        if (current === undefined) return;
        if (!Array.isArray(current)) {
          throw new MongoError(ErrorCodes.BadValue, `Cannot apply ${mod.op} to a non-array value`);
        }
        const remove = mod.op === '$pullAll'
          ? (el: unknown) => (arg as unknown[]).some((v) => valuesEqual(el, v))
          : this.pullMatcher(arg);
        writeAt(container, key, current.filter((el) => !remove(el)));
        return;
      }
      case '$bit':
        writeAt(container, key, applyBit(current, arg, key, this.input));
        return;
      default:
        throw new MongoError(ErrorCodes.FailedToParse, `Unknown modifier: ${mod.op}`);
    }
  }

  private rename(fromParts: string[], to: string): void {
    const from = fromParts.join('.');
    let node: unknown = this.out;
    for (let i = 0; i < fromParts.length - 1 && isPlainObject(node); i += 1) {
      node = node[fromParts[i]];
      if (Array.isArray(node)) {
        throw new MongoError(
          ErrorCodes.BadValue,
          `The source field cannot be an array element, '${from}' in doc with ${formatIdOf(this.input)} has an array field called '${fromParts.slice(0, i + 1).join('.')}'`,
        );
      }
    }
    const src = locate(this.out, fromParts, false);
    if (!src) return;
    const [container, key] = src;
    if (Array.isArray(container)) {
      throw new MongoError(ErrorCodes.BadValue, `The source field cannot be an array element, '${from}' in doc with ${formatIdOf(this.input)}`);
    }
    const value = readAt(container, key);
    if (value === undefined) return;
    const dst = locate(this.out, to.split('.'), true);
    if (!dst) return;
    if (Array.isArray(dst[0])) {
      throw new MongoError(ErrorCodes.BadValue, `The destination field cannot be an array element, '${to}' in doc with ${formatIdOf(this.input)}`);
    }
    unsetAt(container, key);
    writeAt(dst[0], dst[1], value);
  }

  private push(current: unknown, arg: unknown, field: string): unknown[] {
    if (current !== undefined && !Array.isArray(current)) {
      throw new MongoError(
        ErrorCodes.BadValue,
        `The field '${field}' must be an array but is of type ${typeName(current)} in document ${formatIdOf(this.input)}`,
      );
    }
    const base = current === undefined ? [] : current.slice();
    if (!(isPlainObject(arg) && '$each' in arg)) {
      base.push(cloneValue(arg));
      return base;
    }
    for (const k of Object.keys(arg)) {
      if (!['$each', '$slice', '$sort', '$position'].includes(k)) {
        throw new MongoError(ErrorCodes.BadValue, `Unrecognized clause in $push: ${k}`);
      }
    }
    const each = arg.$each;
    if (!Array.isArray(each)) {
      throw new MongoError(ErrorCodes.BadValue, `The argument to $each in $push must be an array but it was of type: ${typeName(each)}`);
    }
    let position = base.length;
    if (arg.$position !== undefined) {
      const p = arg.$position;
      if (!isInteger(p)) {
        throw new MongoError(ErrorCodes.BadValue, `The value for $position must be an integer value, not of type: ${typeName(p)}`);
      }
      const n = toNumber(p);
      position = n < 0 ? Math.max(0, base.length + n) : Math.min(n, base.length);
    }
    let result = [...base.slice(0, position), ...each.map((v) => cloneValue(v)), ...base.slice(position)];
    if (arg.$sort !== undefined) result = sortForPush(result, arg.$sort);
    if (arg.$slice !== undefined) {
      const s = arg.$slice;
      if (!isInteger(s)) {
        throw new MongoError(ErrorCodes.BadValue, `The value for $slice must be an integer value but was given type: ${typeName(s)}`);
      }
      const n = toNumber(s);
      result = n >= 0 ? result.slice(0, n) : result.slice(Math.max(0, result.length + n));
    }
    return result;
  }

  private addToSet(current: unknown, arg: unknown, field: string): unknown[] {
    if (current !== undefined && !Array.isArray(current)) {
      throw new MongoError(
        ErrorCodes.BadValue,
        `Cannot apply $addToSet to non-array field. Field named '${field}' has non-array type ${typeName(current)}`,
      );
    }
    const result = current === undefined ? [] : current.slice();
    let values: unknown[] = [arg];
    if (isPlainObject(arg) && '$each' in arg) {
      const extra = Object.keys(arg).filter((k) => k !== '$each');
      if (extra.length > 0) {
        throw new MongoError(ErrorCodes.BadValue, `Found unexpected fields after $each in $addToSet: ${formatValue(arg)}`);
      }
      if (!Array.isArray(arg.$each)) {
        throw new MongoError(ErrorCodes.TypeMismatch, `The argument to $each in $addToSet must be an array but it was of type ${typeName(arg.$each)}`);
      }
      values = arg.$each;
    }
    for (const v of values) {
      if (!result.some((el) => valuesEqual(el, v))) result.push(cloneValue(v));
    }
    return result;
  }

  private pullMatcher(arg: unknown): (el: unknown) => boolean {
    if (isPlainObject(arg)) {
      const keys = Object.keys(arg);
      if (keys.length > 0 && keys.every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor' && k !== '$expr')) {
        const test = compileFilter({ v: arg }, { variables: this.options.variables });
        return (el) => test({ v: el });
      }
      const test = compileFilter(arg, { variables: this.options.variables });
      return (el) => isPlainObject(el) && test(el);
    }
    return (el) => valuesEqual(el, arg);
  }
}

function checkPath(path: string): void {
  if (path === '') throw new MongoError(56, 'An empty update path is not valid.');
  if (path.split('.').some((p) => p === '')) {
    throw new MongoError(56, `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
}

function collectFilterIds(filter: Doc, ids: Set<string>): void {
  for (const [k, v] of Object.entries(filter)) {
    if ((k === '$and' || k === '$or' || k === '$nor') && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) collectFilterIds(sub, ids);
    } else if (!k.startsWith('$')) {
      ids.add(k.split('.')[0]);
    }
  }
}

/** Orders update paths as MongoDB applies them: component-wise, numeric names numerically. */
function comparePaths(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    if (NUMERIC.test(a[i]) && NUMERIC.test(b[i])) return Number(a[i]) - Number(b[i]);
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

function childOf(value: unknown, part: string): unknown {
  if (Array.isArray(value)) return NUMERIC.test(part) ? value[Number(part)] : undefined;
  if (isPlainObject(value)) return value[part];
  return undefined;
}

function readAt(container: Container, key: string): unknown {
  return Array.isArray(container) ? container[Number(key)] : container[key];
}

function writeAt(container: Container, key: string, value: unknown): void {
  if (Array.isArray(container)) {
    const idx = Number(key);
    while (container.length < idx) container.push(null);
    container[idx] = value;
  } else {
    container[key] = value;
  }
}

function unsetAt(container: Container, key: string): void {
  if (Array.isArray(container)) container[Number(key)] = null;
  else delete container[key];
}

/**
 * Finds the container and final key for a concrete path. With `create`, missing intermediate objects
 * are created and non-traversable values fail as MongoDB fails (code 28); without it, null is returned.
 */
function locate(doc: Doc, parts: string[], create: boolean): [Container, string] | null {
  let cur: Container = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    if (Array.isArray(cur) && !NUMERIC.test(part)) {
      if (!create) return null;
      throw cannotCreate(part, parts[i - 1], cur);
    }
    let next = readAt(cur, part);
    if (next === undefined) {
      if (!create) return null;
      next = {};
      writeAt(cur, part, next);
    } else if (!isPlainObject(next) && !Array.isArray(next)) {
      if (!create) return null;
      throw cannotCreate(parts[i + 1], part, next);
    }
    cur = next as Container;
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(cur) && !NUMERIC.test(last)) {
    if (!create) return null;
    throw cannotCreate(last, parts[parts.length - 2], cur);
  }
  return [cur, last];
}

function cannotCreate(field: string, parentName: string | undefined, parent: unknown): MongoError {
  return new MongoError(
    ErrorCodes.PathNotViable,
    `Cannot create field '${field}' in element {${parentName ?? ''}: ${formatValue(parent)}}`,
  );
}

function isNumeric(v: unknown): boolean {
  if (typeof v === 'number') return true;
  const t = bsonType(v);
  return t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128';
}

function isInteger(v: unknown): boolean {
  return isNumeric(v) && Number.isInteger(toNumber(v));
}

function numericKind(v: unknown): 'decimal' | 'long' | 'number' {
  const t = bsonType(v);
  if (t === 'Decimal128') return 'decimal';
  if (t === 'Long') return 'long';
  return 'number';
}

function arith(a: unknown, b: unknown, op: (x: number, y: number) => number, big: (x: bigint, y: bigint) => bigint): unknown {
  const ka = numericKind(a);
  const kb = numericKind(b);
  if (ka === 'decimal' || kb === 'decimal') return Decimal128.fromString(String(op(toNumber(a), toNumber(b))));
  if (ka === 'long' || kb === 'long') {
    const x = toNumber(a);
    const y = toNumber(b);
    if (!Number.isInteger(x) || !Number.isInteger(y)) return op(x, y);
    const bx = ka === 'long' ? (a as Long).toBigInt() : BigInt(x);
    const by = kb === 'long' ? (b as Long).toBigInt() : BigInt(y);
    return Long.fromBigInt(big(bx, by));
  }
  return op(toNumber(a), toNumber(b));
}

function add(a: unknown, b: unknown): unknown {
  return arith(a, b, (x, y) => x + y, (x, y) => x + y);
}

function multiply(a: unknown, b: unknown): unknown {
  return arith(a, b, (x, y) => x * y, (x, y) => x * y);
}

function currentDateValue(arg: unknown): unknown {
  if (arg === true) return new Date();
  if (isPlainObject(arg) && Object.keys(arg).length === 1 && (arg.$type === 'date' || arg.$type === 'timestamp')) {
    if (arg.$type === 'date') return new Date();
    return new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 });
  }
  if (arg === false) return new Date();
  throw new MongoError(
    ErrorCodes.BadValue,
    "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
  );
}

function sortForPush(values: unknown[], spec: unknown): unknown[] {
  if (spec === 1 || spec === -1) {
    const dir = spec;
    return values.slice().sort((x, y) => dir * compareValues(x, y));
  }
  if (isPlainObject(spec) && Object.keys(spec).length > 0 && Object.values(spec).every((d) => d === 1 || d === -1)) {
    const cmp = compileSort(spec);
    return values.slice().sort((x, y) => cmp(isPlainObject(x) ? x : {}, isPlainObject(y) ? y : {}));
  }
  throw new MongoError(
    ErrorCodes.BadValue,
    'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields',
  );
}

function applyBit(current: unknown, arg: unknown, field: string, input: Doc): unknown {
  if (!isPlainObject(arg) || Object.keys(arg).length === 0) {
    throw new MongoError(ErrorCodes.BadValue, `The $bit modifier is not compatible with a ${typeName(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`);
  }
  let value: unknown = current === undefined ? 0 : current;
  if (!isInteger(value)) {
    throw new MongoError(
      ErrorCodes.BadValue,
      `Cannot apply $bit to a value of non-integral type.${formatIdOf(input)} has the field ${field} of non-integer type ${typeName(value)}`,
    );
  }
  for (const [op, operand] of Object.entries(arg)) {
    if (!['and', 'or', 'xor'].includes(op)) {
      throw new MongoError(ErrorCodes.BadValue, `The $bit modifier only supports 'and', 'or', and 'xor', not '${op}' which is an unknown operator: {${op}: ${formatValue(operand)}}`);
    }
    if (!isInteger(operand)) {
      throw new MongoError(ErrorCodes.BadValue, `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(operand)}' is not supported here: {${op}: ${formatValue(operand)}}`);
    }
    const useLong = numericKind(value) === 'long' || numericKind(operand) === 'long';
    const x = BigInt(toNumber(value));
    const y = BigInt(toNumber(operand));
    const r = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
    value = useLong ? Long.fromBigInt(BigInt.asIntN(64, r)) : Number(BigInt.asIntN(32, r));
  }
  return value;
}
