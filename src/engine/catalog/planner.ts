// Query planning: picks an index (or the _id map, or a collection scan) for a filter and sort, and runs it.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { Collection } from './collection';
import type { Index } from './index-store';
import { complement, encodeValue, isBsonScalar, typeClassOf, TypeClass } from './keys';
import type { Entry, Rec } from './sorted-list';
import { compileFilter, isPlainObject } from './semantics';

interface Bound {
  value: unknown;
  inclusive: boolean;
}

interface FieldConditions {
  /** Equality points ($eq, plain value, $in). */
  points?: unknown[];
  lower?: Bound;
  upper?: Bound;
}

export interface PlanStats {
  stage: 'COLLSCAN' | 'IXSCAN' | 'IDHACK' | 'OR';
  indexName?: string;
  /** For OR plans: the index of each branch, in order. */
  indexNames?: string[];
  keyPattern?: Document;
  isMultiKey?: boolean;
  direction?: 'forward' | 'backward';
  keysExamined: number;
  docsExamined: number;
  nReturned: number;
  /** True when the index order provided the requested sort. */
  sortedByIndex: boolean;
}

export interface MatchResult {
  /** Matching records, in sort order when `sorted` is true, else in scan order. */
  recs: Rec[];
  sorted: boolean;
  stats: PlanStats;
}

export interface MatchOptions {
  sort?: Document;
  /** Stop after this many matches when the result order is final (0 or undefined: no limit). */
  limit?: number;
  hint?: unknown;
  predicate?: (doc: Document) => boolean;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);
const MAX_POINTS = 1000;

function isIndexableScalar(v: unknown): boolean {
  if (Array.isArray(v) || v instanceof RegExp) return false;
  if (v !== null && typeof v === 'object') {
    const t = (v as { _bsontype?: string })._bsontype;
    if (t === 'BSONRegExp' || t === 'MinKey' || t === 'MaxKey') return false;
    if (!isBsonScalar(v) && Object.keys(v).some((k) => k.startsWith('$'))) return false;
  }
  return true;
}

function addConditions(filter: Document, out: Map<string, FieldConditions>): void {
  for (const [path, cond] of Object.entries(filter)) {
    if (path === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) addConditions(sub, out);
      continue;
    }
    if (path.startsWith('$')) continue;
    const fc: FieldConditions = out.get(path) ?? {};
    if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      for (const [op, v] of Object.entries(cond)) {
        if (op === '$eq' && isIndexableScalar(v)) fc.points = [v];
        else if (op === '$in' && Array.isArray(v) && v.every(isIndexableScalar) && !fc.points) fc.points = v;
        else if (RANGE_OPS.has(op) && isIndexableScalar(v) && v !== null && v !== undefined) {
          const bound = { value: v, inclusive: op.endsWith('e') };
          if (op.startsWith('$g')) fc.lower = bound;
          else fc.upper = bound;
        }
      }
    } else if (isIndexableScalar(cond)) {
      fc.points = [cond];
    }
    if (fc.points || fc.lower || fc.upper) out.set(path, fc);
  }
}

/** The equality/range conditions on each path that an index could answer. */
export function extractConditions(filter: Document): Map<string, FieldConditions> {
  const out = new Map<string, FieldConditions>();
  addConditions(filter, out);
  return out;
}

interface Candidate {
  index: Index;
  eqCount: number;
  range?: FieldConditions;
  sortDirection?: 1 | -1;
  score: number;
}

function parseSortSpec(sort: Document | undefined): Array<[string, 1 | -1]> {
  if (!sort) return [];
  return Object.entries(sort).map(([k, v]) => [k, Number(v) < 0 ? -1 : 1]);
}

/** Direction in which scanning `index` yields `sort` order (given single-point equality on leading fields), if any. */
function sortDirection(index: Index, sortKeys: Array<[string, 1 | -1]>, conds: Map<string, FieldConditions>, eqCount: number): 1 | -1 | undefined {
  if (sortKeys.length === 0 || index.multikey) return undefined;
  for (let offset = 0; offset <= eqCount; offset++) {
    if (offset > 0) {
      const pts = conds.get(index.fields[offset - 1].path)?.points;
      if (!pts || pts.length !== 1) return undefined;
    }
    if (offset + sortKeys.length > index.fields.length) continue;
    let dir: 1 | -1 | undefined;
    let ok = true;
    for (let i = 0; i < sortKeys.length; i++) {
      const f = index.fields[offset + i];
      if (f.path !== sortKeys[i][0]) {
        ok = false;
        break;
      }
      const d = (f.dir * sortKeys[i][1]) as 1 | -1;
      if (dir === undefined) dir = d;
      else if (dir !== d) {
        ok = false;
        break;
      }
    }
    if (ok && dir !== undefined) return dir;
  }
  return undefined;
}

/**
 * Whether the query's conditions guarantee every match is covered by a partial index. Understood: equality on a
 * field the partial filter also fixes to the same value, and `$exists: true` met by a non-null equality or a range.
 */
function impliesPartialFilter(partial: Document, conds: Map<string, FieldConditions>): boolean {
  for (const [path, expected] of Object.entries(partial)) {
    const c = conds.get(path);
    if (!c) return false;
    if (isPlainObject(expected) && Object.keys(expected).some((k) => k.startsWith('$'))) {
      const ops = Object.keys(expected);
      if (ops.length !== 1 || ops[0] !== '$exists' || expected.$exists !== true) return false;
      const nonNullPoints = c.points !== undefined && c.points.every((p) => p !== null && p !== undefined);
      if (!nonNullPoints && !c.lower && !c.upper) return false;
      continue;
    }
    if (!c.points || c.points.length === 0) return false;
    const want = encodeValue(expected);
    if (!c.points.every((p) => encodeValue(p) === want)) return false;
  }
  return true;
}

function evaluate(index: Index, conds: Map<string, FieldConditions>, sortKeys: Array<[string, 1 | -1]>): Candidate | undefined {
  if (!index.maintained || index.spec.hidden === true) return undefined;
  if (index.partial && !impliesPartialFilter(index.spec.partialFilterExpression as Document, conds)) return undefined;
  let eqCount = 0;
  let points = 1;
  while (eqCount < index.fields.length) {
    const pts = conds.get(index.fields[eqCount].path)?.points;
    if (!pts || pts.length === 0 || points * pts.length > MAX_POINTS) break;
    if (index.sparse && pts.some((p) => p === null || p === undefined)) break;
    points *= pts.length;
    eqCount++;
  }
  let range: FieldConditions | undefined;
  if (eqCount < index.fields.length) {
    const c = conds.get(index.fields[eqCount].path);
    if (c && (c.lower || c.upper)) range = index.multikey && c.lower && c.upper ? { lower: c.lower } : c;
  }
  if (index.sparse && eqCount === 0 && !range) return undefined;
  const dir = sortDirection(index, sortKeys, conds, eqCount);
  if (eqCount === 0 && !range && dir === undefined) return undefined;
  let score = eqCount * 4 + (range ? 2 : 0) + (dir !== undefined ? 1 : 0);
  if (index.unique && eqCount === index.fields.length) score += 100;
  return { index, eqCount, range, sortDirection: dir, score };
}

function findHinted(coll: Collection, hint: unknown): Index | undefined {
  if (hint === undefined || hint === null) return undefined;
  if (typeof hint === 'string') {
    const idx = coll.indexes.get(hint);
    if (!idx) throw new MongoError(ErrorCodes.BadValue, 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
    return idx;
  }
  if (isPlainObject(hint)) {
    if (Object.keys(hint).length === 0) return undefined;
    if ('$natural' in hint) return undefined;
    const enc = encodeValue(hint);
    for (const idx of coll.indexes.values()) if (encodeValue(idx.spec.key) === enc) return idx;
    throw new MongoError(ErrorCodes.BadValue, 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
  }
  return undefined;
}

function encodeField(v: unknown, dir: 1 | -1): string {
  const e = encodeValue(v);
  return dir < 0 ? complement(e) : e;
}

interface ScanBounds {
  start: string;
  startExclusivePrefix?: string;
  endExclusive?: string;
  endInclusivePrefix?: string;
}

function boundsFor(prefix: string, dir: 1 | -1, range: FieldConditions | undefined): ScanBounds {
  if (!range) return { start: prefix, endInclusivePrefix: prefix };
  const { lower, upper } = range;
  const lowerType = lower ? typeClassOf(lower.value) : upper ? typeClassOf(upper.value) : TypeClass.minKey;
  const upperType = upper ? typeClassOf(upper.value) : lowerType;
  const b: ScanBounds = { start: prefix };
  if (dir > 0) {
    if (lower) {
      b.start = prefix + encodeValue(lower.value);
      if (!lower.inclusive) b.startExclusivePrefix = b.start;
    } else b.start = prefix + String.fromCharCode(lowerType);
    if (upper) {
      const e = prefix + encodeValue(upper.value);
      if (upper.inclusive) b.endInclusivePrefix = e;
      else b.endExclusive = e;
    } else b.endExclusive = prefix + String.fromCharCode(upperType + 1);
  } else {
    if (upper) {
      b.start = prefix + complement(encodeValue(upper.value));
      if (!upper.inclusive) b.startExclusivePrefix = b.start;
    } else b.start = prefix + String.fromCharCode(0xffff - upperType);
    if (lower) {
      const e = prefix + complement(encodeValue(lower.value));
      if (lower.inclusive) b.endInclusivePrefix = e;
      else b.endExclusive = e;
    } else b.endExclusive = prefix + String.fromCharCode(0xffff - lowerType + 1);
  }
  return b;
}

function* scanIndex(index: Index, bounds: ScanBounds, backward: boolean): Generator<Entry> {
  const below = (e: Entry): boolean =>
    e.k < bounds.start || (bounds.startExclusivePrefix !== undefined && e.k.startsWith(bounds.startExclusivePrefix));
  const beyond = (e: Entry): boolean => {
    if (bounds.endExclusive !== undefined) return e.k >= bounds.endExclusive;
    const y = bounds.endInclusivePrefix ?? '';
    return e.k > y && !e.k.startsWith(y);
  };
  if (!backward) {
    for (const e of index.list.forward(index.list.lowerBound(below))) {
      if (beyond(e)) return;
      yield e;
    }
  } else {
    for (const e of index.list.backward(index.list.lowerBound((x) => !beyond(x)))) {
      if (below(e)) return;
      yield e;
    }
  }
}

function prefixesFor(index: Index, conds: Map<string, FieldConditions>, eqCount: number): string[] {
  let prefixes = [''];
  for (let i = 0; i < eqCount; i++) {
    const f = index.fields[i];
    const pts = conds.get(f.path)?.points ?? [];
    const encoded = [...new Set(pts.map((p) => encodeField(p, f.dir)))];
    const next: string[] = [];
    for (const p of prefixes) for (const e of encoded) next.push(p + e);
    prefixes = next;
  }
  return [...new Set(prefixes)].sort();
}

type BranchPlan = { ids: unknown[] } | { candidate: Candidate; conds: Map<string, FieldConditions> };

/**
 * A top-level $or whose every branch can use an index (or _id) is answered by the union of those scans;
 * returns undefined when some branch would need a collection scan anyway.
 */
function planOr(
  coll: Collection,
  filter: Document,
  conds: Map<string, FieldConditions>,
  predicate: (doc: Document) => boolean,
  limit: number,
): { recs: Rec[]; stats: PlanStats } | undefined {
  const branches = filter.$or;
  if (!Array.isArray(branches) || branches.length === 0 || !branches.every(isPlainObject)) return undefined;
  const plans: BranchPlan[] = [];
  for (const branch of branches) {
    const merged = new Map(conds);
    for (const [path, c] of extractConditions(branch)) merged.set(path, c);
    const ids = merged.get('_id')?.points;
    if (ids) {
      plans.push({ ids });
      continue;
    }
    let best: Candidate | undefined;
    for (const index of coll.indexes.values()) {
      const c = evaluate(index, merged, []);
      if (c && (!best || c.score > best.score)) best = c;
    }
    if (!best) return undefined;
    plans.push({ candidate: best, conds: merged });
  }
  const seen = new Set<Rec>();
  const recs: Rec[] = [];
  const names: string[] = [];
  let keysExamined = 0;
  let docsExamined = 0;
  const visit = (rec: Rec): boolean => {
    if (seen.has(rec)) return true;
    seen.add(rec);
    docsExamined++;
    if (predicate(rec.doc)) recs.push(rec);
    return recs.length < limit;
  };
  outer: for (const plan of plans) {
    if ('ids' in plan) {
      names.push('_id_');
      for (const id of plan.ids) {
        keysExamined++;
        const rec = coll.records.get(encodeValue(id));
        if (rec && !visit(rec)) break outer;
      }
      continue;
    }
    const { index, eqCount, range } = plan.candidate;
    names.push(index.name);
    const rangeDir = eqCount < index.fields.length ? index.fields[eqCount].dir : 1;
    for (const prefix of prefixesFor(index, plan.conds, eqCount)) {
      for (const e of scanIndex(index, boundsFor(prefix, rangeDir, range), false)) {
        keysExamined++;
        if (!visit(e.r)) break outer;
      }
    }
  }
  return {
    recs,
    stats: { stage: 'OR', indexNames: names, keysExamined, docsExamined, nReturned: recs.length, sortedByIndex: false },
  };
}

/** Finds the records matching a filter, using the best index available. */
export function findMatches(coll: Collection, filter: Document, options: MatchOptions = {}): MatchResult {
  const predicate = options.predicate ?? compileFilter(filter ?? {});
  const conds = extractConditions(filter ?? {});
  const sortKeys = parseSortSpec(options.sort);
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
  const hinted = findHinted(coll, options.hint);

  const idPoints = conds.get('_id')?.points;
  if (idPoints && !hinted) {
    const recs: Rec[] = [];
    const seen = new Set<string>();
    let docsExamined = 0;
    for (const p of idPoints) {
      const key = encodeValue(p);
      if (seen.has(key)) continue;
      seen.add(key);
      const rec = coll.records.get(key);
      if (!rec) continue;
      docsExamined++;
      if (predicate(rec.doc)) recs.push(rec);
    }
    const sorted = recs.length <= 1;
    return {
      recs,
      sorted,
      stats: { stage: 'IDHACK', keysExamined: seen.size, docsExamined, nReturned: recs.length, sortedByIndex: sorted && sortKeys.length > 0 },
    };
  }

  let best: Candidate | undefined;
  if (hinted) {
    best = evaluate(hinted, conds, sortKeys) ?? { index: hinted, eqCount: 0, score: 0 };
  } else {
    for (const index of coll.indexes.values()) {
      const c = evaluate(index, conds, sortKeys);
      if (c && (!best || c.score > best.score)) best = c;
    }
  }

  if (!best && !hinted) {
    const union = planOr(coll, filter, conds, predicate, sortKeys.length === 0 ? limit : Infinity);
    if (union) return { ...union, sorted: sortKeys.length === 0 };
  }

  if (!best) {
    const recs: Rec[] = [];
    let docsExamined = 0;
    const early = sortKeys.length === 0 ? limit : Infinity;
    for (const rec of coll.records.values()) {
      docsExamined++;
      if (predicate(rec.doc)) {
        recs.push(rec);
        if (recs.length >= early) break;
      }
    }
    return {
      recs,
      sorted: sortKeys.length === 0,
      stats: { stage: 'COLLSCAN', keysExamined: 0, docsExamined, nReturned: recs.length, sortedByIndex: false },
    };
  }

  const { index, eqCount, range } = best;
  const prefixes = prefixesFor(index, conds, eqCount);
  const rangeDir = eqCount < index.fields.length ? index.fields[eqCount].dir : 1;
  const ordered = best.sortDirection !== undefined && prefixes.length === 1;
  const backward = ordered && best.sortDirection === -1;
  const dedupe = index.multikey || prefixes.length > 1;
  const seen = new Set<Rec>();
  const recs: Rec[] = [];
  let keysExamined = 0;
  let docsExamined = 0;
  const early = ordered || sortKeys.length === 0 ? limit : Infinity;
  outer: for (const prefix of backward ? [...prefixes].reverse() : prefixes) {
    for (const e of scanIndex(index, boundsFor(prefix, rangeDir, range), backward)) {
      keysExamined++;
      if (dedupe) {
        if (seen.has(e.r)) continue;
        seen.add(e.r);
      }
      docsExamined++;
      if (predicate(e.r.doc)) {
        recs.push(e.r);
        if (recs.length >= early) break outer;
      }
    }
  }
  return {
    recs,
    sorted: ordered || sortKeys.length === 0,
    stats: {
      stage: 'IXSCAN',
      indexName: index.name,
      keyPattern: index.spec.key,
      isMultiKey: index.multikey,
      direction: backward ? 'backward' : 'forward',
      keysExamined,
      docsExamined,
      nReturned: recs.length,
      sortedByIndex: ordered && sortKeys.length > 0,
    },
  };
}
