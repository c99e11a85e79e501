// The per-device vote limit for a whole batch in one or two database operations, where a limiter library needs one per phone.
import mongoose, { Schema, type Model } from 'mongoose';
import type { Collection } from 'mongodb';
import { bulkWriteErrors, isDuplicateKey, NO_JOURNAL_WAIT } from '../shared/database';

/** One device's count in one window; removed by the TTL index once the window is over. */
interface DeviceWindow {
  _id: string;
  points: number;
  expireAt: Date;
}

const DeviceWindowSchema = new Schema<DeviceWindow>(
  { _id: { type: String, required: true }, points: { type: Number, required: true }, expireAt: { type: Date, required: true } },
  { collection: 'device_limits', versionKey: false },
);
DeviceWindowSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

export const DeviceWindowModel: Model<DeviceWindow> =
  (mongoose.models.DeviceWindow as Model<DeviceWindow> | undefined) ?? mongoose.model<DeviceWindow>('DeviceWindow', DeviceWindowSchema);

function windows(): Collection<DeviceWindow> {
  return DeviceWindowModel.collection as unknown as Collection<DeviceWindow>;
}

function incrementsOf(counts: ReadonlyMap<string, number>, expireAt: Date) {
  return [...counts].map(([id, points]) => ({
    updateOne: { filter: { _id: id }, update: { $inc: { points }, $setOnInsert: { expireAt } }, upsert: true },
  }));
}

/** What a charge answered (per submission, the wait in ms when over the limit, else null), and how to take it back. */
export interface Charged {
  waits: (number | null)[];
  /** Gives back every point this charge took, to the same windows. */
  refund(): Promise<void>;
}

/**
 * Charges `n` points to each device for the current fixed window (clock-aligned, `windowMs` long) and answers, for
 * each charged submission in order, the wait in ms until the window ends when it goes over `limit`, else null.
 *
 * Atomic across batches and processes: the counts are `$inc`s; a window this write created started at 0, any other
 * is read back after the write. A concurrent charge read back in between only raises the count read, so a
 * submission can be refused that a strict order would have let through, never the other way: a device never gets
 * more than `limit` votes in a window.
 */
export async function chargeDevices(deviceHashes: readonly (string | undefined)[], limit: number, windowMs: number, now = Date.now()): Promise<Charged> {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const expireAt = new Date(windowStart + windowMs);
  const idOf = (hash: string) => `${hash}:${windowStart}`;
  const counts = new Map<string, number>();
  for (const hash of deviceHashes) if (hash) counts.set(idOf(hash), (counts.get(idOf(hash)) ?? 0) + 1);
  if (counts.size === 0) return { waits: deviceHashes.map(() => null), refund: async () => {} };
  const ids = [...counts.keys()];
  const increments = incrementsOf(counts, expireAt);
  /** Windows this write created: their count was 0 before, so this batch's votes are their first points. */
  let created = new Set<string>();
  try {
    const result = await windows().bulkWrite(increments, { ordered: false, ...NO_JOURNAL_WAIT });
    created = new Set(Object.keys(result.upsertedIds).map((index) => ids[Number(index)]));
  } catch (error) {
    // Two first charges of one device raced on _id: the document exists now, so increment it.
    const failed = bulkWriteErrors(error);
    if ([...failed.values()].some((failure) => !isDuplicateKey(failure))) throw error;
    await windows().bulkWrite(increments.filter((_increment, index) => failed.has(index)), { ordered: false, ...NO_JOURNAL_WAIT });
  }
  // Only windows that existed are read back (a phone's first vote of the hour, the usual case, needs no read).
  const existing = ids.filter((id) => !created.has(id));
  const read = existing.length > 0 ? await windows().find({ _id: { $in: existing } }).toArray() : [];
  const totals = new Map<string, number>([...read.map((doc) => [doc._id, doc.points] as const), ...[...created].map((id) => [id, counts.get(id) ?? 0] as const)]);
  const seen = new Map<string, number>();
  const waits = deviceHashes.map((hash) => {
    if (!hash) return null;
    const id = idOf(hash);
    const charged = counts.get(id) ?? 0;
    // A window the TTL monitor removed between the write and the read is over: this batch starts the next one.
    const nth = (totals.get(id) ?? charged) - charged + (seen.get(id) ?? 0) + 1;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    return nth > limit ? Math.max(1000, windowStart + windowMs - now) : null;
  });
  const refund = async () => {
    await windows().bulkWrite(
      [...counts].map(([id, points]) => ({ updateOne: { filter: { _id: id }, update: { $inc: { points: -points } } } })),
      { ordered: false, ...NO_JOURNAL_WAIT },
    );
  };
  return { waits, refund };
}
