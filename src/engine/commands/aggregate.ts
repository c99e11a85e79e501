// The aggregate command: index-assisted leading $match/$sort/$limit, the query module's pipeline, $out and $merge.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { JournalRecord } from '../catalog/catalog';
import { validateCollectionName, validateDbName } from '../catalog/catalog';
import { Collection, ID_INDEX_NAME } from '../catalog/collection';
import { findMatches } from '../catalog/planner';
import { formatDocument } from '../catalog/format';
import { assertNotView, documentsOf, isView } from '../catalog/views';
import { applyUpdate, compileFilter, compileSort, getPath, isPlainObject, runPipeline, validatePipeline } from '../catalog/semantics';
import type { CommandContext, CommandHandler } from './context';
import { batchSizeOf, firstBatchReply } from './cursor-reply';
import { explainPlan } from './reads';
import { evaluateLet } from './let';
import { checkCollation } from './unsupported';
import { withId, updateKind } from './writes';

interface PreparedSource {
  docs: Document[];
  rest: Document[];
  explain?: Document;
}

/** Answers a leading $match (+ $sort, + $limit) from the collection's indexes; returns the stages left to run. */
function prepareSource(ctx: CommandContext, coll: Collection | undefined, stages: Document[], variables?: Document): PreparedSource {
  if (!coll) return { docs: [], rest: stages };
  if (isView(coll)) return { docs: documentsOf(ctx.catalog, coll), rest: stages };
  let i = 0;
  let filter: Document = {};
  let sort: Document | undefined;
  let limit = 0;
  if (stages[i] && isPlainObject(stages[i].$match)) {
    filter = stages[i].$match as Document;
    i++;
  }
  if (stages[i] && isPlainObject(stages[i].$sort) && Object.keys(stages[i].$sort as Document).length > 0) {
    sort = stages[i].$sort as Document;
    compileSort(sort);
    i++;
    if (stages[i] && typeof stages[i].$limit === 'number' && (stages[i].$limit as number) > 0) {
      limit = Math.floor(stages[i].$limit as number);
      i++;
    }
  } else if (i > 0 && stages[i] && typeof stages[i].$limit === 'number' && (stages[i].$limit as number) > 0) {
    limit = Math.floor(stages[i].$limit as number);
    i++;
  }
  if (i === 0) return { docs: Array.from(coll.records.values(), (r) => r.doc), rest: stages };
  const predicate = compileFilter(filter, { variables });
  const result = findMatches(coll, filter, { sort, limit, predicate });
  let docs = result.recs.map((r) => r.doc);
  if (sort && !result.sorted) docs.sort(compileSort(sort));
  if (limit > 0) docs = docs.slice(0, limit);
  const explain = explainPlan(coll.ns, filter, result.stats, { sort, limit });
  return { docs, rest: stages.slice(i), explain };
}

function targetOf(spec: unknown, ctx: CommandContext, stage: string): { db: string; coll: string } {
  if (typeof spec === 'string') return { db: ctx.db, coll: validateCollectionName(ctx.db, spec) };
  if (isPlainObject(spec)) {
    const db = spec.db === undefined ? ctx.db : spec.db;
    const coll = spec.coll;
    if (typeof db !== 'string' || typeof coll !== 'string') {
      throw new MongoError(ErrorCodes.FailedToParse, `${stage} requires a collection name (and optional db) as strings`);
    }
    validateDbName(db);
    return { db, coll: validateCollectionName(db, coll) };
  }
  throw new MongoError(ErrorCodes.TypeMismatch, `${stage} only supports a string or object argument, not ${typeof spec}`);
}

/**
 * countDocuments() arrives as [$match, $group: { _id: <constant>, n: { $sum: 1 } }]: answered from the match count
 * without running the group over every document.
 */
function countShortcut(prepared: PreparedSource): Document[] | undefined {
  if (prepared.rest.length !== 1) return undefined;
  const group = prepared.rest[0].$group;
  if (!isPlainObject(group)) return undefined;
  const keys = Object.keys(group);
  if (keys.length !== 2 || keys[0] !== '_id') return undefined;
  const id = group._id;
  if (!(id === null || typeof id === 'number' || (typeof id === 'string' && !id.startsWith('$')))) return undefined;
  const acc = group[keys[1]];
  if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || acc.$sum !== 1) return undefined;
  return prepared.docs.length === 0 ? [] : [{ _id: id, [keys[1]]: prepared.docs.length }];
}

/** The documents a `$documents` stage evaluates to. */
function evaluateDocuments(expr: unknown, variables?: Document): Document[] {
  const [out] = runPipeline([{}], [{ $set: { docs: expr } }], { collection: () => [], variables });
  const docs = out?.docs;
  if (!Array.isArray(docs) || !docs.every(isPlainObject)) {
    throw new MongoError(5858203, '$documents stage must evaluate to an array of objects');
  }
  return docs as Document[];
}

/** $out: builds the new collection aside (keeping the target's indexes), then swaps it in with one journal write. */
async function runOut(ctx: CommandContext, spec: unknown, docs: Document[]): Promise<void> {
  const target = targetOf(spec, ctx, '$out');
  const old = ctx.catalog.getCollection(target.db, target.coll);
  assertNotView(old);
  const fresh = new Collection(target.db, target.coll, old ? old.options : {});
  const records: JournalRecord[] = [{ t: 'drop', ns: fresh.ns }, { t: 'create', ns: fresh.ns, options: fresh.options }];
  if (old) {
    for (const index of old.indexes.values()) {
      if (index.name === ID_INDEX_NAME) continue;
      fresh.createIndex(index.spec);
      records.push({ t: 'createIndex', ns: fresh.ns, spec: index.spec });
    }
  }
  for (const raw of docs) {
    const doc = withId(raw);
    fresh.insert(doc);
    records.push({ t: 'insert', ns: fresh.ns, doc });
  }
  ctx.catalog.replaceCollection(fresh);
  await ctx.commit(records);
}

function onFieldsOf(spec: Document): string[] {
  const on = spec.on;
  if (on === undefined) return ['_id'];
  if (typeof on === 'string') return [on];
  if (Array.isArray(on) && on.length > 0 && on.every((f) => typeof f === 'string')) return [...new Set(on as string[])];
  throw new MongoError(51186, "$merge 'on' field must be either a string or an array of strings");
}

function mergeVariables(spec: Document, doc: Document): Document {
  const vars: Document = { new: doc };
  if (isPlainObject(spec.let)) {
    vars.new = undefined;
    for (const [k, expr] of Object.entries(spec.let)) {
      if (expr === '$$ROOT') vars[k] = doc;
      else if (typeof expr === 'string' && expr.startsWith('$') && !expr.startsWith('$$')) vars[k] = getPath(doc, expr.slice(1));
      else vars[k] = expr;
    }
    if (vars.new === undefined) delete vars.new;
  }
  return vars;
}

/** $merge: inserts, replaces, merges or keeps documents of the target by its `on` fields. */
async function runMerge(ctx: CommandContext, rawSpec: unknown, docs: Document[]): Promise<void> {
  const spec: Document = typeof rawSpec === 'string' || (isPlainObject(rawSpec) && !('into' in rawSpec)) ? { into: rawSpec } : (rawSpec as Document);
  if (!isPlainObject(spec)) throw new MongoError(ErrorCodes.TypeMismatch, '$merge requires a string or object argument');
  const target = targetOf(spec.into, ctx, '$merge');
  const on = onFieldsOf(spec);
  const whenMatched = spec.whenMatched ?? 'merge';
  const whenNotMatched = spec.whenNotMatched ?? 'insert';
  if (!Array.isArray(whenMatched) && !['replace', 'keepExisting', 'merge', 'fail'].includes(String(whenMatched))) {
    throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${String(whenMatched)}' for field 'whenMatched' is not a valid value.`);
  }
  if (Array.isArray(whenMatched)) updateKind(whenMatched);
  if (!['insert', 'discard', 'fail'].includes(String(whenNotMatched))) {
    throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${String(whenNotMatched)}' for field 'whenNotMatched' is not a valid value.`);
  }
  const records: JournalRecord[] = [];
  let coll = ctx.catalog.getCollection(target.db, target.coll);
  assertNotView(coll);
  const byId = on.length === 1 && on[0] === '_id';
  if (!coll && !byId) throw new MongoError(51183, 'Cannot find index to verify that join fields will be unique');
  if (coll && !byId) {
    const wanted = [...on].sort().join('\u0000');
    const ok = [...coll.indexes.values()].some(
      (i) => i.unique && !i.partial && Object.keys(i.spec.key).sort().join('\u0000') === wanted,
    );
    if (!ok) throw new MongoError(51183, 'Cannot find index to verify that join fields will be unique');
  }
  try {
    for (const raw of docs) {
      if (!coll) {
        coll = ctx.catalog.createCollection(target.db, target.coll);
        records.push({ t: 'create', ns: coll.ns, options: {} });
      }
      let existing;
      if (byId) {
        existing = raw._id === undefined ? undefined : coll.getById(raw._id);
      } else {
        const filter: Document = {};
        for (const f of on) {
          const v = getPath(raw, f);
          if (v === undefined || v === null || Array.isArray(v)) {
            throw new MongoError(51132, "$merge write error: 'on' field cannot be missing, null, undefined or an array");
          }
          filter[f] = v;
        }
        existing = findMatches(coll, filter, { limit: 1 }).recs[0];
      }
      if (!existing) {
        if (whenNotMatched === 'discard') continue;
        if (whenNotMatched === 'fail') {
          throw new MongoError(13113, '$merge could not find a matching document in the target collection for at least one document in the source collection');
        }
        const doc = withId(raw);
        coll.insert(doc);
        records.push({ t: 'insert', ns: coll.ns, doc });
        continue;
      }
      let next: Document;
      if (whenMatched === 'keepExisting') continue;
      if (whenMatched === 'fail') {
        const keyValue = Object.fromEntries(on.map((f) => [f, getPath(raw, f)]));
        const keyPattern = Object.fromEntries(on.map((f) => [f, 1]));
        const indexName = byId ? ID_INDEX_NAME : [...coll.indexes.values()].find((i) => i.unique && Object.keys(i.spec.key).sort().join() === [...on].sort().join())?.name ?? on.join('_');
        throw new MongoError(
          ErrorCodes.DuplicateKey,
          `E11000 duplicate key error collection: ${coll.ns} index: ${indexName} dup key: ${formatDocument(keyValue)}`,
          { keyPattern, keyValue },
        );
      }
      if (whenMatched === 'replace') {
        const { _id: _ignored, ...rest } = raw;
        next = { _id: existing.doc._id, ...rest };
      } else if (whenMatched === 'merge') {
        next = { ...existing.doc, ...raw, _id: existing.doc._id };
      } else {
        next = applyUpdate(existing.doc, whenMatched as Document[], { variables: mergeVariables(spec, raw) }).doc;
      }
      const stored = withId(next);
      coll.replace(existing, stored);
      records.push({ t: 'update', ns: coll.ns, doc: stored });
    }
  } finally {
    if (records.length > 0) await ctx.commit(records);
  }
}

const aggregate: CommandHandler = async (cmd, ctx) => {
  const source = cmd.aggregate;
  let coll: Collection | undefined;
  let ns: string;
  if (source === 1) {
    ns = `${ctx.db}.$cmd.aggregate`;
  } else {
    if (typeof source !== 'string') {
      throw new MongoError(ErrorCodes.FailedToParse, "Invalid input namespace: 'aggregate' must be a collection name string or 1");
    }
    const name = validateCollectionName(ctx.db, source);
    ns = `${ctx.db}.${name}`;
    coll = ctx.catalog.getCollection(ctx.db, name);
  }
  checkCollation(cmd.collation);
  const explain = cmd.explain === true;
  if (!explain && !isPlainObject(cmd.cursor)) {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const variables = evaluateLet(cmd.let, 'aggregate');
  let pipeline = cmd.pipeline;
  let dbSource: Document[] | undefined;
  if (source === 1) {
    const first: unknown = Array.isArray(pipeline) ? pipeline[0] : undefined;
    const stageName = isPlainObject(first) ? Object.keys(first)[0] : undefined;
    if (isPlainObject(first) && stageName === '$documents') dbSource = evaluateDocuments(first.$documents, variables);
    else if (isPlainObject(first) && stageName === '$listLocalSessions') dbSource = ctx.sessions.list();
    else {
      throw new MongoError(ErrorCodes.InvalidNamespace, `{aggregate: 1} is not valid for '${stageName ?? 'an empty pipeline'}'; a collection is required.`);
    }
    pipeline = (pipeline as unknown[]).slice(1);
  }
  const { stages, output } = validatePipeline(pipeline);
  const prepared = dbSource ? { docs: dbSource, rest: stages } as PreparedSource : prepareSource(ctx, coll, stages, variables);
  if (explain) {
    const base = prepared.explain ?? explainPlan(ns, {}, { stage: 'COLLSCAN', keysExamined: 0, docsExamined: coll?.size ?? 0, nReturned: coll?.size ?? 0, sortedByIndex: false }, {});
    return { ...base, stages: [{ $cursor: { queryPlanner: base.queryPlanner, executionStats: base.executionStats } }, ...prepared.rest], ok: 1 };
  }
  const counted = countShortcut(prepared);
  const lookupCache = new Map<string, Document[]>();
  const results = counted ?? runPipeline(prepared.docs, prepared.rest, {
    collection: (name: string) => {
      let docs = lookupCache.get(name);
      if (!docs) {
        docs = documentsOf(ctx.catalog, ctx.catalog.getCollection(ctx.db, name));
        lookupCache.set(name, docs);
      }
      return docs;
    },
    variables,
  });
  if (output) {
    if (output.kind === '$out') await runOut(ctx, output.spec, results);
    else await runMerge(ctx, output.spec, results);
    return firstBatchReply(ctx, ns, []);
  }
  const cursor = cmd.cursor as Document;
  return firstBatchReply(ctx, ns, results, { batchSize: batchSizeOf(cursor.batchSize) });
};

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
