// One index of a collection: its spec, the keys it derives from documents and the sorted entries it keeps.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { complement, encodeKeyValue, keyValuesAt, EMPTY_ARRAY_MARK, isBsonScalar } from './keys';
import { SortedList, type Rec } from './sorted-list';
import { compileFilter } from './semantics';
import { formatDocument } from './format';

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
}

export interface IndexField {
  path: string;
  segments: string[];
  /** 1 ascending, -1 descending. */
  dir: 1 | -1;
}

const SPECIAL_KINDS = new Set(['text', '2d', '2dsphere', 'geoHaystack']);

function hasPath(doc: unknown, segments: string[], from = 0): boolean {
  if (from === segments.length) return doc !== undefined;
  if (doc === null || typeof doc !== 'object' || isBsonScalar(doc)) return false;
  if (Array.isArray(doc)) {
    const seg = segments[from];
    if (/^\d+$/.test(seg) && Number(seg) < doc.length) return hasPath(doc[Number(seg)], segments, from + 1);
    return doc.some((el) => hasPath(el, segments, from));
  }
  return hasPath((doc as Document)[segments[from]], segments, from + 1);
}

export class Index {
  readonly name: string;
  readonly spec: IndexSpec;
  readonly fields: IndexField[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partial?: (doc: Document) => boolean;
  /** False for text and geo indexes: their spec is kept but they hold no entries and answer no queries. */
  readonly maintained: boolean;
  readonly list = new SortedList();
  multikey = false;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.unique = spec.unique === true;
    this.sparse = spec.sparse === true;
    this.fields = Object.entries(spec.key).map(([path, dir]) => ({
      path,
      segments: path.split('.'),
      dir: typeof dir === 'number' && dir < 0 ? -1 : 1,
    }));
    this.maintained = !Object.values(spec.key).some((v) => typeof v === 'string' && SPECIAL_KINDS.has(v));
    if (spec.partialFilterExpression) this.partial = compileFilter(spec.partialFilterExpression as Document);
  }

  get expireAfterSeconds(): number | undefined {
    const v = this.spec.expireAfterSeconds;
    return typeof v === 'number' ? v : undefined;
  }

  /** Whether the document has an entry in this index at all (sparse and partial indexes skip some). */
  covers(doc: Document): boolean {
    if (!this.maintained) return false;
    if (this.sparse && !this.fields.some((f) => hasPath(doc, f.segments))) return false;
    if (this.partial && !this.partial(doc)) return false;
    return true;
  }

  /** The per-field value tuples of a document (multikey: the product over array elements). */
  private tuples(doc: Document): unknown[][] {
    let tuples: unknown[][] = [[]];
    let arrays: string[] = [];
    for (const field of this.fields) {
      const values = keyValuesAt(doc, field.segments);
      if (values.length > 1) arrays.push(field.path);
      if (values.length > 1 || values[0] === EMPTY_ARRAY_MARK) this.multikey = true;
      const unique = values.length > 1 ? dedupe(values) : values;
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of unique) next.push([...t, v]);
      tuples = next;
    }
    if (arrays.length > 1) {
      arrays = arrays.reverse();
      throw new MongoError(ErrorCodes.CannotIndexParallelArrays, `cannot index parallel arrays [${arrays[0]}] [${arrays[1]}]`);
    }
    return tuples;
  }

  private encodeTuple(tuple: unknown[]): string {
    let k = '';
    for (let i = 0; i < tuple.length; i++) {
      const e = encodeKeyValue(tuple[i]);
      k += this.fields[i].dir < 0 ? complement(e) : e;
    }
    return k;
  }

  /** The encoded keys of a document in this index; empty when the index does not cover it. */
  keysOf(doc: Document): string[] {
    if (!this.covers(doc)) return [];
    if (this.fields.length === 1) {
      const f = this.fields[0];
      const values = keyValuesAt(doc, f.segments);
      if (values.length === 1) {
        if (values[0] === EMPTY_ARRAY_MARK) this.multikey = true;
        const e = encodeKeyValue(values[0]);
        return [f.dir < 0 ? complement(e) : e];
      }
      this.multikey = true;
    }
    const keys = this.tuples(doc).map((t) => this.encodeTuple(t));
    return keys.length > 1 ? [...new Set(keys)] : keys;
  }

  add(rec: Rec, keys: string[]): void {
    for (const k of keys) this.list.insert({ k, r: rec });
  }

  delete(rec: Rec, keys: string[]): void {
    for (const k of keys) this.list.remove({ k, r: rec });
  }

  /** Another record already holding one of these keys (unique indexes only). */
  findConflict(keys: string[], self: Rec | null): { key: string; rec: Rec } | undefined {
    if (!this.unique) return undefined;
    for (const k of keys) {
      const rec = this.list.otherWithKey(k, self);
      if (rec) return { key: k, rec };
    }
    return undefined;
  }

  /** The E11000 error for a document whose key `key` is already taken. */
  duplicateError(ns: string, doc: Document, key: string): MongoError {
    const tuple = this.tuples(doc).find((t) => this.encodeTuple(t) === key) ?? this.fields.map(() => null);
    const keyValue: Document = {};
    this.fields.forEach((f, i) => {
      const v = tuple[i];
      keyValue[f.path] = v === EMPTY_ARRAY_MARK ? undefined : v ?? null;
    });
    return new MongoError(
      ErrorCodes.DuplicateKey,
      `E11000 duplicate key error collection: ${ns} index: ${this.name} dup key: ${formatDocument(keyValue)}`,
      { keyPattern: { ...this.spec.key }, keyValue },
    );
  }
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const v of values) {
    const e = encodeKeyValue(v);
    if (!seen.has(e)) {
      seen.add(e);
      out.push(v);
    }
  }
  return out;
}
