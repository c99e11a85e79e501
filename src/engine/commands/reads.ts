// Read commands: find, getMore, killCursors, count, distinct and explain.
import { Long, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { Catalog } from '../catalog/catalog';
import type { Collection } from '../catalog/collection';
import { documentsOf, isView } from '../catalog/views';
import { encodeValue } from '../catalog/keys';
import { findMatches, type MatchResult, type PlanStats } from '../catalog/planner';
import { applyProjection, compareValues, compileFilter, compileSort, getPath, isPlainObject } from '../catalog/semantics';
import type { CommandContext, CommandHandler } from './context';
import { batchSizeOf, firstBatchReply, nextBatchReply } from './cursor-reply';
import { collectionName } from './ddl';
import { evaluateLet } from './let';
import { checkCollation } from './unsupported';

function objectField(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) {
    throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '${Object.keys(cmd)[0]}.${field}' is the wrong type '${Array.isArray(v) ? 'array' : typeof v}', expected type 'object'`);
  }
  return v;
}

function nonNegative(cmd: Document, field: string): number {
  const v = cmd[field];
  if (v === undefined || v === null) return 0;
  const n = Number(v instanceof Long ? v.toNumber() : v);
  if (!Number.isFinite(n)) throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type`);
  if (n < 0) throw new MongoError(51024, `${field} value must be non-negative, but received: ${n}`);
  return Math.floor(n);
}

export interface QueryShape {
  filter: Document;
  sort?: Document;
  skip: number;
  limit: number;
  hint?: unknown;
  variables?: Document;
  /** $natural: -1 asks for reverse insertion order. */
  reverseNatural: boolean;
}

/** Runs filter + sort + skip + limit over a view's computed documents (no index applies). */
function runViewQuery(catalog: Catalog, coll: Collection, shape: QueryShape): { docs: Document[]; result: MatchResult } {
  const predicate = compileFilter(shape.filter, { variables: shape.variables });
  const all = documentsOf(catalog, coll);
  let docs = all.filter((d) => predicate(d));
  if (shape.reverseNatural) docs.reverse();
  if (shape.sort) docs.sort(compileSort(shape.sort));
  if (shape.skip > 0 || shape.limit > 0) docs = docs.slice(shape.skip, shape.limit > 0 ? shape.skip + shape.limit : undefined);
  return {
    docs,
    result: {
      recs: [],
      sorted: true,
      stats: { stage: 'COLLSCAN', keysExamined: 0, docsExamined: all.length, nReturned: docs.length, sortedByIndex: false },
    },
  };
}

/** Runs filter + sort + skip + limit against a collection (using indexes where possible) or a view. */
export function runQuery(coll: Collection, shape: QueryShape, catalog?: Catalog): { docs: Document[]; result: MatchResult } {
  if (isView(coll)) {
    if (!catalog) throw new MongoError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${coll.ns} is a view, not a collection`);
    return runViewQuery(catalog, coll, shape);
  }
  const predicate = compileFilter(shape.filter, { variables: shape.variables });
  const result = findMatches(coll, shape.filter, {
    sort: shape.sort,
    limit: shape.limit > 0 && !shape.reverseNatural ? shape.skip + shape.limit : 0,
    hint: shape.hint,
    predicate,
  });
  let docs = result.recs.map((r) => r.doc);
  if (shape.reverseNatural) docs.reverse();
  if (shape.sort && !result.sorted) docs.sort(compileSort(shape.sort));
  if (shape.skip > 0 || shape.limit > 0) docs = docs.slice(shape.skip, shape.limit > 0 ? shape.skip + shape.limit : undefined);
  return { docs, result };
}

function sortOf(cmd: Document, field: string): { sort?: Document; reverseNatural: boolean } {
  const raw = objectField(cmd, field);
  if (!raw || Object.keys(raw).length === 0) return { reverseNatural: false };
  const { $natural, ...rest } = raw;
  if (Object.keys(rest).length > 0) compileSort(rest);
  return { sort: Object.keys(rest).length > 0 ? rest : undefined, reverseNatural: $natural !== undefined && Number($natural) < 0 };
}

function findShape(cmd: Document): QueryShape & { projection?: Document; batchSize?: number; singleBatch: boolean } {
  const filter = objectField(cmd, 'filter') ?? {};
  checkCollation(cmd.collation);
  if (cmd.showRecordId === true) throw new MongoError(ErrorCodes.NotImplemented, 'showRecordId is not supported by the embedded engine');
  if (cmd.tailable === true) throw new MongoError(ErrorCodes.NotImplemented, 'tailable cursors are not supported by the embedded engine');
  if (cmd.min !== undefined || cmd.max !== undefined) throw new MongoError(ErrorCodes.NotImplemented, 'min/max are not supported by the embedded engine');
  const { sort, reverseNatural } = sortOf(cmd, 'sort');
  const projection = objectField(cmd, 'projection');
  const skip = nonNegative(cmd, 'skip');
  let limit = 0;
  let singleBatch = cmd.singleBatch === true;
  let negativeLimit = false;
  if (cmd.limit !== undefined && cmd.limit !== null) {
    const l = Number(cmd.limit);
    if (!Number.isFinite(l)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'FindCommandRequest.limit' is the wrong type");
    if (l < 0) {
      limit = -l;
      singleBatch = true;
      negativeLimit = true;
    } else limit = Math.floor(l);
  }
  const variables = evaluateLet(cmd.let, 'find');
  let batchSize = batchSizeOf(cmd.batchSize);
  if (negativeLimit) batchSize = limit;
  return { filter, sort, reverseNatural, projection, skip, limit, singleBatch, hint: cmd.hint, variables, batchSize };
}

function projector(projection: Document | undefined, query: Document, variables?: Document): ((doc: Document) => Document) | undefined {
  if (!projection || Object.keys(projection).length === 0) return undefined;
  const options = { query, variables };
  if (!Object.keys(projection).some((k) => k.endsWith('.$'))) applyProjection({}, projection, options);
  return (doc) => applyProjection(doc, projection, options);
}

const find: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const shape = findShape(cmd);
  const transform = projector(shape.projection, shape.filter, shape.variables);
  const ns = `${ctx.db}.${name}`;
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) {
    compileFilter(shape.filter, { variables: shape.variables });
    return firstBatchReply(ctx, ns, []);
  }
  const { docs, result } = runQuery(coll, shape, ctx.catalog);
  if (cmd.returnKey === true) {
    const keyPattern: Document = result.stats.stage === 'IDHACK' ? { _id: 1 } : result.stats.keyPattern ?? {};
    const fields = Object.keys(keyPattern);
    const keyOf = (doc: Document): Document => Object.fromEntries(fields.map((f) => [f, getPath(doc, f) ?? null]));
    return firstBatchReply(ctx, ns, docs, { batchSize: shape.batchSize, singleBatch: shape.singleBatch, transform: keyOf });
  }
  return firstBatchReply(ctx, ns, docs, { batchSize: shape.batchSize, singleBatch: shape.singleBatch, transform });
};

function cursorIdOf(v: unknown): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (v instanceof Long) return BigInt(v.toString());
  throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'getMore.getMore' is the wrong type, expected type 'long'");
}

const getMore: CommandHandler = (cmd, ctx) => {
  const id = cursorIdOf(cmd.getMore);
  const coll = cmd.collection;
  if (typeof coll !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'getMore.collection' is the wrong type, expected type 'string'");
  const cursor = ctx.cursors.get(id);
  if (!cursor) throw new MongoError(ErrorCodes.CursorNotFound, `cursor id ${id} not found`);
  const ns = `${ctx.db}.${coll}`;
  if (cursor.ns !== ns) {
    throw new MongoError(13, `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`);
  }
  return nextBatchReply(ctx, cursor, batchSizeOf(cmd.batchSize));
};

const killCursors: CommandHandler = (cmd, ctx) => {
  if (!Array.isArray(cmd.cursors)) throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'killCursors.cursors' is missing but a required field");
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const raw of cmd.cursors) {
    const id = cursorIdOf(raw);
    (ctx.cursors.close(id) ? killed : notFound).push(Long.fromBigInt(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const filter = objectField(cmd, 'query') ?? {};
  checkCollation(cmd.collation);
  const skip = nonNegative(cmd, 'skip');
  const limit = Math.abs(Number(cmd.limit ?? 0)) || 0;
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) {
    compileFilter(filter);
    return { n: 0, ok: 1 };
  }
  let n: number;
  if (Object.keys(filter).length === 0 && cmd.hint === undefined && !isView(coll)) n = coll.size;
  else n = runQuery(coll, { filter, skip: 0, limit: 0, hint: cmd.hint, reverseNatural: false }, ctx.catalog).docs.length;
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const key = cmd.key;
  if (typeof key !== 'string') throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'distinct.key' is the wrong type, expected type 'string'");
  if (key === '') throw new MongoError(ErrorCodes.BadValue, 'FieldPath cannot be constructed with empty string');
  const filter = objectField(cmd, 'query') ?? {};
  checkCollation(cmd.collation);
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) {
    compileFilter(filter);
    return { values: [], ok: 1 };
  }
  const { docs } = runQuery(coll, { filter, skip: 0, limit: 0, hint: cmd.hint, reverseNatural: false }, ctx.catalog);
  const seen = new Map<string, unknown>();
  const add = (v: unknown): void => {
    if (v === undefined) return;
    const k = encodeValue(v);
    if (!seen.has(k)) seen.set(k, v);
  };
  for (const doc of docs) {
    const v = getPath(doc, key);
    if (Array.isArray(v)) v.forEach(add);
    else add(v);
  }
  const values = [...seen.values()].sort(compareValues);
  return { values, ok: 1 };
};

/** MongoDB-shaped explain output for one planned query. */
export function explainPlan(ns: string, filter: Document, stats: PlanStats, extra: { sort?: Document; limit?: number; skip?: number }): Document {
  let plan: Document;
  if (stats.stage === 'COLLSCAN') plan = { stage: 'COLLSCAN', filter, direction: 'forward' };
  else if (stats.stage === 'IDHACK') plan = { stage: 'IDHACK' };
  else if (stats.stage === 'OR') {
    plan = {
      stage: 'SUBPLAN',
      inputStage: {
        stage: 'FETCH',
        filter,
        inputStage: { stage: 'OR', inputStages: (stats.indexNames ?? []).map((indexName) => ({ stage: 'IXSCAN', indexName })) },
      },
    };
  }
  else {
    plan = {
      stage: 'FETCH',
      filter,
      inputStage: {
        stage: 'IXSCAN',
        keyPattern: stats.keyPattern,
        indexName: stats.indexName,
        isMultiKey: stats.isMultiKey === true,
        direction: stats.direction,
      },
    };
  }
  if (extra.sort && !stats.sortedByIndex) plan = { stage: 'SORT', sortPattern: extra.sort, inputStage: plan };
  if (extra.skip) plan = { stage: 'SKIP', skipAmount: extra.skip, inputStage: plan };
  if (extra.limit) plan = { stage: 'LIMIT', limitAmount: extra.limit, inputStage: plan };
  const executionStages: Document = { ...plan, nReturned: stats.nReturned, keysExamined: stats.keysExamined, docsExamined: stats.docsExamined };
  return {
    explainVersion: '1',
    queryPlanner: { namespace: ns, indexFilterSet: false, parsedQuery: filter, winningPlan: plan, rejectedPlans: [] },
    executionStats: {
      executionSuccess: true,
      nReturned: stats.nReturned,
      executionTimeMillis: 0,
      totalKeysExamined: stats.keysExamined,
      totalDocsExamined: stats.docsExamined,
      executionStages,
    },
    serverInfo: { host: 'localhost', version: '7.0.0' },
    ok: 1,
  };
}

function emptyStats(): PlanStats {
  return { stage: 'COLLSCAN', keysExamined: 0, docsExamined: 0, nReturned: 0, sortedByIndex: false };
}

/** Plans (and runs, for statistics) the query part of an explained command. */
export function explainQuery(ctx: CommandContext, name: string, shape: QueryShape): Document {
  const ns = `${ctx.db}.${name}`;
  const coll = ctx.catalog.getCollection(ctx.db, name);
  const stats = coll ? runQuery(coll, shape, ctx.catalog).result.stats : emptyStats();
  return explainPlan(ns, shape.filter, stats, { sort: shape.sort, limit: shape.limit, skip: shape.skip });
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
};

export { findShape, sortOf, objectField };
