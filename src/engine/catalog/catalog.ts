// The catalog: databases and their collections, plus the journal records that describe every change to them.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { Collection } from './collection';
import type { IndexSpec } from './index-store';

/** One logical change, as written to the journal and replayed at startup. */
export type JournalRecord =
  | { t: 'insert'; ns: string; doc: Document }
  | { t: 'update'; ns: string; doc: Document }
  | { t: 'delete'; ns: string; id: unknown }
  | { t: 'create'; ns: string; options: Document }
  | { t: 'drop'; ns: string }
  | { t: 'createIndex'; ns: string; spec: IndexSpec }
  | { t: 'dropIndex'; ns: string; name: string }
  | { t: 'dropDatabase'; db: string }
  | { t: 'collMod'; ns: string; options: Document }
  | { t: 'rename'; from: string; to: string }
  | { t: 'modifyIndex'; ns: string; name: string; changes: Document };

export function splitNs(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  if (dot <= 0) throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

export function validateDbName(db: string): void {
  if (typeof db !== 'string' || db.length === 0 || db.length > 63 || /[/\\. "$\u0000]/.test(db)) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid database name: '${String(db)}'`);
  }
}

export function validateCollectionName(db: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${db}.${String(name)}'`);
  }
  if (name.includes('$') || name.includes('\u0000') || name.startsWith('.') || name.startsWith('system.')) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${name}`);
  }
  return name;
}

export class Catalog {
  readonly databases = new Map<string, Map<string, Collection>>();

  getCollection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])];
  }

  allCollections(): Collection[] {
    const out: Collection[] = [];
    for (const colls of this.databases.values()) out.push(...colls.values());
    return out;
  }

  /** Creates a collection; throws NamespaceExists when it is already there. */
  createCollection(db: string, name: string, options: Document = {}): Collection {
    validateDbName(db);
    validateCollectionName(db, name);
    let colls = this.databases.get(db);
    if (!colls) {
      colls = new Map();
      this.databases.set(db, colls);
    }
    if (colls.has(name)) throw new MongoError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    const coll = new Collection(db, name, options);
    colls.set(name, coll);
    return coll;
  }

  dropCollection(db: string, name: string): boolean {
    const colls = this.databases.get(db);
    if (!colls || !colls.delete(name)) return false;
    if (colls.size === 0) this.databases.delete(db);
    return true;
  }

  /** Puts a ready collection in place of whatever had its name (used by $out). */
  replaceCollection(coll: Collection): void {
    let colls = this.databases.get(coll.db);
    if (!colls) {
      colls = new Map();
      this.databases.set(coll.db, colls);
    }
    colls.set(coll.name, coll);
  }

  /** Moves a collection (documents and indexes) to a new namespace; the target must not exist. */
  renameCollection(from: string, to: string): void {
    const src = splitNs(from);
    const dst = splitNs(to);
    validateDbName(dst.db);
    validateCollectionName(dst.db, dst.coll);
    const coll = this.getCollection(src.db, src.coll);
    if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `Source collection ${from} does not exist`);
    if (this.getCollection(dst.db, dst.coll)) throw new MongoError(ErrorCodes.NamespaceExists, `target namespace exists`);
    this.dropCollection(src.db, src.coll);
    coll.db = dst.db;
    coll.name = dst.coll;
    this.replaceCollection(coll);
  }

  dropDatabase(db: string): boolean {
    return this.databases.delete(db);
  }

  /** Applies one journal record (startup replay); records were valid when written. */
  apply(record: JournalRecord): void {
    if (record.t === 'dropDatabase') {
      this.dropDatabase(record.db);
      return;
    }
    if (record.t === 'rename') {
      const to = splitNs(record.to);
      this.dropCollection(to.db, to.coll);
      this.renameCollection(record.from, record.to);
      return;
    }
    const { db, coll: name } = splitNs(record.ns);
    if (record.t === 'drop') {
      this.dropCollection(db, name);
      return;
    }
    if (record.t === 'create') {
      if (!this.getCollection(db, name)) this.createCollection(db, name, record.options);
      return;
    }
    const coll = this.getCollection(db, name) ?? this.createCollection(db, name);
    switch (record.t) {
      case 'insert': {
        const existing = coll.getById(record.doc._id);
        if (existing) coll.replace(existing, record.doc);
        else coll.insert(record.doc);
        break;
      }
      case 'update': {
        const existing = coll.getById(record.doc._id);
        if (existing) coll.replace(existing, record.doc);
        else coll.insert(record.doc);
        break;
      }
      case 'delete': {
        const existing = coll.getById(record.id);
        if (existing) coll.remove(existing);
        break;
      }
      case 'createIndex':
        coll.createIndex(record.spec);
        break;
      case 'dropIndex':
        if (coll.indexes.has(record.name)) coll.dropIndex(record.name);
        break;
      case 'collMod':
        coll.options = record.options;
        break;
      case 'modifyIndex':
        if (coll.indexes.has(record.name)) coll.modifyIndex(record.name, record.changes);
        break;
    }
  }

  /** The whole state as records, for snapshots. */
  *snapshot(): Generator<JournalRecord> {
    for (const coll of this.allCollections()) {
      yield { t: 'create', ns: coll.ns, options: coll.options };
      for (const index of coll.indexes.values()) {
        if (index.name !== '_id_') yield { t: 'createIndex', ns: coll.ns, spec: index.spec };
      }
      for (const rec of coll.records.values()) yield { t: 'insert', ns: coll.ns, doc: rec.doc };
    }
  }
}
