// Demo mode: 90 days of synthetic, deterministic feedback across the demo counters, with roll-ups built by recomputation.
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Collection, Document } from 'mongodb';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { ALL_UNITS } from '../shared/scope';
import { findCounters, type Counter } from '../units';
import { ELEMENTS, WENT_BADLY, WENT_WELL, isCounted, type Channel, type FeedbackRecord, type QuickVote, type Trips } from './feedback.types';
import { FeedbackModel, type FeedbackDocument } from './feedback.model';
import { RollupModel, type RollupRecord } from './rollup.model';
import { findRollups } from './rollup.repository';
import { foldVotes, rebuildRollups, rewriteCounterDay } from './rollup.service';

export interface DemoFeedbackDeps {
  config: Config;
  logger: Logger;
}

export interface DemoFeedbackOptions {
  days?: number;
  /** The last local day seeded (default: yesterday in Asia/Ho_Chi_Minh). */
  until?: string;
  /** Mean votes per counter on a weekday. */
  weekdayMean?: number;
}

export interface DemoFeedbackResult {
  skipped: boolean;
  feedback: number;
  spam: number;
  replaced: number;
  rollups: number;
  ms: number;
}

/** '/' is outside the API's idempotency-key alphabet, so no client key can look like a demo one. */
const DEMO_KEY_PREFIX = 'demo/';
const BATCH = 2000;
/** Mean votes per counter on an ordinary weekday (a commune centre serves a few dozen dossiers per counter a day). */
const DEFAULT_WEEKDAY_MEAN = 9;
const VN_OFFSET_MS = 7 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

const EXEMPLARY = new Set(['09784', '09955']);
const LAGGING = new Set(['09619', '09661', '09664', '09634', '09676', '09694', '09700', '09706']);
/** Public holidays in the demo window (DESIGN §3), no counter open. Saturday 22/8/2026 was a working day. */
const HOLIDAYS = new Set(['2026-08-31', '2026-09-01', '2026-09-02', '2026-04-27', '2026-04-30', '2026-05-01']);
const WORKING_SATURDAYS = new Set(['2026-08-22']);

const COMMENTS_GOOD = ['Cán bộ hướng dẫn tận tình, cảm ơn.', 'Làm thủ tục nhanh, không phải chờ lâu.', 'Rất hài lòng với thái độ phục vụ.'];
const COMMENTS_BAD = [
  'Phải chờ hơn một tiếng mới đến lượt.',
  'Hướng dẫn chưa rõ, phải đi lại lần hai để bổ sung giấy tờ.',
  'Hẹn trả kết quả nhưng đến nơi chưa có.',
];

/** Deterministic PRNG (mulberry32): the same seed gives the same demo data on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function pickSome<T>(random: () => number, items: readonly T[], max: number): T[] {
  const chosen = new Set<T>();
  const n = 1 + Math.floor(random() * max);
  while (chosen.size < n) chosen.add(pick(random, items));
  return [...chosen];
}

function localToday(now: Date): string {
  return new Date(now.getTime() + VN_OFFSET_MS).toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Share of satisfied votes (Hài lòng + Rất hài lòng) for a commune: the inspection's picture of the four former districts. */
function communeSatisfaction(unitCode: string): number {
  const random = prng(seedOf(`rate:${unitCode}`));
  if (EXEMPLARY.has(unitCode)) return 0.92 + random() * 0.04;
  if (LAGGING.has(unitCode)) return 0.68 + random() * 0.07;
  return 0.77 + random() * 0.08;
}

/** Votes expected on a local day: weekdays busy (Monday busiest), Saturday morning light, Sunday and holidays closed. */
function dayMean(day: string, weekdayMean: number): { mean: number; closeAtMinutes: number } {
  if (HOLIDAYS.has(day)) return { mean: 0, closeAtMinutes: 0 };
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  if (weekday === 0) return { mean: 0, closeAtMinutes: 0 };
  if (weekday === 6 && !WORKING_SATURDAYS.has(day)) return { mean: weekdayMean * 0.3, closeAtMinutes: 11 * 60 + 30 };
  const rhythm = [0, 1.25, 1.05, 1, 0.95, 0.85, 1][weekday];
  return { mean: weekdayMean * rhythm, closeAtMinutes: 17 * 60 };
}

/** A minute of local office hours (7:30–11:30, 13:30–close), mornings busier. */
function officeMinute(random: () => number, closeAtMinutes: number): number {
  const morning = closeAtMinutes <= 12 * 60 || random() < 0.6;
  if (morning) return 7 * 60 + 30 + Math.floor(random() * 240);
  return 13 * 60 + 30 + Math.floor(random() * (closeAtMinutes - (13 * 60 + 30)));
}

/** A deterministic ObjectId whose timestamp is the vote's time. */
function demoId(createdAt: Date, random: () => number): Types.ObjectId {
  return new Types.ObjectId(Math.floor(createdAt.getTime() / 1000).toString(16).padStart(8, '0') + hex(random, 8));
}

function hex(random: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i += 1) out += Math.floor(random() * 256).toString(16).padStart(2, '0');
  return out;
}

type DemoFeedback = FeedbackDocument;

function quickVote(random: () => number, satisfaction: number): QuickVote {
  const r = random();
  if (r >= satisfaction) return 'dissatisfied';
  return r < satisfaction * 0.42 ? 'very_satisfied' : 'satisfied';
}

function details(random: () => number, quick: QuickVote): Pick<FeedbackRecord, 'elements' | 'trips' | 'wentWell' | 'wentBadly' | 'comment'> {
  const centre = quick === 'very_satisfied' ? 4.6 : quick === 'satisfied' ? 4 : 2.2;
  const elements: FeedbackRecord['elements'] = {};
  for (const element of ELEMENTS) {
    const notApplicable = element === 'feedbackHandling' ? 0.5 : 0.08;
    if (random() < notApplicable) elements[element] = null;
    else elements[element] = Math.min(5, Math.max(1, Math.round(centre + (random() - 0.5) * 2.2)));
  }
  const trips: Trips = quick === 'dissatisfied' ? (random() < 0.5 ? 2 : 3) : random() < 0.88 ? 1 : 2;
  const good = quick !== 'dissatisfied';
  const comment = random() < 0.3 ? pick(random, good ? COMMENTS_GOOD : COMMENTS_BAD) : undefined;
  return {
    elements,
    trips,
    wentWell: good ? pickSome(random, WENT_WELL, 2) : [],
    wentBadly: good ? [] : pickSome(random, WENT_BADLY, 2),
    ...(comment ? { comment } : {}),
  };
}

/** Every demo vote of one counter over the window; deterministic for a given counter key and window. */
function counterFeedback(counter: Counter, counterKey: string, kiosk: boolean, days: string[], weekdayMean: number, now: Date): DemoFeedback[] {
  const out: DemoFeedback[] = [];
  const base = communeSatisfaction(counter.unitCode);
  const counterShift = (prng(seedOf(`counter:${counterKey}`))() - 0.5) * 0.06;
  days.forEach((day, index) => {
    const random = prng(seedOf(`day:${counterKey}:${day}`));
    const { mean, closeAtMinutes } = dayMean(day, weekdayMean);
    if (mean === 0) return;
    // A slow improvement over the quarter, as the commune acts on the feedback.
    const satisfaction = Math.min(0.98, base + counterShift + (index / days.length - 0.5) * 0.04);
    const n = poisson(random, mean);
    for (let i = 0; i < n; i += 1) {
      const minute = officeMinute(random, closeAtMinutes);
      const createdAt = new Date(Date.parse(`${day}T00:00:00Z`) - VN_OFFSET_MS + minute * 60000 + Math.floor(random() * 60000));
      if (createdAt > now) continue;
      const quick = quickVote(random, satisfaction);
      const detailed = random() < (quick === 'dissatisfied' ? 0.2 : 0.03);
      const channel: Channel = kiosk && random() < 0.3 ? 'kiosk' : 'qr';
      out.push({
        _id: demoId(createdAt, random),
        counterId: new Types.ObjectId(counter.id),
        officeId: new Types.ObjectId(counter.officeId),
        unitCode: counter.unitCode,
        unitPath: counter.unitPath,
        localDay: day,
        createdAt,
        channel,
        lang: random() < 0.03 ? 'en' : 'vi',
        quick,
        ...(detailed ? details(random, quick) : { elements: {}, wentWell: [], wentBadly: [] }),
        idempotencyKey: `${DEMO_KEY_PREFIX}${counterKey}-${day}-${i}`,
        bodyHash: hex(random, 32),
        deviceHash: hex(random, 16),
        ipHash: hex(random, 16),
        rollup: 'applied',
      });
    }
    addAbuse(out, random, counterKey, day);
  });
  return out;
}

/** Some honest-looking abuse: a burst of identical votes from one device (flagged spam) and a changed mind (replaced). */
function addAbuse(out: DemoFeedback[], random: () => number, counterKey: string, day: string): void {
  const todays = out.filter((feedback) => feedback.localDay === day);
  if (todays.length > 0 && random() < 0.025) {
    const first = todays[Math.floor(random() * todays.length)];
    const device = hex(random, 16);
    const burst = 4 + Math.floor(random() * 6);
    const quick: QuickVote = random() < 0.7 ? 'very_satisfied' : 'dissatisfied';
    for (let i = 0; i < burst; i += 1) {
      const createdAt = new Date(first.createdAt.getTime() + (i + 1) * 20000);
      out.push({
        ...first,
        _id: demoId(createdAt, random),
        createdAt,
        quick,
        elements: {},
        trips: undefined,
        wentWell: [],
        wentBadly: [],
        comment: undefined,
        idempotencyKey: `${DEMO_KEY_PREFIX}${counterKey}-${day}-spam${i}`,
        deviceHash: device,
        spam: { reason: 'burst', at: new Date(createdAt.getTime() + 3600000), by: 'demo' },
      });
    }
  }
  const candidates = todays.filter((feedback) => !feedback.spam && !feedback.replacedBy);
  if (candidates.length > 2 && random() < 0.1) {
    const original = candidates[Math.floor(random() * candidates.length)];
    const createdAt = new Date(original.createdAt.getTime() + (2 + Math.floor(random() * 20)) * 60000);
    const replacement: DemoFeedback = {
      ...original,
      _id: demoId(createdAt, random),
      createdAt,
      quick: original.quick === 'dissatisfied' ? 'satisfied' : 'dissatisfied',
      idempotencyKey: `${DEMO_KEY_PREFIX}${counterKey}-${day}-again`,
      replaces: original._id,
    };
    original.replacedBy = replacement._id;
    out.push(replacement);
  }
}

function feedbackCollection(): Collection<Document> {
  return FeedbackModel.collection as unknown as Collection<Document>;
}

/**
 * Seeds the demo feedback once and its roll-ups. Skips when demo feedback exists; if a crash left demo feedback without
 * any roll-up, rebuilds the roll-ups from raw feedback.
 */
export async function seedDemoFeedback(deps: DemoFeedbackDeps, options: DemoFeedbackOptions = {}): Promise<DemoFeedbackResult> {
  const started = Date.now();
  const feedback = feedbackCollection();
  const existing = await feedback.findOne({ idempotencyKey: { $regex: `^${DEMO_KEY_PREFIX}` } }, { projection: { _id: 1 } });
  if (existing) {
    const rollups = (await RollupModel.exists({})) ? 0 : (await rebuildRollups({ fix: true, pendingOlderThanMs: 0 })).fixed;
    return { skipped: true, feedback: 0, spam: 0, replaced: 0, rollups, ms: Date.now() - started };
  }

  const now = new Date();
  const until = options.until ?? addDays(localToday(now), -1);
  const dayCount = options.days ?? 90;
  const days = Array.from({ length: dayCount }, (_, i) => addDays(until, i - dayCount + 1));
  const counters = await findCounters(ALL_UNITS, { activeOnly: true });
  const kioskOffices = new Set<string>();
  const all: DemoFeedback[] = [];
  for (const counter of counters) {
    // The first counter of each office has a kiosk tablet beside the QR poster.
    const kiosk = !kioskOffices.has(counter.officeId);
    kioskOffices.add(counter.officeId);
    const counterKey = `${counter.unitCode}-${counter.label}`;
    all.push(...counterFeedback(counter, counterKey, kiosk, days, options.weekdayMean ?? DEFAULT_WEEKDAY_MEAN, now));
  }
  for (let i = 0; i < all.length; i += BATCH) {
    await feedback.insertMany(all.slice(i, i + BATCH).map(stripUndefined), { ordered: false });
  }
  const rollups = await writeRollups(all);
  const result = {
    skipped: false,
    feedback: all.length,
    spam: all.filter((item) => item.spam).length,
    replaced: all.filter((item) => item.replacedBy).length,
    rollups,
    ms: Date.now() - started,
  };
  deps.logger.info({ ...result, counters: counters.length }, 'demo feedback seeded');
  return result;
}

function stripUndefined(item: DemoFeedback): Document {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined));
}

/**
 * Roll-ups of the seeded feedback, folded exactly as a recomputation folds raw feedback: new counter-days in bulk,
 * counter-days that already had live votes recomputed from the database (version-guarded).
 */
async function writeRollups(seeded: DemoFeedback[]): Promise<number> {
  const groups = new Map<string, DemoFeedback[]>();
  for (const item of seeded) {
    if (!isCounted(item)) continue;
    const key = `${String(item.counterId)}|${item.localDay}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const stored = new Set((await findRollups({})).map((rollup) => `${String(rollup.counterId)}|${rollup.day}`));
  const fresh: Omit<RollupRecord, '_id'>[] = [];
  const seededBefore = new Date();
  let rewritten = 0;
  for (const [key, votes] of groups) {
    const [first] = votes;
    const counterDay = { counterId: first.counterId, day: first.localDay };
    if (stored.has(key)) {
      if (await rewriteCounterDay(counterDay, seededBefore)) rewritten += 1;
      continue;
    }
    fresh.push({ ...counterDay, officeId: first.officeId, unitCode: first.unitCode, unitPath: first.unitPath, ...foldVotes(votes), version: 1 });
  }
  for (let i = 0; i < fresh.length; i += BATCH) await RollupModel.collection.insertMany(fresh.slice(i, i + BATCH));
  return fresh.length + rewritten;
}
