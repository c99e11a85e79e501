// Roll-up queries: atomic increments, version-guarded replacement, and the aggregation over counted raw feedback.
import type { Types } from 'mongoose';
import type { Collection, Document } from 'mongodb';
import { bulkWriteErrors, DURABLE, isDuplicateKey } from '../shared/database';
import { FeedbackModel } from './feedback.model';
import type { FeedbackRecord } from './feedback.types';
import { RollupModel, type RollupRecord } from './rollup.model';

export interface CounterDay {
  counterId: Types.ObjectId;
  day: string;
}

/** The fields of a counted vote that a recomputation folds into a roll-up. */
export type CountedVote = Pick<FeedbackRecord, 'quick' | 'elements' | 'trips' | 'wentWell' | 'wentBadly' | 'channel'>;

export interface CountedGroup extends CounterDay {
  officeId: Types.ObjectId;
  unitCode: string;
  unitPath: string[];
  votes: CountedVote[];
}

type RollupMeta = Pick<RollupRecord, 'officeId' | 'unitCode' | 'unitPath'>;

function feedbackCollection(): Collection<Document> {
  return FeedbackModel.collection as unknown as Collection<Document>;
}

function rollupCollection(): Collection<Document> {
  return RollupModel.collection as unknown as Collection<Document>;
}

export interface RollupIncrement {
  key: CounterDay;
  meta: RollupMeta;
  inc: Record<string, number>;
}

function upsertOf({ key, meta, inc }: RollupIncrement) {
  return {
    updateOne: {
      filter: { counterId: key.counterId, day: key.day },
      update: { $inc: inc, $setOnInsert: { officeId: meta.officeId, unitCode: meta.unitCode, unitPath: meta.unitPath } },
      upsert: true,
    },
  };
}

/**
 * Atomic upserts (`$inc` on each counter-day document, metadata set when it is created) in one unordered write,
 * durable when acknowledged (DURABLE). When two first votes of a counter-day race on the unique index, the loser's
 * document exists now: it is retried.
 */
export async function incrementRollups(increments: readonly RollupIncrement[]): Promise<void> {
  if (increments.length === 0) return;
  try {
    await rollupCollection().bulkWrite(increments.map(upsertOf), { ordered: false, ...DURABLE });
  } catch (error) {
    const failed = bulkWriteErrors(error);
    if ([...failed.values()].some((failure) => !isDuplicateKey(failure))) throw error;
    await rollupCollection().bulkWrite(
      increments.filter((_increment, index) => failed.has(index)).map(upsertOf),
      { ordered: false, ...DURABLE },
    );
  }
}

/** Counted feedback (not spam, not replaced) grouped by counter and local day. */
export async function aggregateCounted(filter: Partial<CounterDay> = {}): Promise<CountedGroup[]> {
  const match: Record<string, unknown> = { spam: null, replacedBy: null };
  if (filter.counterId) match.counterId = filter.counterId;
  if (filter.day) match.localDay = filter.day;
  const groups = await feedbackCollection()
    .aggregate(
      [
        { $match: match },
        {
          $group: {
            _id: { counterId: '$counterId', day: '$localDay' },
            officeId: { $first: '$officeId' },
            unitCode: { $first: '$unitCode' },
            unitPath: { $first: '$unitPath' },
            votes: {
              $push: {
                quick: '$quick',
                elements: '$elements',
                trips: '$trips',
                wentWell: '$wentWell',
                wentBadly: '$wentBadly',
                channel: '$channel',
              },
            },
          },
        },
      ],
      { allowDiskUse: true },
    )
    .toArray();
  return groups.map((group) => ({
    counterId: group._id.counterId as Types.ObjectId,
    day: group._id.day as string,
    officeId: group.officeId as Types.ObjectId,
    unitCode: group.unitCode as string,
    unitPath: group.unitPath as string[],
    votes: group.votes as CountedVote[],
  }));
}

export async function findRollups(filter: Record<string, unknown>): Promise<RollupRecord[]> {
  return (await rollupCollection().find(filter).toArray()) as unknown as RollupRecord[];
}

export async function findRollup(key: CounterDay): Promise<RollupRecord | null> {
  return (await rollupCollection().findOne({ counterId: key.counterId, day: key.day })) as RollupRecord | null;
}

/** Replaces the roll-up only if no increment touched it since it was read at `version`; false otherwise. */
export async function replaceRollupIfUnchanged(existing: RollupRecord, next: Omit<RollupRecord, '_id'>): Promise<boolean> {
  const result = await rollupCollection().replaceOne({ _id: existing._id, version: existing.version }, next);
  return result.matchedCount === 1;
}

/** Inserts a roll-up that did not exist; false when another writer created it first. */
export async function insertRollup(next: Omit<RollupRecord, '_id'>): Promise<boolean> {
  try {
    await rollupCollection().insertOne({ ...next });
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/**
 * Filter on when a feedback became 'pending': `rollupPendingAt` when the state change records it (a spam flag on an
 * old vote), otherwise its creation time.
 */
function pendingSince(condition: { $lte: Date } | { $gt: Date }): Record<string, unknown> {
  return { $or: [{ rollupPendingAt: condition }, { rollupPendingAt: { $exists: false }, createdAt: condition }] };
}

/** Counter-days that hold feedback still marked 'pending' and created at or before `cutoff`. */
export async function findStalePending(cutoff: Date): Promise<CounterDay[]> {
  const groups = await feedbackCollection()
    .aggregate([{ $match: { rollup: 'pending', ...pendingSince({ $lte: cutoff }) } }, { $group: { _id: { counterId: '$counterId', day: '$localDay' } } }])
    .toArray();
  return groups.map((group) => ({ counterId: group._id.counterId as Types.ObjectId, day: group._id.day as string }));
}

/** True when the counter-day has 'pending' feedback newer than `cutoff` (a request may still be applying it). */
export async function hasRecentPending(key: CounterDay, cutoff: Date): Promise<boolean> {
  const found = await feedbackCollection().findOne(
    { counterId: key.counterId, localDay: key.day, rollup: 'pending', ...pendingSince({ $gt: cutoff }) },
    { projection: { _id: 1 } },
  );
  return found !== null;
}

export async function markPendingApplied(key: CounterDay, cutoff: Date): Promise<number> {
  const result = await feedbackCollection().updateMany(
    { counterId: key.counterId, localDay: key.day, rollup: 'pending', ...pendingSince({ $lte: cutoff }) },
    { $set: { rollup: 'applied' } },
  );
  return result.modifiedCount;
}
