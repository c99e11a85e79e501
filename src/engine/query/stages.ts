// Aggregation stages the engine implements itself instead of mingo's: $match, $sort, $bucket, $lookup
// and an internal copy stage that keeps later stages from mutating the caller's documents.

import { ErrorCodes, MongoError } from '../errors';
import { bsonType, cloneValue, compareValues, getPath, isPlainObject, toNumber, typeRank, TypeRank, valuesEqual, type Doc } from './compare';
import { compileFilter } from './filter';
import { typeName, formatValue } from './format';
import { checkExpression, evaluateExpression } from './expression';
import { setPath } from './paths';
import { checkProjection, project } from './projection';
import { compareSortKeys, parseSort, sortKey } from './sort';
import { builtinPipelineOps, evalExpr, Lazy, registerOperators, type Iter, type MingoOptions } from './mingo';

/** Name of the internal stage that deep-copies documents flowing through it. */
export const COPY_STAGE = '$__engineCopy';

export type StageRunner = (docs: Doc[], stages: Doc[], variables: Doc | undefined, options: MingoOptions) => Doc[];

let runSubPipeline: StageRunner | undefined;

/** Lets the pipeline module provide how $lookup runs its sub-pipelines. */
export function setSubPipelineRunner(runner: StageRunner): void {
  runSubPipeline = runner;
}

function variablesOf(options: MingoOptions): Doc | undefined {
  const v = options.variables;
  return v ? { ...v } : undefined;
}

function $match(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  if (!isPlainObject(expr)) throw new MongoError(15959, 'the match filter must be an expression in an object');
  const pred = compileFilter(expr, { variables: variablesOf(options) });
  return coll.filter((d: Doc) => pred(d));
}

function $sort(coll: Iter, expr: unknown): Iter {
  if (!isPlainObject(expr)) throw new MongoError(15973, 'the $sort key specification must be an object');
  if (Object.keys(expr).length === 0) throw new MongoError(15976, '$sort stage must have at least one sort key');
  const keys = parseSort(expr);
  return coll.transform((docs: Doc[]) => {
    const rows = docs.map((doc, i) => ({ doc, i, k: keys.map(([path, dir]) => sortKey(doc, path, dir)) }));
    rows.sort((a, b) => {
      for (let j = 0; j < keys.length; j++) {
        const c = compareSortKeys(a.k[j], b.k[j]);
        if (c !== 0) return keys[j][1] === 1 ? c : -c;
      }
      return a.i - b.i;
    });
    return Lazy(rows.map((r) => r.doc));
  });
}

function $copy(coll: Iter): Iter {
  return coll.map((d: Doc) => cloneValue(d));
}

function isExpressionLike(v: unknown): boolean {
  return (typeof v === 'string' && v.startsWith('$')) || (isPlainObject(v) && Object.keys(v).length > 0);
}

function $bucket(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  if (!isPlainObject(expr)) {
    throw new MongoError(40201, `Argument to $bucket stage must be an object, but found type: ${typeName(expr)}.`);
  }
  for (const k of Object.keys(expr)) {
    if (!['groupBy', 'boundaries', 'default', 'output'].includes(k)) {
      throw new MongoError(40197, `Unrecognized option to $bucket: ${k}.`);
    }
  }
  const { groupBy, boundaries, output } = expr;
  const hasDefault = 'default' in expr;
  const defaultKey = expr.default;
  if (!isExpressionLike(groupBy)) {
    throw new MongoError(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: " + formatValue(groupBy) + '.');
  }
  if (!Array.isArray(boundaries) || boundaries.length < 2) {
    throw new MongoError(40192, `The $bucket 'boundaries' field must be an array of values. At least 2 values are required, but found ${Array.isArray(boundaries) ? boundaries.length : 0} value(s).`);
  }
  for (let i = 1; i < boundaries.length; i++) {
    if (typeRank(boundaries[i]) !== typeRank(boundaries[i - 1])) {
      throw new MongoError(40193, `All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types ${typeName(boundaries[i - 1])} and ${typeName(boundaries[i])}.`);
    }
    if (compareValues(boundaries[i - 1], boundaries[i]) >= 0) {
      throw new MongoError(40194, `The 'boundaries' option to $bucket must be sorted in ascending order, but elements ${i - 1} and ${i} are not in ascending order (${formatValue(boundaries[i - 1])} is not less than ${formatValue(boundaries[i])}).`);
    }
  }
  const lower = boundaries[0];
  const upper = boundaries[boundaries.length - 1];
  if (hasDefault && typeRank(defaultKey) === typeRank(lower)
    && compareValues(defaultKey, lower) >= 0 && compareValues(defaultKey, upper) < 0) {
    throw new MongoError(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.");
  }
  if (output !== undefined && !isPlainObject(output)) {
    throw new MongoError(40196, `The $bucket 'output' field must be an object, but found type: ${typeName(output)}.`);
  }
  const outputExpr = output ?? { count: { $sum: 1 } };
  return coll.transform((docs: Doc[]) => {
    const groups = new Map<number, Doc[]>();
    const defaultDocs: Doc[] = [];
    for (const doc of docs) {
      const key = evaluateExpression(doc, groupBy, variablesOf(options));
      const v = key === undefined ? null : key;
      if (compareValues(v, lower) >= 0 && compareValues(v, upper) < 0) {
        let lo = 0;
        let hi = boundaries.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (compareValues(v, boundaries[mid]) >= 0) lo = mid;
          else hi = mid;
        }
        const bucket = groups.get(lo);
        if (bucket) bucket.push(doc);
        else groups.set(lo, [doc]);
      } else if (hasDefault) {
        defaultDocs.push(doc);
      } else {
        throw new MongoError(40066, '$switch could not find a matching branch for an input, and no default was specified.');
      }
    }
    const results: Doc[] = [];
    const emit = (id: unknown, members: Doc[]): void => {
      const acc = evalExpr(members, outputExpr, options) as Doc;
      results.push({ _id: id, ...acc });
    };
    for (const i of [...groups.keys()].sort((a, b) => a - b)) emit(boundaries[i], groups.get(i) ?? []);
    if (defaultDocs.length > 0) emit(defaultKey, defaultDocs);
    results.sort((a, b) => compareValues(a._id, b._id));
    return Lazy(results);
  });
}

/** A hashable key for the common scalar types, or undefined for values compared by scanning. */
function hashKey(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isNaN(v) ? 'nan' : `n:${v}`;
    case 'string':
      return `s:${v}`;
    case 'boolean':
      return `b:${v}`;
    default:
      break;
  }
  if (v instanceof Date) return `d:${v.getTime()}`;
  if (bsonType(v) === 'ObjectId') return `o:${(v as { toHexString(): string }).toHexString()}`;
  return undefined;
}

function lookupValues(doc: Doc, path: string): unknown[] {
  const v = getPath(doc, path);
  if (Array.isArray(v)) return v.length === 0 ? [null] : v;
  return [v === undefined ? null : v];
}

function $lookup(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  if (!isPlainObject(expr)) throw new MongoError(ErrorCodes.FailedToParse, 'the $lookup specification must be an Object');
  const { from, localField, foreignField, as, pipeline } = expr;
  const letSpec = expr.let;
  for (const k of Object.keys(expr)) {
    if (!['from', 'localField', 'foreignField', 'as', 'pipeline', 'let'].includes(k)) {
      throw new MongoError(ErrorCodes.FailedToParse, `unknown argument to $lookup: ${k}`);
    }
  }
  if (typeof as !== 'string') throw new MongoError(ErrorCodes.FailedToParse, "must specify 'as' field for a $lookup");
  if (typeof from !== 'string') throw new MongoError(ErrorCodes.FailedToParse, "$lookup 'from' must be a collection name string");
  const hasFields = localField !== undefined || foreignField !== undefined;
  if (hasFields && (typeof localField !== 'string' || typeof foreignField !== 'string')) {
    throw new MongoError(ErrorCodes.FailedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified");
  }
  if (!hasFields && pipeline === undefined) {
    throw new MongoError(ErrorCodes.FailedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
  }
  if (pipeline !== undefined && !Array.isArray(pipeline)) {
    throw new MongoError(ErrorCodes.FailedToParse, "'pipeline' option must be specified as an array");
  }
  if (letSpec !== undefined && !isPlainObject(letSpec)) {
    throw new MongoError(ErrorCodes.FailedToParse, '$lookup argument \'let\' must be an object');
  }
  const resolver = options.collectionResolver;
  const foreign: Doc[] = resolver ? resolver(from) : [];
  let byKey: Map<string, Doc[]> | undefined;
  let unhashed: Array<[unknown, Doc]> = [];
  if (hasFields) {
    byKey = new Map();
    unhashed = [];
    for (const fdoc of foreign) {
      const seen = new Set<string>();
      for (const v of lookupValues(fdoc, foreignField as string)) {
        const k = hashKey(v);
        if (k === undefined) {
          unhashed.push([v, fdoc]);
        } else if (!seen.has(k)) {
          seen.add(k);
          const list = byKey.get(k);
          if (list) list.push(fdoc);
          else byKey.set(k, [fdoc]);
        }
      }
    }
  }
  const matchesFor = (doc: Doc): Doc[] => {
    if (!byKey) return foreign;
    const found = new Set<Doc>();
    for (const v of lookupValues(doc, localField as string)) {
      const k = hashKey(v);
      if (k !== undefined) for (const f of byKey.get(k) ?? []) found.add(f);
      for (const [fv, f] of unhashed) if (valuesEqual(fv, v)) found.add(f);
    }
    return foreign.filter((f) => found.has(f));
  };
  const baseVars = variablesOf(options) ?? {};
  return coll.map((doc: Doc) => {
    let joined = matchesFor(doc);
    if (pipeline !== undefined) {
      const vars: Doc = { ...baseVars };
      for (const [name, e] of Object.entries(letSpec ?? {})) vars[name] = evaluateExpression(doc, e, baseVars);
      if (!runSubPipeline) throw new MongoError(ErrorCodes.InternalError, '$lookup pipeline runner is not set');
      joined = runSubPipeline(joined, pipeline as Doc[], vars, options);
    }
    const copies = joined.map((d) => cloneValue(d));
    if (!as.includes('.')) return { ...doc, [as]: copies };
    const out = cloneValue(doc);
    setPath(out, as, copies);
    return out;
  });
}

function isNonNegativeInteger(v: unknown): boolean {
  return typeRank(v) === TypeRank.Number && Number.isInteger(toNumber(v)) && toNumber(v) >= 0;
}

/** Wraps a mingo stage with MongoDB's argument checks. */
function checked(name: string, check: (expr: unknown) => void): (coll: Iter, expr: unknown, options: MingoOptions) => Iter {
  const inner = builtinPipelineOps[name];
  return (coll, expr, options) => {
    check(expr);
    return inner(coll, typeRank(expr) === TypeRank.Number ? toNumber(expr) : expr, options);
  };
}

const $limit = checked('$limit', (v) => {
  if (typeRank(v) !== TypeRank.Number || !Number.isInteger(toNumber(v))) {
    throw new MongoError(15957, 'the limit must be specified as a number');
  }
  if (toNumber(v) <= 0) throw new MongoError(15958, 'the limit must be positive');
});

const $skip = checked('$skip', (v) => {
  if (!isNonNegativeInteger(v)) {
    throw new MongoError(15956, `Argument to $skip must be a non-negative number, found: ${formatValue(v)}`);
  }
});

function $count(coll: Iter, v: unknown): Iter {
  if (typeof v !== 'string' || v === '') throw new MongoError(40156, 'the count field must be a non-empty string');
  if (v.startsWith('$')) throw new MongoError(40158, 'the count field cannot be a $-prefixed path');
  if (v.includes('.')) throw new MongoError(40160, "the count field cannot contain '.'");
  return coll.transform((docs: Doc[]) => Lazy(docs.length === 0 ? [] : [{ [v]: docs.length }]));
}

const $unwind = checked('$unwind', (v) => {
  const path = isPlainObject(v) ? v.path : v;
  if (!isPlainObject(v) && typeof v !== 'string') {
    throw new MongoError(15981, `expected either a string or an object as specification for $unwind stage, got ${typeName(v)}`);
  }
  if (typeof path !== 'string' || !path.startsWith('$') || path.length < 2) {
    throw new MongoError(28818, 'path option to $unwind stage should be prefixed with a \'$\': ' + formatValue(path));
  }
  if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (!['path', 'includeArrayIndex', 'preserveNullAndEmptyArrays'].includes(k)) {
        throw new MongoError(28811, `unrecognized option to $unwind stage: ${k}`);
      }
    }
  }
});

function $project(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  if (!isPlainObject(expr)) throw new MongoError(15969, '$project specification must be an object');
  if (Object.keys(expr).length === 0) {
    throw new MongoError(51272, 'Invalid $project :: caused by :: projection specification must have at least one field');
  }
  const variables = variablesOf(options);
  checkProjection(expr, 'aggregate');
  return coll.map((d: Doc) => project(d, expr, { variables }, 'aggregate'));
}

function checkFieldsStage(name: string) {
  return checked(name, (v) => {
    if (!isPlainObject(v)) throw new MongoError(40272, `${name} specification stage must be an object, got ${typeName(v)}`);
    checkExpression(v);
  });
}

function $unionWith(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  const spec: Doc = typeof expr === 'string' ? { coll: expr } : isPlainObject(expr) ? expr : {};
  if (typeof spec.coll !== 'string') {
    throw new MongoError(ErrorCodes.FailedToParse, "$unionWith requires a 'coll' collection name string");
  }
  for (const k of Object.keys(spec)) {
    if (k !== 'coll' && k !== 'pipeline') throw new MongoError(ErrorCodes.FailedToParse, `unknown argument to $unionWith: ${k}`);
  }
  if (spec.pipeline !== undefined && !Array.isArray(spec.pipeline)) {
    throw new MongoError(ErrorCodes.FailedToParse, "$unionWith 'pipeline' must be an array");
  }
  const collName = spec.coll;
  const pipeline = spec.pipeline as Doc[] | undefined;
  return coll.transform((docs: Doc[]) => {
    const foreign = options.collectionResolver ? options.collectionResolver(collName) : [];
    let extra: Doc[] = foreign;
    if (pipeline) {
      if (!runSubPipeline) throw new MongoError(ErrorCodes.InternalError, 'sub-pipeline runner is not set');
      extra = runSubPipeline(foreign, pipeline, variablesOf(options), options);
    }
    return Lazy([...docs, ...extra.map((d) => cloneValue(d))]);
  });
}

/** mingo's $graphLookup may share the joined documents with their collection: hand out copies. */
function $graphLookup(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  return builtinPipelineOps.$graphLookup(coll, expr, options).map((d: Doc) => cloneValue(d));
}

registerOperators('pipeline', {
  $match, $unionWith, $graphLookup, $sort, $bucket, $lookup, $limit, $skip, $count, $unwind, $project,
  $addFields: checkFieldsStage('$addFields'),
  $set: checkFieldsStage('$set'),
  [COPY_STAGE]: $copy,
});
