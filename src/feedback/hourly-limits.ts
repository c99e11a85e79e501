// The hourly vote limits per device and per IP for a whole batch in one database operation, where a limiter library needs one per key.
import mongoose, { Schema, type Model } from 'mongoose';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { bulkWriteErrors, isDuplicateKey, NO_JOURNAL_WAIT } from '../shared/database';

/** One key's count in one clock window; removed by the TTL index once the window is over. */
interface LimitWindow {
  /** `<limit>:<key>:<window start in ms>`. */
  _id: string;
  points: number;
  expireAt: Date;
}

const LimitWindowSchema = new Schema<LimitWindow>(
  { _id: { type: String, required: true }, points: { type: Number, required: true }, expireAt: { type: Date, required: true } },
  { collection: 'hourly_limits', versionKey: false },
);
LimitWindowSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

export const LimitWindowModel: Model<LimitWindow> =
  (mongoose.models.LimitWindow as Model<LimitWindow> | undefined) ?? mongoose.model<LimitWindow>('LimitWindow', LimitWindowSchema);

function windows(): Collection<LimitWindow> {
  return LimitWindowModel.collection as unknown as Collection<LimitWindow>;
}

/** One limit to charge a batch against. */
export interface HourlyLimit {
  /** Keeps this limit's windows apart from the others' (`device`, `ip`). */
  name: string;
  /** For each submission of the batch, the key it is charged to (a keyed hash), or undefined (not charged). */
  keys: readonly (string | undefined)[];
  /** Submissions per key and window. */
  limit: number;
}

/** What a charge answered, per limit and submission: the wait in ms when over the limit, else null; and its refund. */
export interface Charged {
  waits: (number | null)[][];
  /** Gives back every point this charge took, to the windows that took them (never below zero). */
  refund(): Promise<void>;
}

/** One point to charge: the window that takes it, and that window's limit. */
interface Point {
  id: string;
  limit: number;
}

/** The id of a key's window under one limit. */
export function windowId(limitName: string, key: string, windowStart: number): string {
  return `${limitName}:${key}:${windowStart}`;
}

/**
 * Charges each submission one point against each limit for the current fixed window (clock-aligned, `windowMs`
 * long) and answers, per limit and submission, the wait in ms until the window ends when the key is at its limit,
 * else null. One unordered write for the whole batch, nothing read back: each point is an upsert that increments the
 * window only while it is below the limit, so a window at its limit refuses it with a duplicate key (the upsert
 * cannot insert a second document with that id). A duplicate key may also mean that another charge created the
 * window at the same moment: those points are tried once more, when the window exists, and then a duplicate key is
 * a refusal. Atomic across batches and processes: no key ever gets more than `limit` points in a window. A key's
 * points go to its first submissions in the batch; a refused submission takes no point. When the write fails
 * otherwise, the points of earlier tries are given back and the error is thrown; the points of the failed write
 * that were taken all the same stay (the limit is then stricter, never looser).
 */
export async function chargeHourly(limits: readonly HourlyLimit[], windowMs: number, now = Date.now()): Promise<Charged> {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const expireAt = new Date(windowStart + windowMs);
  const wait = Math.max(1000, windowStart + windowMs - now);
  const points: Point[] = [];
  for (const { name, keys, limit } of limits) {
    for (const key of keys) if (key !== undefined) points.push({ id: windowId(name, key, windowStart), limit });
  }
  const taken = new Map<string, number>();
  const refund = async () => {
    const given = [...taken].filter(([, count]) => count > 0);
    if (given.length === 0) return;
    await windows().bulkWrite(
      given.map(([id, count]) => ({ updateOne: { filter: { _id: id, points: { $gte: count } }, update: { $inc: { points: -count } } } })),
      { ordered: false, ...NO_JOURNAL_WAIT },
    );
  };
  let pending = points;
  for (let attempt = 0; attempt < 2 && pending.length > 0; attempt += 1) {
    const refused = await tryPoints(pending, expireAt).catch(async (error: unknown) => {
      await refund().catch(() => undefined);
      throw error;
    });
    pending.forEach((point, index) => {
      if (!refused.has(index)) taken.set(point.id, (taken.get(point.id) ?? 0) + 1);
    });
    pending = pending.filter((_point, index) => refused.has(index));
  }
  // Each limit's keys in batch order: a key's points go to its first submissions.
  const handedOut = new Map<string, number>();
  const waits = limits.map(({ name, keys }) =>
    keys.map((key) => {
      if (key === undefined) return null;
      const id = windowId(name, key, windowStart);
      const nth = (handedOut.get(id) ?? 0) + 1;
      handedOut.set(id, nth);
      return nth > (taken.get(id) ?? 0) ? wait : null;
    }),
  );
  return { waits, refund };
}

/** One unordered write of one conditional increment per point; returns the positions refused with a duplicate key. */
async function tryPoints(points: readonly Point[], expireAt: Date): Promise<Set<number>> {
  const statements: AnyBulkWriteOperation<LimitWindow>[] = points.map(({ id, limit }) => ({
    updateOne: { filter: { _id: id, points: { $lt: limit } }, update: { $inc: { points: 1 }, $setOnInsert: { expireAt } }, upsert: true },
  }));
  try {
    await windows().bulkWrite(statements, { ordered: false, ...NO_JOURNAL_WAIT });
    return new Set();
  } catch (error) {
    const failed = bulkWriteErrors(error);
    const other = [...failed.values()].find((failure) => !isDuplicateKey(failure));
    if (other) throw new Error(`rate limit not charged: ${other.message}`);
    return new Set(failed.keys());
  }
}
