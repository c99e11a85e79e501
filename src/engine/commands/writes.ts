// Write commands: insert, update, delete and findAndModify, with MongoDB's write-error reporting.
import { ObjectId, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { JournalRecord } from '../catalog/catalog';
import type { Collection } from '../catalog/collection';
import { findMatches } from '../catalog/planner';
import { applyProjection, applyUpdate, compileFilter, compileSort, isPlainObject, upsertSeed } from '../catalog/semantics';
import type { CommandContext, CommandHandler } from './context';
import { collectionName, ensureCollection } from './ddl';
import { evaluateLet } from './let';
import { checkCollation } from './unsupported';
import { assertNotView } from '../catalog/views';

/** Validates an _id value as MongoDB does for storage. */
function checkId(id: unknown): void {
  if (Array.isArray(id)) throw new MongoError(ErrorCodes.BadValue, "The '_id' value cannot be of type array");
  if (id instanceof RegExp || (isBsonValue(id, 'BSONRegExp'))) throw new MongoError(ErrorCodes.BadValue, "can't use a regex for _id");
  if (id === undefined) throw new MongoError(ErrorCodes.BadValue, "can't use a undefined for _id");
  if (isPlainObject(id)) {
    for (const k of Object.keys(id)) {
      if (k.startsWith('$')) {
        throw new MongoError(ErrorCodes.DollarPrefixedFieldName, `_id fields may not contain '$'-prefixed fields: ${k} is not valid for storage.`);
      }
    }
  }
}

function isBsonValue(v: unknown, type: string): boolean {
  return v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === type;
}

/** A document ready to store: _id present (generated when missing) and first. */
export function withId(doc: Document): Document {
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  checkId(doc._id);
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/** The writeErrors entry for a failed statement. */
export function writeErrorOf(index: number, error: unknown, ctx: CommandContext): Document {
  if (error instanceof MongoError) return { index, code: error.code, errmsg: error.message, ...error.extra };
  ctx.logger.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'write statement failed unexpectedly');
  return { index, code: ErrorCodes.InternalError, errmsg: error instanceof Error ? error.message : String(error) };
}

/** Applies the collection's validator to a document about to be stored (unless bypassed). */
export function makeValidator(coll: Collection, ctx: CommandContext, bypass: boolean): (next: Document, previous?: Document) => void {
  return (next, previous) => {
    if (bypass) return;
    const outcome = coll.checkValidation(next, previous);
    if (outcome === 'ok') return;
    if (outcome === 'warn') {
      ctx.logger.warn({ ns: coll.ns, id: String(next._id) }, 'Document would fail validation');
      return;
    }
    throw new MongoError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', {
      errInfo: {
        failingDocumentId: next._id,
        details: { operatorName: '$and', specifiedAs: coll.options.validator, reason: 'one or more clauses were not satisfied' },
      },
    });
  };
}

function isOrdered(cmd: Document): boolean {
  return cmd.ordered !== false;
}

function letVariables(cmd: Document): Document | undefined {
  return evaluateLet(cmd.let, Object.keys(cmd)[0]);
}

function statements(cmd: Document, field: string): Document[] {
  const list = cmd[field];
  if (!Array.isArray(list)) {
    throw new MongoError(ErrorCodes.FailedToParse, `BSON field '${Object.keys(cmd)[0]}.${field}' is missing but a required field`);
  }
  if (list.length === 0) throw new MongoError(ErrorCodes.InvalidLength, 'Write batch sizes must be between 1 and 100000. Got 0 operations.');
  return list as Document[];
}

const UPDATE_FIELDS = new Set(['q', 'u', 'upsert', 'multi', 'arrayFilters', 'hint', 'collation', 'c', 'upsertSupplied']);
const DELETE_FIELDS = new Set(['q', 'limit', 'hint', 'collation']);

/** Rejects unknown fields in a statement as MongoDB 7.0's command parser does. */
function checkStatementFields(st: Document, allowed: Set<string>, path: string): void {
  for (const k of Object.keys(st)) {
    if (!allowed.has(k)) throw new MongoError(40415, `BSON field '${path}.${k}' is an unknown field.`);
  }
}

async function commitThen(ctx: CommandContext, records: JournalRecord[], reply: Document): Promise<Document> {
  if (records.length > 0) await ctx.commit(records);
  return reply;
}

/** Runs each statement; a failing one becomes a writeErrors entry, and stops the rest when the write is ordered. */
function eachStatement<T>(items: T[], ordered: boolean, ctx: CommandContext, run: (statement: T, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      run(items[i] as T, i);
    } catch (error) {
      writeErrors.push(writeErrorOf(i, error, ctx));
      if (ordered) break;
    }
  }
  return writeErrors;
}

/** The reply of a write command: its counts, then the write errors if any, then ok. */
function writeReply(counts: Document, writeErrors: Document[]): Document {
  return { ...counts, ...(writeErrors.length > 0 ? { writeErrors } : {}), ok: 1 };
}

const insert: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const docs = statements(cmd, 'documents');
  const ordered = isOrdered(cmd);
  const records: JournalRecord[] = [];
  const coll = ensureCollection(ctx, name, records);
  const validate = makeValidator(coll, ctx, cmd.bypassDocumentValidation === true);
  let n = 0;
  const writeErrors = eachStatement(docs, ordered, ctx, (raw) => {
    if (!isPlainObject(raw)) throw new MongoError(ErrorCodes.TypeMismatch, 'document to insert must be an object');
    const doc = withId(raw);
    validate(doc);
    coll.insert(doc);
    records.push({ t: 'insert', ns: coll.ns, doc });
    n++;
  });
  return commitThen(ctx, records, writeReply({ n }, writeErrors));
};

type UpdateKind = 'operators' | 'replacement' | 'pipeline';

/** Classifies an update document and rejects malformed ones. */
export function updateKind(u: unknown): UpdateKind {
  if (Array.isArray(u)) {
    if (!u.every(isPlainObject)) throw new MongoError(ErrorCodes.FailedToParse, 'Each element of the update pipeline must be an object');
    return 'pipeline';
  }
  if (!isPlainObject(u)) throw new MongoError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  if (keys.length === 0 || !keys[0].startsWith('$')) {
    const bad = keys.find((k) => k.startsWith('$'));
    if (bad) {
      throw new MongoError(
        ErrorCodes.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${bad}' in '${bad}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
    return 'replacement';
  }
  const plain = keys.find((k) => !k.startsWith('$'));
  if (plain) {
    throw new MongoError(ErrorCodes.FailedToParse, `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  return 'operators';
}

export interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The document before (or null) and after the write, for findAndModify. */
  before?: Document | null;
  after?: Document | null;
}

export interface UpdateStatement {
  q: Document;
  u: Document | Document[];
  upsert: boolean;
  multi: boolean;
  arrayFilters?: Document[];
  hint?: unknown;
  sort?: Document;
  variables?: Document;
  /** Throws when the new document fails the collection's validator. */
  validate?: (next: Document, previous?: Document) => void;
}

/** Runs one update statement against a collection, recording journal entries. */
export function runUpdate(coll: Collection, st: UpdateStatement, records: JournalRecord[]): UpdateOutcome {
  const kind = updateKind(st.u);
  if (kind === 'replacement' && st.multi) throw new MongoError(ErrorCodes.FailedToParse, 'multi update is not supported for replacement-style update');
  if (st.arrayFilters !== undefined && !Array.isArray(st.arrayFilters)) {
    throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'arrayFilters' is the wrong type, expected type 'array'");
  }
  const predicate = compileFilter(st.q, { variables: st.variables });
  const result = findMatches(coll, st.q, { limit: st.multi || st.sort ? 0 : 1, hint: st.hint, predicate, sort: st.sort });
  let recs = result.recs;
  if (st.sort && !result.sorted && recs.length > 1) {
    const cmp = compileSort(st.sort);
    recs = [...recs].sort((a, b) => cmp(a.doc, b.doc));
  }
  if (!st.multi) recs = recs.slice(0, 1);
  const options = { arrayFilters: st.arrayFilters, query: st.q, variables: st.variables };
  let modified = 0;
  let before: Document | null = null;
  let after: Document | null = null;
  for (const rec of recs) {
    const old = rec.doc;
    const { doc: next, changed } = applyUpdate(old, st.u, options);
    const stored = changed ? withId(next) : old;
    if (changed) {
      st.validate?.(stored, old);
      coll.replace(rec, stored);
      records.push({ t: 'update', ns: coll.ns, doc: stored });
      modified++;
    }
    before = old;
    after = stored;
  }
  if (recs.length > 0 || !st.upsert) return { matched: recs.length, modified, before, after };
  const seed = upsertSeed(st.q);
  let doc: Document;
  if (kind === 'replacement') {
    doc = { ...(st.u as Document) };
    if (!('_id' in doc) && '_id' in seed) doc = { _id: seed._id, ...doc };
  } else {
    doc = applyUpdate(seed, st.u, { ...options, isUpsertInsert: true }).doc;
  }
  doc = withId(doc);
  st.validate?.(doc);
  coll.insert(doc);
  records.push({ t: 'insert', ns: coll.ns, doc });
  return { matched: 0, modified: 0, upsertedId: doc._id, before: null, after: doc };
}

/** The checks an update or delete command passes before any statement runs: target, statement fields, options. */
function prepareStatements(cmd: Document, ctx: Parameters<CommandHandler>[1], field: 'updates' | 'deletes', allowed: Set<string>) {
  const name = collectionName(cmd, ctx);
  const items = statements(cmd, field);
  assertNotView(ctx.catalog.getCollection(ctx.db, name));
  for (const st of items) {
    if (!isPlainObject(st)) continue;
    checkStatementFields(st, allowed, `${Object.keys(cmd)[0]}.${field}`);
    checkCollation(st.collation);
  }
  return { name, items, ordered: isOrdered(cmd), variables: letVariables(cmd) };
}

const update: CommandHandler = async (cmd, ctx) => {
  const { name, items: updates, ordered, variables } = prepareStatements(cmd, ctx, 'updates', UPDATE_FIELDS);
  const records: JournalRecord[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  const writeErrors = eachStatement(updates, ordered, ctx, (st, i) => {
    if (!isPlainObject(st)) throw new MongoError(ErrorCodes.TypeMismatch, 'update statement must be an object');
    const q = st.q === undefined ? {} : st.q;
    if (!isPlainObject(q)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'q' is the wrong type, expected type 'object'");
    if (st.u === undefined) throw new MongoError(ErrorCodes.FailedToParse, "BSON field 'u' is missing but a required field");
    let coll = ctx.catalog.getCollection(ctx.db, name);
    assertNotView(coll);
    if (!coll) {
      if (st.upsert !== true) {
        updateKind(st.u);
        return;
      }
      coll = ensureCollection(ctx, name, records);
    }
    const out = runUpdate(coll, {
      q,
      u: st.u as Document | Document[],
      upsert: st.upsert === true,
      multi: st.multi === true,
      arrayFilters: st.arrayFilters as Document[] | undefined,
      hint: st.hint,
      variables,
      validate: makeValidator(coll, ctx, cmd.bypassDocumentValidation === true),
    }, records);
    if (out.upsertedId !== undefined) {
      upserted.push({ index: i, _id: out.upsertedId });
      n += 1;
    } else {
      n += out.matched;
      nModified += out.modified;
    }
  });
  return commitThen(ctx, records, writeReply({ n, nModified, ...(upserted.length > 0 ? { upserted } : {}) }, writeErrors));
};

const del: CommandHandler = async (cmd, ctx) => {
  const { name, items: deletes, ordered, variables } = prepareStatements(cmd, ctx, 'deletes', DELETE_FIELDS);
  const records: JournalRecord[] = [];
  let n = 0;
  const writeErrors = eachStatement(deletes, ordered, ctx, (st) => {
    if (!isPlainObject(st)) throw new MongoError(ErrorCodes.TypeMismatch, 'delete statement must be an object');
    const q = st.q === undefined ? {} : st.q;
    if (!isPlainObject(q)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'q' is the wrong type, expected type 'object'");
    const limit = Number(st.limit ?? 0);
    if (limit !== 0 && limit !== 1) throw new MongoError(ErrorCodes.FailedToParse, `The limit field in delete objects must be 0 or 1. Got ${String(st.limit)}`);
    const predicate = compileFilter(q, { variables });
    const coll = ctx.catalog.getCollection(ctx.db, name);
    assertNotView(coll);
    if (!coll) return;
    const { recs } = findMatches(coll, q, { limit, hint: st.hint, predicate });
    for (const rec of limit === 1 ? recs.slice(0, 1) : recs) {
      coll.remove(rec);
      records.push({ t: 'delete', ns: coll.ns, id: rec.doc._id });
      n++;
    }
  });
  return commitThen(ctx, records, writeReply({ n }, writeErrors));
};

const findAndModify: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const query = cmd.query === undefined || cmd.query === null ? {} : cmd.query;
  if (!isPlainObject(query)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'findAndModify.query' is the wrong type, expected type 'object'");
  checkCollation(cmd.collation);
  const remove = cmd.remove === true;
  const hasUpdate = cmd.update !== undefined;
  const returnNew = cmd.new === true;
  const upsert = cmd.upsert === true;
  if (remove && hasUpdate) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate) throw new MongoError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  if (remove && returnNew) throw new MongoError(ErrorCodes.FailedToParse, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  if (remove && upsert) throw new MongoError(ErrorCodes.FailedToParse, 'Cannot specify both upsert=true and remove=true');
  const sort = cmd.sort !== undefined && isPlainObject(cmd.sort) && Object.keys(cmd.sort).length > 0 ? cmd.sort : undefined;
  const fields = isPlainObject(cmd.fields) && Object.keys(cmd.fields).length > 0 ? cmd.fields : undefined;
  const variables = letVariables(cmd);
  const project = (doc: Document | null | undefined): Document | null =>
    doc ? (fields ? applyProjection(doc, fields, { query, variables }) : doc) : null;
  const records: JournalRecord[] = [];

  if (remove) {
    const coll = ctx.catalog.getCollection(ctx.db, name);
    assertNotView(coll);
    const predicate = compileFilter(query, { variables });
    if (sort) compileSort(sort);
    if (!coll) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    const res = findMatches(coll, query, { sort, limit: 1, predicate, hint: cmd.hint });
    let recs = res.recs;
    if (sort && !res.sorted && recs.length > 1) {
      const cmp = compileSort(sort);
      recs = [...recs].sort((a, b) => cmp(a.doc, b.doc));
    }
    const rec = recs[0];
    if (!rec) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    const value = project(rec.doc);
    coll.remove(rec);
    records.push({ t: 'delete', ns: coll.ns, id: rec.doc._id });
    return commitThen(ctx, records, { lastErrorObject: { n: 1 }, value, ok: 1 });
  }

  let coll = ctx.catalog.getCollection(ctx.db, name);
  assertNotView(coll);
  if (!coll) {
    updateKind(cmd.update);
    if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    coll = ensureCollection(ctx, name, records);
  }
  let out: UpdateOutcome;
  try {
    out = runUpdate(coll, {
      q: query,
      u: cmd.update as Document,
      upsert,
      multi: false,
      arrayFilters: cmd.arrayFilters as Document[] | undefined,
      hint: cmd.hint,
      sort,
      variables,
      validate: makeValidator(coll, ctx, cmd.bypassDocumentValidation === true),
    }, records);
  } catch (error) {
    if (records.length > 0) await ctx.commit(records);
    throw error;
  }
  const lastErrorObject: Document = { n: out.matched > 0 || out.upsertedId !== undefined ? 1 : 0, updatedExisting: out.matched > 0 };
  if (out.upsertedId !== undefined) lastErrorObject.upserted = out.upsertedId;
  const value = project(returnNew ? out.after : out.before);
  return commitThen(ctx, records, { lastErrorObject, value, ok: 1 });
};

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: del,
  findAndModify,
  findandmodify: findAndModify,
};
