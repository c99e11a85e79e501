// find() projections: inclusion/exclusion, _id rules, dotted and nested paths, $slice, $elemMatch,
// positional `.$` and computed expressions, with MongoDB's errors for invalid mixes.

import { ErrorCodes, MongoError } from '../errors';
import { cloneValue, isPlainObject, toNumber, typeRank, TypeRank, type Doc } from './compare';
import { evaluateExpression, checkExpression } from './expression';
import { compileFilter } from './filter';
import { positionalMatchIndex } from './positional';
import { setPath } from './paths';

export interface ProjectionOptions {
  /** The find filter; needed for the positional `.$` projection. */
  query?: Doc;
  variables?: Doc;
}

/** find() projections know $slice, $elemMatch and `.$`; the $project stage treats every operator as an expression. */
export type ProjectionMode = 'find' | 'aggregate';

type Spec =
  | { kind: 'include' }
  | { kind: 'exclude' }
  | { kind: 'slice'; skip: number | undefined; limit: number }
  | { kind: 'elemMatch'; test: (el: unknown) => boolean }
  | { kind: 'positional' }
  | { kind: 'computed'; expr: unknown };

interface Compiled {
  entries: Array<[string, Spec]>;
  inclusion: boolean;
  excludeId: boolean;
}

const caches: Record<ProjectionMode, WeakMap<object, Compiled>> = { find: new WeakMap(), aggregate: new WeakMap() };

function flatten(spec: Doc, prefix: string, out: Array<[string, unknown]>): void {
  for (const [k, v] of Object.entries(spec)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (k.startsWith('$') && !prefix) {
      throw new MongoError(ErrorCodes.BadValue, `FieldPath field names may not start with '$'. Consider using $getField or $setField.`);
    }
    if (isPlainObject(v) && Object.keys(v).length > 0 && !Object.keys(v)[0].startsWith('$')) {
      flatten(v, path, out);
    } else if (isPlainObject(v) && Object.keys(v).length === 0) {
      throw new MongoError(51270, `An empty sub-projection is not a valid value. Found empty object at path ${path}`);
    } else {
      out.push([path, v]);
    }
  }
}

function parseSpec(path: string, v: unknown, mode: ProjectionMode): Spec {
  if (typeof v === 'boolean') return { kind: v ? 'include' : 'exclude' };
  if (typeRank(v) === TypeRank.Number) return { kind: toNumber(v) === 0 ? 'exclude' : 'include' };
  if (mode === 'aggregate') {
    checkExpression(v);
    return { kind: 'computed', expr: v };
  }
  if (path.endsWith('.$')) {
    throw new MongoError(31308, `positional projection cannot be used with a literal or an expression: ${path}`);
  }
  if (isPlainObject(v)) {
    const op = Object.keys(v)[0];
    if (op === '$slice') {
      const arg = v.$slice;
      if (typeRank(arg) === TypeRank.Number) return { kind: 'slice', skip: undefined, limit: Math.trunc(toNumber(arg)) };
      if (Array.isArray(arg) && arg.length === 2 && arg.every((x) => typeRank(x) === TypeRank.Number)) {
        const limit = Math.trunc(toNumber(arg[1]));
        if (limit <= 0) throw new MongoError(ErrorCodes.BadValue, `$slice limit must be positive`);
        return { kind: 'slice', skip: Math.trunc(toNumber(arg[0])), limit };
      }
      if (Array.isArray(arg)) throw new MongoError(28724, 'First argument to $slice must be an array');
      return { kind: 'computed', expr: v };
    }
    if (op === '$elemMatch') {
      const cond = v.$elemMatch;
      if (!isPlainObject(cond)) throw new MongoError(ErrorCodes.BadValue, '$elemMatch needs an Object');
      if (path.includes('.')) {
        throw new MongoError(ErrorCodes.BadValue, `Cannot use $elemMatch projection on a nested field.`);
      }
      const p = compileFilter({ v: { $elemMatch: cond } });
      return { kind: 'elemMatch', test: (el) => p({ v: [el] }) };
    }
    if (op === '$meta') throw new MongoError(ErrorCodes.BadValue, `$meta projection of '${String(v.$meta)}' is not supported by this engine`);
  }
  checkExpression(v);
  return { kind: 'computed', expr: v };
}

function compile(projection: Doc, mode: ProjectionMode): Compiled {
  const cache = caches[mode];
  const cached = cache.get(projection);
  if (cached) return cached;
  const flat: Array<[string, unknown]> = [];
  flatten(projection, '', flat);
  const entries: Array<[string, Spec]> = [];
  let excludeId = false;
  let hasInclusion = false;
  let hasExclusion = false;
  let positionalCount = 0;
  let idIncluded = false;
  for (const [rawPath, v] of flat) {
    const spec = mode === 'find' && rawPath.endsWith('.$') && (v === 1 || v === true || (typeRank(v) === TypeRank.Number && toNumber(v) !== 0))
      ? ({ kind: 'positional' } as Spec)
      : parseSpec(rawPath, v, mode);
    const path = spec.kind === 'positional' ? rawPath.slice(0, -2) : rawPath;
    if (path === '_id' && (spec.kind === 'exclude' || spec.kind === 'include')) {
      excludeId = spec.kind === 'exclude';
      idIncluded = spec.kind === 'include';
      continue;
    }
    if (spec.kind === 'positional') positionalCount++;
    if (spec.kind === 'exclude') {
      if (hasInclusion) throw new MongoError(31254, `Cannot do exclusion on field ${path} in inclusion projection`);
      hasExclusion = true;
    } else if (spec.kind === 'include' || spec.kind === 'computed' || spec.kind === 'positional' || spec.kind === 'elemMatch') {
      if (hasExclusion) throw new MongoError(31253, `Cannot do inclusion on field ${path} in exclusion projection`);
      hasInclusion = true;
    }
    for (const [other] of entries) {
      if (other === path || other.startsWith(`${path}.`) || path.startsWith(`${other}.`)) {
        throw new MongoError(31249, `Path collision at ${path}`);
      }
    }
    entries.push([path, spec]);
  }
  if (positionalCount > 1) throw new MongoError(31276, 'Cannot specify more than one positional projection per query.');
  const compiled = { entries, inclusion: hasInclusion || (idIncluded && !hasExclusion), excludeId };
  cache.set(projection, compiled);
  return compiled;
}

interface Tree {
  [key: string]: Tree | true;
}

function addToTree(tree: Tree, parts: string[]): void {
  let cur = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (next === true) return;
    if (next === undefined) {
      const t: Tree = {};
      cur[parts[i]] = t;
      cur = t;
    } else {
      cur = next;
    }
  }
  cur[parts[parts.length - 1]] = true;
}

function includeTree(src: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const key of Object.keys(src)) {
    const t = tree[key];
    if (t === undefined) continue;
    const v = src[key];
    if (t === true) {
      out[key] = cloneValue(v);
    } else if (isPlainObject(v)) {
      out[key] = includeTree(v, t);
    } else if (Array.isArray(v)) {
      out[key] = includeArray(v, t);
    }
  }
  return out;
}

function includeArray(arr: unknown[], tree: Tree): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (isPlainObject(el)) out.push(includeTree(el, tree));
    else if (Array.isArray(el)) out.push(includeArray(el, tree));
  }
  return out;
}

function excludePath(value: unknown, parts: string[], i: number): void {
  if (Array.isArray(value)) {
    for (const el of value) excludePath(el, parts, i);
    return;
  }
  if (!isPlainObject(value)) return;
  if (i === parts.length - 1) {
    delete value[parts[i]];
    return;
  }
  excludePath(value[parts[i]], parts, i + 1);
}

function sliceArray(arr: unknown[], skip: number | undefined, limit: number): unknown[] {
  if (skip === undefined) return limit >= 0 ? arr.slice(0, limit) : arr.slice(Math.max(0, arr.length + limit));
  const start = skip >= 0 ? Math.min(skip, arr.length) : Math.max(0, arr.length + skip);
  return arr.slice(start, start + limit);
}

function applySlice(value: unknown, parts: string[], i: number, skip: number | undefined, limit: number): void {
  if (!isPlainObject(value)) {
    if (Array.isArray(value)) for (const el of value) applySlice(el, parts, i, skip, limit);
    return;
  }
  const key = parts[i];
  if (i === parts.length - 1) {
    const v = value[key];
    if (Array.isArray(v)) value[key] = sliceArray(v, skip, limit);
    return;
  }
  applySlice(value[key], parts, i + 1, skip, limit);
}

function readTop(doc: Doc, path: string): unknown {
  let cur: unknown = doc;
  for (const p of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Applies a find() projection to one document, returning a new document. */
export function applyProjection(doc: Doc, projection: Doc, options: ProjectionOptions = {}): Doc {
  return project(doc, projection, options, 'find');
}

/** Validates a projection's shape without applying it. */
export function checkProjection(projection: Doc, mode: ProjectionMode): void {
  if (!isPlainObject(projection)) throw new MongoError(ErrorCodes.BadValue, 'projection must be an object');
  compile(projection, mode);
}

/** Applies a find() or $project projection to one document, returning a new document. */
export function project(doc: Doc, projection: Doc, options: ProjectionOptions, mode: ProjectionMode): Doc {
  if (!isPlainObject(projection)) throw new MongoError(ErrorCodes.BadValue, 'projection must be an object');
  if (Object.keys(projection).length === 0) return cloneValue(doc);
  const { entries, inclusion, excludeId } = compile(projection, mode);
  let out: Doc;
  if (inclusion) {
    const tree: Tree = {};
    if (!excludeId) addToTree(tree, ['_id']);
    for (const [path, spec] of entries) {
      if (spec.kind === 'include' || spec.kind === 'slice') addToTree(tree, path.split('.'));
    }
    out = includeTree(doc, tree);
  } else {
    out = cloneValue(doc);
    if (excludeId) delete out._id;
    for (const [path, spec] of entries) if (spec.kind === 'exclude') excludePath(out, path.split('.'), 0);
  }
  for (const [path, spec] of entries) {
    switch (spec.kind) {
      case 'slice':
        applySlice(out, path.split('.'), 0, spec.skip, spec.limit);
        break;
      case 'elemMatch': {
        const arr = doc[path];
        if (Array.isArray(arr)) {
          const hit = arr.find((el) => spec.test(el));
          if (hit !== undefined) out[path] = [cloneValue(hit)];
        }
        break;
      }
      case 'positional': {
        const arr = readTop(doc, path);
        if (!Array.isArray(arr)) break;
        const index = positionalMatchIndex(options.query, path, arr, options.variables);
        if (index < 0) {
          throw new MongoError(51246, "Executor error during find command :: caused by :: positional operator '.$' couldn't find a matching element in the array");
        }
        setPath(out, path, [arr[index]]);
        break;
      }
      case 'computed': {
        const value = evaluateExpression(doc, spec.expr, options.variables);
        if (value !== undefined) setPath(out, path, value);
        break;
      }
      default:
        break;
    }
  }
  return out;
}
