// Collections and indexes: create, drop, dropDatabase, listCollections, createIndexes, listIndexes, dropIndexes.
import { UUID, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { JournalRecord } from '../catalog/catalog';
import { splitNs, validateCollectionName } from '../catalog/catalog';
import { ID_INDEX_NAME, type Collection } from '../catalog/collection';
import type { IndexSpec } from '../catalog/index-store';
import { encodeValue } from '../catalog/keys';
import { compileFilter, isPlainObject, validatePipeline } from '../catalog/semantics';
import type { CommandContext, CommandHandler } from './context';
import { batchSizeOf, firstBatchReply } from './cursor-reply';
import { checkCollation } from './unsupported';
import { assertNotView, isView } from '../catalog/views';

const uuids = new WeakMap<Collection, UUID>();
function uuidOf(coll: Collection): UUID {
  let id = uuids.get(coll);
  if (!id) {
    id = new UUID();
    uuids.set(coll, id);
  }
  return id;
}

/** The collection named by the command's first field, validated. */
export function collectionName(cmd: Document, ctx: CommandContext): string {
  const name = cmd[Object.keys(cmd)[0]];
  if (typeof name !== 'string') {
    throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${name === null ? 'null' : typeof name}`);
  }
  return validateCollectionName(ctx.db, name);
}

/** Gets a collection, creating it (and journaling that) when it does not exist. */
export function ensureCollection(ctx: CommandContext, name: string, records: JournalRecord[]): Collection {
  const existing = ctx.catalog.getCollection(ctx.db, name);
  assertNotView(existing);
  if (existing) return existing;
  const coll = ctx.catalog.createCollection(ctx.db, name);
  records.push({ t: 'create', ns: coll.ns, options: {} });
  return coll;
}

const CREATE_OPTIONS = new Set([
  'capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'collation', 'timeseries',
  'expireAfterSeconds', 'clusteredIndex', 'changeStreamPreAndPostImages', 'storageEngine', 'indexOptionDefaults',
  'viewOn', 'pipeline', 'autoIndexId', 'comment', 'writeConcern', 'encryptedFields',
]);

const create: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const options: Document = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === 'create' || k.startsWith('$') || k === 'lsid' || k === 'writeConcern' || k === 'comment') continue;
    if (!CREATE_OPTIONS.has(k)) throw new MongoError(ErrorCodes.InvalidOptions, `BSON field 'create.${k}' is an unknown field.`);
    options[k] = v;
  }
  if (options.validator !== undefined) {
    if (!isPlainObject(options.validator)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'create.validator' is the wrong type, expected type 'object'");
    compileFilter(options.validator);
  }
  checkCollation(options.collation);
  if (options.capped === true) throw new MongoError(ErrorCodes.NotImplemented, 'capped collections are not supported by the embedded engine');
  for (const option of ['timeseries', 'clusteredIndex', 'expireAfterSeconds', 'encryptedFields']) {
    if (options[option] !== undefined) {
      throw new MongoError(ErrorCodes.NotImplemented, `the '${option}' collection option is not supported by the embedded engine`);
    }
  }
  if (options.viewOn !== undefined) {
    if (typeof options.viewOn !== 'string' || options.viewOn === '') throw new MongoError(ErrorCodes.TypeMismatch, "'viewOn' must be a non-empty string");
    const pipeline = options.pipeline ?? [];
    const { output } = validatePipeline(pipeline);
    if (output) throw new MongoError(ErrorCodes.OptionNotSupportedOnView, `${output.kind} cannot be used in a view definition`);
    options.pipeline = pipeline;
  } else if (options.pipeline !== undefined) {
    throw new MongoError(ErrorCodes.BadValue, "'pipeline' requires 'viewOn' to also be specified");
  }
  const coll = ctx.catalog.createCollection(ctx.db, name, options);
  await ctx.commit([{ t: 'create', ns: coll.ns, options }]);
  return { ok: 1 };
};

const drop: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) return { ok: 1 };
  const nIndexesWas = coll.indexes.size;
  ctx.catalog.dropCollection(ctx.db, name);
  await ctx.commit([{ t: 'drop', ns: coll.ns }]);
  return { nIndexesWas, ns: coll.ns, ok: 1 };
};

const dropDatabase: CommandHandler = async (_cmd, ctx) => {
  if (ctx.catalog.dropDatabase(ctx.db)) await ctx.commit([{ t: 'dropDatabase', db: ctx.db }]);
  return { dropped: ctx.db, ok: 1 };
};

const listCollections: CommandHandler = (cmd, ctx) => {
  let infos: Document[] = ctx.catalog.collections(ctx.db).map((coll) =>
    isView(coll)
      ? { name: coll.name, type: 'view', options: { ...coll.options }, info: { readOnly: true } }
      : {
        name: coll.name,
        type: 'collection',
        options: { ...coll.options },
        info: { readOnly: false, uuid: uuidOf(coll) },
        idIndex: { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME },
      });
  infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (cmd.filter !== undefined && cmd.filter !== null) {
    if (!isPlainObject(cmd.filter)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'listCollections.filter' is the wrong type");
    const pred = compileFilter(cmd.filter);
    infos = infos.filter((i) => pred(i));
  }
  if (cmd.nameOnly === true) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  const cursor = isPlainObject(cmd.cursor) ? cmd.cursor : {};
  return firstBatchReply(ctx, `${ctx.db}.$cmd.listCollections`, infos, { batchSize: batchSizeOf(cursor.batchSize) });
};

const INDEX_OPTIONS = new Set([
  'unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'collation', 'weights', 'default_language',
  'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'hidden', 'wildcardProjection',
  'storageEngine', 'prepareUnique', 'columnstoreProjection',
]);
const KEY_KINDS = new Set(['text', '2d', '2dsphere', 'hashed', 'geoHaystack']);

/** Validates one createIndexes specification and normalizes it as listIndexes shows it. */
export function normalizeIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw)) throw new MongoError(ErrorCodes.TypeMismatch, "The 'indexes' field must be an array of index specification objects");
  const key = raw.key;
  if (!isPlainObject(key)) throw new MongoError(ErrorCodes.FailedToParse, "The 'key' field is a required property of an index specification");
  const fields = Object.entries(key);
  if (fields.length === 0) throw new MongoError(ErrorCodes.CannotCreateIndex, 'Index keys cannot be an empty field.');
  for (const [path, dir] of fields) {
    if (typeof dir === 'number') {
      if (dir === 0 || Number.isNaN(dir)) throw new MongoError(ErrorCodes.CannotCreateIndex, "Values in the index key pattern can't be 0.");
    } else if (!(typeof dir === 'string' && KEY_KINDS.has(dir))) {
      throw new MongoError(ErrorCodes.CannotCreateIndex, `Unknown index plugin '${String(dir)}'`);
    } else if (dir !== 'hashed') {
      throw new MongoError(ErrorCodes.CannotCreateIndex, `'${dir}' indexes are not supported by the embedded engine`);
    }
    if (path === '' || path.startsWith('$') || path.split('.').some((s) => s === '')) {
      throw new MongoError(ErrorCodes.CannotCreateIndex, `Index key contains an illegal field name: '${path}'`);
    }
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    throw new MongoError(ErrorCodes.FailedToParse, "The 'name' field is a required property of an index specification");
  }
  const spec: IndexSpec = { v: 2, key: { ...key }, name: raw.name };
  const isId = fields.length === 1 && fields[0][0] === '_id';
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'key' || k === 'name' || k === 'v' || k === 'ns' || k === 'background') continue;
    if (!INDEX_OPTIONS.has(k)) throw new MongoError(197, `The field '${k}' is not valid for an index specification. Specification: ${JSON.stringify(raw)}`);
    if ((k === 'unique' || k === 'sparse') && v === false) continue;
    if (k === 'expireAfterSeconds') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new MongoError(ErrorCodes.CannotCreateIndex, `TTL index 'expireAfterSeconds' option must be a non-negative number, not: ${String(v)}`);
      }
      if (fields.length > 1) throw new MongoError(ErrorCodes.CannotCreateIndex, 'TTL indexes are single-field indexes, compound indexes do not support TTL.');
    }
    if (k === 'collation') checkCollation(v);
    if (k === 'partialFilterExpression') {
      if (!isPlainObject(v)) throw new MongoError(ErrorCodes.TypeMismatch, "'partialFilterExpression' for an index must be a document");
      compileFilter(v);
    }
    if (isId && (k === 'unique' || k === 'sparse' || k === 'partialFilterExpression' || k === 'expireAfterSeconds')) {
      throw new MongoError(ErrorCodes.CannotCreateIndex, `The field '${k}' is not valid for an _id index specification. Specification: ${JSON.stringify(raw)}`);
    }
    spec[k] = v;
  }
  return spec;
}

const createIndexes: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) {
    throw new MongoError(ErrorCodes.BadValue, 'Must specify at least one index to create');
  }
  const specs = cmd.indexes.map(normalizeIndexSpec);
  const records: JournalRecord[] = [];
  const createdCollectionAutomatically = !ctx.catalog.getCollection(ctx.db, name);
  const coll = ensureCollection(ctx, name, records);
  const numIndexesBefore = coll.indexes.size;
  const created: string[] = [];
  try {
    for (const spec of specs) {
      if (spec.name === ID_INDEX_NAME && encodeValue(spec.key) === encodeValue({ _id: 1 })) continue;
      if (coll.createIndex(spec) === 'created') {
        created.push(spec.name);
        records.push({ t: 'createIndex', ns: coll.ns, spec });
      }
    }
  } catch (error) {
    for (const n of created) coll.dropIndex(n);
    if (createdCollectionAutomatically) ctx.catalog.dropCollection(ctx.db, name);
    throw error;
  }
  await ctx.commit(records);
  const reply: Document = { numIndexesBefore, numIndexesAfter: coll.indexes.size, createdCollectionAutomatically };
  if (created.length === 0) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
};

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.db}.${name}`);
  assertNotView(coll);
  const specs = [...coll.indexes.values()].map((i) => ({ ...i.spec }));
  const cursor = isPlainObject(cmd.cursor) ? cmd.cursor : {};
  return firstBatchReply(ctx, `${ctx.db}.$cmd.listIndexes.${name}`, specs, { batchSize: batchSizeOf(cursor.batchSize) });
};

const dropIndexes: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns not found ${ctx.db}.${name}`);
  assertNotView(coll);
  const nIndexesWas = coll.indexes.size;
  const target = cmd.index;
  let names: string[];
  if (target === '*') {
    names = [...coll.indexes.keys()].filter((n) => n !== ID_INDEX_NAME);
  } else if (typeof target === 'string') {
    names = [target];
  } else if (Array.isArray(target)) {
    names = target.map(String);
  } else if (isPlainObject(target)) {
    const enc = encodeValue(target);
    const found = [...coll.indexes.values()].find((i) => encodeValue(i.spec.key) === enc);
    if (!found) throw new MongoError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
    names = [found.name];
  } else {
    throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'dropIndexes.index' is the wrong type");
  }
  for (const n of names) {
    if (n === ID_INDEX_NAME) throw new MongoError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!coll.indexes.has(n)) throw new MongoError(ErrorCodes.IndexNotFound, `index not found with name [${n}]`);
  }
  for (const n of names) coll.dropIndex(n);
  await ctx.commit(names.map((n) => ({ t: 'dropIndex', ns: coll.ns, name: n })));
  return { nIndexesWas, ok: 1 };
};

const COLLMOD_FIELDS = new Set(['collMod', 'validator', 'validationLevel', 'validationAction', 'index', 'comment', 'writeConcern', 'lsid']);

const collMod: CommandHandler = async (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  for (const k of Object.keys(cmd)) {
    if (!COLLMOD_FIELDS.has(k) && !k.startsWith('$')) throw new MongoError(40415, `BSON field 'collMod.${k}' is an unknown field.`);
  }
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.db}.${name}`);
  assertNotView(coll);
  const records: JournalRecord[] = [];
  const reply: Document = {};
  const options = { ...coll.options };
  let changedOptions = false;
  if (cmd.validator !== undefined) {
    if (!isPlainObject(cmd.validator)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'collMod.validator' is the wrong type, expected type 'object'");
    compileFilter(cmd.validator);
    options.validator = cmd.validator;
    changedOptions = true;
  }
  if (cmd.validationLevel !== undefined) {
    if (!['off', 'strict', 'moderate'].includes(String(cmd.validationLevel))) {
      throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${String(cmd.validationLevel)}' for field 'collMod.validationLevel' is not a valid value.`);
    }
    options.validationLevel = cmd.validationLevel;
    changedOptions = true;
  }
  if (cmd.validationAction !== undefined) {
    if (!['error', 'warn'].includes(String(cmd.validationAction))) {
      throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${String(cmd.validationAction)}' for field 'collMod.validationAction' is not a valid value.`);
    }
    options.validationAction = cmd.validationAction;
    changedOptions = true;
  }
  if (cmd.index !== undefined) {
    if (!isPlainObject(cmd.index)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'collMod.index' is the wrong type, expected type 'object'");
    const target = cmd.index;
    const index = typeof target.name === 'string'
      ? coll.indexes.get(target.name)
      : isPlainObject(target.keyPattern)
        ? [...coll.indexes.values()].find((i) => encodeValue(i.spec.key) === encodeValue(target.keyPattern))
        : undefined;
    if (!index) throw new MongoError(ErrorCodes.IndexNotFound, `cannot find index ${JSON.stringify(target.name ?? target.keyPattern)} for ns ${coll.ns}`);
    const changes: Document = {};
    if (target.expireAfterSeconds !== undefined) {
      if (typeof target.expireAfterSeconds !== 'number' || target.expireAfterSeconds < 0) {
        throw new MongoError(ErrorCodes.BadValue, 'expireAfterSeconds must be a non-negative number');
      }
      if (index.expireAfterSeconds === undefined) throw new MongoError(ErrorCodes.InvalidOptions, 'no expireAfterSeconds field to update');
      reply.expireAfterSeconds_old = index.expireAfterSeconds;
      reply.expireAfterSeconds_new = target.expireAfterSeconds;
      changes.expireAfterSeconds = target.expireAfterSeconds;
    }
    if (target.hidden !== undefined) {
      reply.hidden_old = index.spec.hidden === true;
      reply.hidden_new = target.hidden === true;
      changes.hidden = target.hidden === true;
    }
    coll.modifyIndex(index.name, changes);
    records.push({ t: 'modifyIndex', ns: coll.ns, name: index.name, changes });
  }
  if (changedOptions) {
    coll.options = options;
    records.push({ t: 'collMod', ns: coll.ns, options });
  }
  if (records.length > 0) await ctx.commit(records);
  reply.ok = 1;
  return reply;
};

const renameCollection: CommandHandler = async (cmd, ctx) => {
  if (ctx.db !== 'admin') throw new MongoError(13, 'renameCollection may only be run against the admin database.');
  const from = cmd.renameCollection;
  const to = cmd.to;
  if (typeof from !== 'string' || typeof to !== 'string') {
    throw new MongoError(ErrorCodes.TypeMismatch, "'renameCollection' and 'to' must be namespace strings");
  }
  if (from === to) throw new MongoError(ErrorCodes.IllegalOperation, "Can't rename a collection to itself");
  const src = splitNs(from);
  const dst = splitNs(to);
  const source = ctx.catalog.getCollection(src.db, src.coll);
  if (!source) throw new MongoError(ErrorCodes.NamespaceNotFound, `Source collection ${from} does not exist`);
  assertNotView(source);
  const records: JournalRecord[] = [];
  if (ctx.catalog.getCollection(dst.db, dst.coll)) {
    if (cmd.dropTarget !== true) throw new MongoError(ErrorCodes.NamespaceExists, 'target namespace exists');
    ctx.catalog.dropCollection(dst.db, dst.coll);
    records.push({ t: 'drop', ns: to });
  }
  ctx.catalog.renameCollection(from, to);
  records.push({ t: 'rename', from, to });
  await ctx.commit(records);
  return { ok: 1 };
};

export const ddlCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  collMod,
  renameCollection,
};
