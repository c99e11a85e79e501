// A collection: its documents keyed by encoded _id and its indexes, kept consistent on every write.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { Index, type IndexSpec } from './index-store';
import { encodeValue } from './keys';
import type { Rec } from './sorted-list';
import { formatDocument } from './format';
import { compileFilter, isPlainObject } from './semantics';

export const ID_INDEX_NAME = '_id_';

const IGNORED_SPEC_FIELDS = new Set(['v', 'name', 'key', 'ns', 'background']);

/** Index options that make two specs with the same key different (what createIndexes compares). */
function optionsOf(spec: Document): string {
  const opts: Document = {};
  for (const k of Object.keys(spec).sort()) if (!IGNORED_SPEC_FIELDS.has(k)) opts[k] = spec[k];
  if (opts.unique === false) delete opts.unique;
  if (opts.sparse === false) delete opts.sparse;
  return encodeValue(opts);
}

function sameKey(a: Document, b: Document): boolean {
  return encodeValue(a) === encodeValue(b);
}

export type IndexCreation = 'created' | 'exists';

export class Collection {
  readonly records = new Map<string, Rec>();
  readonly indexes = new Map<string, Index>();
  readonly createdAt = new Date();

  private validator?: (doc: Document) => boolean;
  private _options: Document = {};

  constructor(
    public db: string,
    public name: string,
    options: Document = {},
  ) {
    this.indexes.set(ID_INDEX_NAME, new Index({ v: 2, key: { _id: 1 }, name: ID_INDEX_NAME }));
    this.options = options;
  }

  get options(): Document {
    return this._options;
  }

  /** Sets the collection options (validator, validationLevel, ...), compiling the validator. */
  set options(options: Document) {
    this.validator = isPlainObject(options.validator) && Object.keys(options.validator).length > 0
      ? compileFilter(options.validator)
      : undefined;
    this._options = options;
  }

  /**
   * Document validation as MongoDB applies it: 'off' skips, 'moderate' only checks updates of documents that were
   * valid, 'strict' (default) checks every write. Returns 'error' or 'warn' when the document fails.
   */
  checkValidation(next: Document, previous?: Document): 'ok' | 'error' | 'warn' {
    if (!this.validator) return 'ok';
    const level = this._options.validationLevel ?? 'strict';
    if (level === 'off') return 'ok';
    if (level === 'moderate' && previous && !this.validator(previous)) return 'ok';
    if (this.validator(next)) return 'ok';
    return this._options.validationAction === 'warn' ? 'warn' : 'error';
  }

  /** Changes an index's TTL or hidden flag (collMod); returns the old spec. */
  modifyIndex(name: string, changes: Document): IndexSpec {
    const index = this.indexes.get(name);
    if (!index) throw new MongoError(ErrorCodes.IndexNotFound, `cannot find index ${name} for ns ${this.ns}`);
    const old = index.spec;
    const spec: IndexSpec = { ...old, ...changes };
    const replacement = new Index(spec);
    for (const e of index.list.forward(index.list.start())) replacement.list.insert(e);
    replacement.multikey = index.multikey;
    this.indexes.set(name, replacement);
    return old;
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get idIndex(): Index {
    return this.indexes.get(ID_INDEX_NAME) as Index;
  }

  get size(): number {
    return this.records.size;
  }

  getById(id: unknown): Rec | undefined {
    return this.records.get(encodeValue(id));
  }

  private duplicateIdError(doc: Document): MongoError {
    const keyValue = { _id: doc._id };
    return new MongoError(
      ErrorCodes.DuplicateKey,
      `E11000 duplicate key error collection: ${this.ns} index: ${ID_INDEX_NAME} dup key: ${formatDocument(keyValue)}`,
      { keyPattern: { _id: 1 }, keyValue },
    );
  }

  /** Inserts a document that already has its _id; throws E11000 (and changes nothing) on a duplicate. */
  insert(doc: Document): Rec {
    const id = encodeValue(doc._id);
    if (this.records.has(id)) throw this.duplicateIdError(doc);
    const rec: Rec = { id, doc };
    const pending: Array<[Index, string[]]> = [];
    for (const index of this.indexes.values()) {
      if (index.name === ID_INDEX_NAME) continue;
      const keys = index.keysOf(doc);
      if (keys.length === 0) continue;
      const conflict = index.findConflict(keys, null);
      if (conflict) throw index.duplicateError(this.ns, doc, conflict.key);
      pending.push([index, keys]);
    }
    this.records.set(id, rec);
    this.idIndex.add(rec, [id]);
    for (const [index, keys] of pending) index.add(rec, keys);
    return rec;
  }

  /** Replaces a stored document by a new object with the same _id; throws E11000 (and changes nothing) on a duplicate. */
  replace(rec: Rec, next: Document): void {
    const changes: Array<[Index, string[], string[]]> = [];
    for (const index of this.indexes.values()) {
      if (index.name === ID_INDEX_NAME) continue;
      const before = index.keysOf(rec.doc);
      const after = index.keysOf(next);
      if (before.length === after.length && before.every((k, i) => k === after[i])) continue;
      const conflict = index.findConflict(after, rec);
      if (conflict) throw index.duplicateError(this.ns, next, conflict.key);
      changes.push([index, before, after]);
    }
    for (const [index, before, after] of changes) {
      index.delete(rec, before);
      index.add(rec, after);
    }
    rec.doc = next;
  }

  remove(rec: Rec): void {
    if (!this.records.delete(rec.id)) return;
    for (const index of this.indexes.values()) {
      const keys = index.name === ID_INDEX_NAME ? [rec.id] : index.keysOf(rec.doc);
      index.delete(rec, keys);
    }
  }

  /** Removes every document, keeping the indexes. */
  clear(): void {
    this.records.clear();
    for (const index of this.indexes.values()) index.list.clear();
  }

  /** Creates an index (building it over existing documents) or confirms an identical one exists. */
  createIndex(spec: IndexSpec): IndexCreation {
    for (const existing of this.indexes.values()) {
      const keyMatches = sameKey(existing.spec.key, spec.key);
      if (existing.name === spec.name) {
        if (!keyMatches) {
          throw new MongoError(
            ErrorCodes.IndexKeySpecsConflict,
            `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatDocument(spec)}, existing index: ${formatDocument(existing.spec)}`,
          );
        }
        if (optionsOf(existing.spec) !== optionsOf(spec)) {
          throw new MongoError(
            ErrorCodes.IndexOptionsConflict,
            `An equivalent index already exists with the same name but different options. Requested index: ${formatDocument(spec)}, existing index: ${formatDocument(existing.spec)}`,
          );
        }
        return 'exists';
      }
      if (keyMatches && encodeValue(existing.spec.partialFilterExpression ?? null) === encodeValue(spec.partialFilterExpression ?? null)
        && encodeValue(existing.spec.collation ?? null) === encodeValue(spec.collation ?? null)) {
        if (optionsOf(existing.spec) === optionsOf(spec)) {
          throw new MongoError(ErrorCodes.IndexOptionsConflict, `Index already exists with a different name: ${existing.name}`);
        }
        throw new MongoError(
          ErrorCodes.IndexOptionsConflict,
          `An existing index has the same key pattern and different options. Requested index: ${formatDocument(spec)}, existing index: ${formatDocument(existing.spec)}`,
        );
      }
    }
    const index = new Index(spec);
    for (const rec of this.records.values()) {
      const keys = index.keysOf(rec.doc);
      if (keys.length === 0) continue;
      const conflict = index.findConflict(keys, rec);
      if (conflict) throw index.duplicateError(this.ns, rec.doc, conflict.key);
      index.add(rec, keys);
    }
    this.indexes.set(spec.name, index);
    return 'created';
  }

  dropIndex(name: string): void {
    if (name === ID_INDEX_NAME) throw new MongoError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!this.indexes.delete(name)) {
      throw new MongoError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    }
  }
}
