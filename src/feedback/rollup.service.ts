// Daily roll-ups: applied atomically with each accepted vote, recomputed from raw feedback when in doubt, read by dashboards.
import { Types } from 'mongoose';
import type { Scope } from '../shared/scope';
import { scopeFilter } from '../shared/scope';
import { ELEMENTS, type FeedbackRecord } from './feedback.types';
import type { Histogram, RollupRecord } from './rollup.model';
import {
  aggregateCounted,
  findRollup,
  findRollups,
  findStalePending,
  hasRecentPending,
  incrementRollups,
  insertRollup,
  markPendingApplied,
  replaceRollupIfUnchanged,
  type CountedVote,
  type RollupIncrement,
  type CounterDay,
} from './rollup.repository';

/** The fields of a feedback that decide its roll-up. */
export type RollupInput = Pick<
  FeedbackRecord,
  'counterId' | 'officeId' | 'unitCode' | 'unitPath' | 'localDay' | 'quick' | 'elements' | 'trips' | 'wentWell' | 'wentBadly' | 'channel'
>;

/** The counted content of a roll-up, without its identity and bookkeeping. */
export type RollupCounts = Pick<RollupRecord, 'count' | 'quick' | 'elements' | 'trips' | 'wentWell' | 'wentBadly' | 'channels'>;

const HISTOGRAM_KEY = /^[A-Za-z0-9_]{1,40}$/;
const MAX_ATTEMPTS = 5;

/** The histogram bucket of one element answer: '1'..'5', 'na' for "Không áp dụng", null when unanswered or invalid. */
function elementBucket(value: number | null | undefined): string | null {
  if (value === null) return 'na';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5) return String(value);
  return null;
}

function chipKeys(chips: readonly string[] | undefined): string[] {
  return [...new Set(chips ?? [])].filter((chip) => HISTOGRAM_KEY.test(chip));
}

/** The histogram buckets one vote adds to, as dotted roll-up paths. */
function votePaths(vote: CountedVote): string[] {
  const paths = ['count'];
  if (HISTOGRAM_KEY.test(vote.quick)) paths.push(`quick.${vote.quick}`);
  if (HISTOGRAM_KEY.test(vote.channel)) paths.push(`channels.${vote.channel}`);
  for (const element of ELEMENTS) {
    const bucket = elementBucket(vote.elements?.[element]);
    if (bucket) paths.push(`elements.${element}.${bucket}`);
  }
  if (vote.trips === 1 || vote.trips === 2 || vote.trips === 3) paths.push(`trips.${vote.trips}`);
  for (const chip of chipKeys(vote.wentWell)) paths.push(`wentWell.${chip}`);
  for (const chip of chipKeys(vote.wentBadly)) paths.push(`wentBadly.${chip}`);
  return paths;
}

/** One counted vote entering (+1) or leaving (-1) its counter-day roll-up. */
export interface RollupChange {
  vote: RollupInput;
  sign: 1 | -1;
}

/**
 * Applies vote changes to the roll-ups in one write: the changes of each counter-day summed into a single atomic
 * upsert (with its version bumped); a counter-day whose changes cancel out is not written.
 */
export async function applyVotesToRollups(changes: readonly RollupChange[]): Promise<void> {
  const increments = new Map<string, RollupIncrement>();
  for (const { vote, sign } of changes) {
    const key = `${String(vote.counterId)}|${vote.localDay}`;
    let increment = increments.get(key);
    if (!increment) {
      increment = {
        key: { counterId: vote.counterId, day: vote.localDay },
        meta: { officeId: vote.officeId, unitCode: vote.unitCode, unitPath: vote.unitPath },
        inc: {},
      };
      increments.set(key, increment);
    }
    for (const path of votePaths(vote)) increment.inc[path] = (increment.inc[path] ?? 0) + sign;
  }
  const writes = [...increments.values()]
    .map((increment) => ({ ...increment, inc: Object.fromEntries(Object.entries(increment.inc).filter(([, amount]) => amount !== 0)) }))
    .filter((increment) => Object.keys(increment.inc).length > 0)
    .map((increment) => ({ ...increment, inc: { version: 1, ...increment.inc } }));
  await incrementRollups(writes);
}

/** Adds (+1) or removes (-1) one counted vote in its counter-day roll-up with a single atomic upsert. */
export async function applyVoteToRollups(feedback: RollupInput, sign: 1 | -1): Promise<void> {
  await applyVotesToRollups([{ vote: feedback, sign }]);
}

export function emptyCounts(): RollupCounts {
  return { count: 0, quick: {}, elements: {}, trips: {}, wentWell: {}, wentBadly: {}, channels: {} };
}

function addTo(histogram: Histogram, key: string, amount: number): void {
  histogram[key] = (histogram[key] ?? 0) + amount;
}

/** Folds counted votes into roll-up counts (the recomputation side of applyVoteToRollups). */
export function foldVotes(votes: readonly CountedVote[]): RollupCounts {
  const counts = emptyCounts();
  for (const vote of votes) {
    for (const path of votePaths(vote)) {
      const parts = path.split('.');
      if (parts[0] === 'count') counts.count += 1;
      else if (parts[0] === 'elements') addTo((counts.elements[parts[1]] ??= {}), parts[2], 1);
      else addTo(counts[parts[0] as 'quick' | 'trips' | 'wentWell' | 'wentBadly' | 'channels'], parts[1], 1);
    }
  }
  return counts;
}

/** Adds the counts of `from` into `into` (for period and group totals). */
export function mergeCounts(into: RollupCounts, from: RollupCounts): RollupCounts {
  into.count += from.count ?? 0;
  for (const field of ['quick', 'trips', 'wentWell', 'wentBadly', 'channels'] as const) {
    for (const [key, value] of Object.entries(from[field] ?? {})) addTo(into[field], key, value);
  }
  for (const [element, histogram] of Object.entries(from.elements ?? {})) {
    for (const [key, value] of Object.entries(histogram)) addTo((into.elements[element] ??= {}), key, value);
  }
  return into;
}

/** Every non-zero figure of a roll-up as 'field.key' → value; zero buckets and absent buckets are the same. */
export function flattenCounts(counts: RollupCounts | null): Map<string, number> {
  const flat = new Map<string, number>();
  if (!counts) return flat;
  const put = (path: string, value: number) => {
    if (value !== 0) flat.set(path, value);
  };
  put('count', counts.count ?? 0);
  for (const field of ['quick', 'trips', 'wentWell', 'wentBadly', 'channels'] as const) {
    for (const [key, value] of Object.entries(counts[field] ?? {})) put(`${field}.${key}`, value);
  }
  for (const [element, histogram] of Object.entries(counts.elements ?? {})) {
    for (const [key, value] of Object.entries(histogram)) put(`elements.${element}.${key}`, value);
  }
  return flat;
}

export interface RollupDifference {
  counterId: string;
  day: string;
  field: string;
  stored: number;
  recomputed: number;
}

/** Field-by-field differences between a stored and a recomputed roll-up of one counter-day. */
export function diffCounts(key: CounterDay, stored: RollupCounts | null, recomputed: RollupCounts | null): RollupDifference[] {
  const a = flattenCounts(stored);
  const b = flattenCounts(recomputed);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields
    .filter((field) => (a.get(field) ?? 0) !== (b.get(field) ?? 0))
    .map((field) => ({ counterId: String(key.counterId), day: key.day, field, stored: a.get(field) ?? 0, recomputed: b.get(field) ?? 0 }));
}

export interface RecomputedRollup extends CounterDay, RollupCounts {
  officeId: Types.ObjectId;
  unitCode: string;
  unitPath: string[];
}

/** Recomputes roll-ups from raw feedback (counted only), optionally for one counter and/or one day; writes nothing. */
export async function recomputeRollups(filter: { counterId?: Types.ObjectId | string; day?: string } = {}): Promise<RecomputedRollup[]> {
  const counterId = typeof filter.counterId === 'string' ? new Types.ObjectId(filter.counterId) : filter.counterId;
  const groups = await aggregateCounted({ counterId, day: filter.day });
  return groups.map((group) => ({
    counterId: group.counterId,
    day: group.day,
    officeId: group.officeId,
    unitCode: group.unitCode,
    unitPath: group.unitPath,
    ...foldVotes(group.votes),
  }));
}

function keyOf(key: CounterDay): string {
  return `${String(key.counterId)}|${key.day}`;
}

/**
 * Rewrites one counter-day roll-up from raw feedback. Gives up (false) while a recent 'pending' vote may still be
 * applying, and retries when an increment lands between the read and the write (the version guard).
 */
export async function rewriteCounterDay(key: CounterDay, pendingCutoff: Date): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const stored = await findRollup(key);
    const [recomputed] = await recomputeRollups({ counterId: key.counterId, day: key.day });
    if (await hasRecentPending(key, pendingCutoff)) return false;
    const counts = recomputed ? pickCounts(recomputed) : emptyCounts();
    if (stored) {
      const meta = recomputed ?? stored;
      const next = { counterId: key.counterId, day: key.day, officeId: meta.officeId, unitCode: meta.unitCode, unitPath: meta.unitPath };
      if (await replaceRollupIfUnchanged(stored, { ...next, ...counts, version: stored.version + 1 })) return true;
    } else if (!recomputed) {
      return true;
    } else {
      const next = { counterId: key.counterId, day: key.day, officeId: recomputed.officeId, unitCode: recomputed.unitCode, unitPath: recomputed.unitPath };
      if (await insertRollup({ ...next, ...counts, version: 1 })) return true;
    }
  }
  return false;
}

function pickCounts(source: RollupCounts): RollupCounts {
  const { count, quick, elements, trips, wentWell, wentBadly, channels } = source;
  return { count, quick, elements, trips, wentWell, wentBadly, channels };
}

export interface ReconcileResult {
  counterDays: number;
  reconciled: number;
  deferred: number;
  feedbackMarked: number;
}

/**
 * Repairs roll-ups after a crash between storing a vote and applying it: every counter-day with feedback still
 * 'pending' for longer than `olderThanMs` is recomputed from raw feedback, then its feedback is marked 'applied'.
 * Exactly once by recomputation: the result does not depend on whether the lost increment happened.
 */
export async function reconcilePendingRollups(olderThanMs: number): Promise<ReconcileResult> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const counterDays = await findStalePending(cutoff);
  const result: ReconcileResult = { counterDays: counterDays.length, reconciled: 0, deferred: 0, feedbackMarked: 0 };
  for (const key of counterDays) {
    if (await rewriteCounterDay(key, cutoff)) {
      result.reconciled += 1;
      result.feedbackMarked += await markPendingApplied(key, cutoff);
    } else {
      result.deferred += 1;
    }
  }
  return result;
}

export interface RebuildResult {
  compared: number;
  differences: RollupDifference[];
  fixed: number;
  deferred: number;
  reconcile: ReconcileResult;
}

/**
 * Recomputes every roll-up from raw feedback and lists the differences with the stored ones; with `fix`, then
 * reconciles interrupted ('pending') votes and rewrites every counter-day that differed.
 */
export async function rebuildRollups(options: { fix: boolean; pendingOlderThanMs: number }): Promise<RebuildResult> {
  const recomputed = new Map((await recomputeRollups()).map((rollup) => [keyOf(rollup), rollup]));
  const stored = new Map((await findRollups({})).map((rollup) => [keyOf(rollup), rollup]));
  const keys = new Set([...recomputed.keys(), ...stored.keys()]);
  const differences: RollupDifference[] = [];
  const toFix: CounterDay[] = [];
  for (const id of keys) {
    const a = stored.get(id) ?? null;
    const b = recomputed.get(id) ?? null;
    const key = (a ?? b) as CounterDay;
    const found = diffCounts(key, a, b);
    if (found.length > 0) {
      differences.push(...found);
      toFix.push({ counterId: key.counterId, day: key.day });
    }
  }
  const result: RebuildResult = {
    compared: keys.size,
    differences,
    fixed: 0,
    deferred: 0,
    reconcile: { counterDays: 0, reconciled: 0, deferred: 0, feedbackMarked: 0 },
  };
  if (!options.fix) return result;
  result.reconcile = await reconcilePendingRollups(options.pendingOlderThanMs);
  const cutoff = new Date(Date.now() - options.pendingOlderThanMs);
  for (const key of toFix) {
    if (await rewriteCounterDay(key, cutoff)) result.fixed += 1;
    else result.deferred += 1;
  }
  return result;
}

export type RollupGroupBy = 'none' | 'counter' | 'office' | 'unit' | 'child' | 'day';

export interface RollupQuery {
  scope: Scope;
  /** Restrict to one unit and its descendants (a unit code on the path). */
  unit?: string;
  from: string;
  to: string;
  groupBy: RollupGroupBy;
}

export interface RollupGroup extends RollupCounts {
  key: string;
  days: number;
}

/** Summed roll-ups in the caller's scope for days from..to (inclusive), grouped as asked; never reads raw feedback. */
export async function rollupsFor(query: RollupQuery): Promise<RollupGroup[]> {
  const filter: Record<string, unknown> = { day: { $gte: query.from, $lte: query.to }, ...scopeFilter(query.scope, 'unitPath') };
  if (query.unit) {
    filter.$and = [{ unitPath: query.unit }, ...(filter.unitPath ? [{ unitPath: filter.unitPath }] : [])];
    delete filter.unitPath;
  }
  const rollups = await findRollups(filter);
  const groups = new Map<string, RollupGroup & { seenDays: Set<string> }>();
  for (const rollup of rollups) {
    const key = groupKey(rollup, query);
    if (key === null) continue;
    let group = groups.get(key);
    if (!group) {
      group = { key, days: 0, seenDays: new Set(), ...emptyCounts() };
      groups.set(key, group);
    }
    mergeCounts(group, rollup);
    group.seenDays.add(rollup.day);
  }
  return [...groups.values()]
    .map(({ seenDays, ...group }) => ({ ...group, days: seenDays.size }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function groupKey(rollup: RollupRecord, query: RollupQuery): string | null {
  switch (query.groupBy) {
    case 'none':
      return 'all';
    case 'counter':
      return String(rollup.counterId);
    case 'office':
      return String(rollup.officeId);
    case 'unit':
      return rollup.unitCode;
    case 'day':
      return rollup.day;
    case 'child': {
      // The unit's child on the path; a roll-up of the unit itself groups under the unit. Without a unit: the root's children.
      const at = query.unit ? rollup.unitPath.indexOf(query.unit) : 0;
      if (at < 0) return null;
      return rollup.unitPath[at + 1] ?? rollup.unitPath[at] ?? null;
    }
  }
}
