// The only place that queries feedback: inserts, idempotency look-ups, atomic state changes, scoped moderation lists.
import { Types } from 'mongoose';
import { scopeFilter, type Scope } from '../shared/scope';
import { FeedbackModel, type FeedbackDocument } from './feedback.model';
import type { SpamFlag } from './feedback.types';

const DUPLICATE_KEY = 11000;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

export type NewFeedback = Omit<FeedbackDocument, '_id'> & { _id?: Types.ObjectId };

export async function findFeedbackByKey(idempotencyKey: string): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOne({ idempotencyKey }).lean<FeedbackDocument>().exec();
}

export async function findFeedbackByKeys(idempotencyKeys: readonly string[]): Promise<FeedbackDocument[]> {
  return FeedbackModel.find({ idempotencyKey: { $in: idempotencyKeys } }).lean<FeedbackDocument[]>().exec();
}

export async function findFeedbackById(id: string | Types.ObjectId): Promise<FeedbackDocument | null> {
  return FeedbackModel.findById(id).lean<FeedbackDocument>().exec();
}

/** How many votes each device stored since `since`, and when its oldest one in that span was cast. */
export async function countDeviceVotesSince(deviceHashes: readonly string[], since: Date): Promise<Map<string, { count: number; oldest: Date }>> {
  const groups = await FeedbackModel.aggregate<{ _id: string; count: number; oldest: Date }>([
    { $match: { deviceHash: { $in: deviceHashes }, createdAt: { $gte: since } } },
    { $group: { _id: '$deviceHash', count: { $sum: 1 }, oldest: { $min: '$createdAt' } } },
  ]).exec();
  return new Map(groups.map((group) => [group._id, { count: group.count, oldest: group.oldest }]));
}

/** What became of each document of an unordered insert: stored, its idempotency key already taken, or an error. */
export type InsertOutcome = 'inserted' | 'duplicateKey' | Error;

/**
 * Inserts many feedback documents in one unordered write; one outcome per document. The documents are built by the
 * service from validated input, so Mongoose does not hydrate them (`lean`: a third of a vote's cost otherwise); a
 * test checks that what is stored satisfies the schema.
 */
export async function insertFeedbackMany(feedback: readonly NewFeedback[]): Promise<InsertOutcome[]> {
  try {
    await FeedbackModel.insertMany(feedback, { ordered: false, lean: true });
    return feedback.map(() => 'inserted');
  } catch (error) {
    // Per-document results come with the server's write errors; anything else (a lost connection) leaves the
    // outcome of every document unknown.
    const { results, writeErrors } = error as { results?: unknown[]; writeErrors?: unknown };
    if (writeErrors == null || !Array.isArray(results) || results.length !== feedback.length) throw error;
    return results.map((result) => {
      if (isDuplicateKey(result)) return 'duplicateKey';
      if (result instanceof Error) return result;
      const writeError = result as { errmsg?: unknown; code?: unknown } | null;
      return writeError && typeof writeError.code === 'number' ? new Error(String(writeError.errmsg)) : 'inserted';
    });
  }
}

/**
 * Still-counted, non-kiosk votes of these devices at these counters created between `from` and `to`, oldest first
 * (the replacement window of a batch of votes).
 */
export async function findDeviceVotes(
  pairs: readonly { counterId: Types.ObjectId; deviceHash: string }[],
  from: Date,
  to: Date,
): Promise<FeedbackDocument[]> {
  return FeedbackModel.find({
    $or: pairs.map(({ counterId, deviceHash }) => ({ counterId, deviceHash })),
    createdAt: { $gte: from, $lte: to },
    channel: { $ne: 'kiosk' },
    replacedBy: { $exists: false },
    spam: { $exists: false },
  })
    .sort({ createdAt: 1, _id: 1 })
    .lean<FeedbackDocument[]>()
    .exec();
}

/** Marks `oldId` as replaced by `newId` unless something replaced it first; returns the document as it was before. */
export async function markReplaced(oldId: Types.ObjectId, newId: Types.ObjectId): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: oldId, replacedBy: { $exists: false } },
    { $set: { replacedBy: newId, rollup: 'pending' } },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
}

/** Records that the roll-ups took this feedback's change (and, for a replacing vote, which vote it replaced). */
export async function markRollupApplied(id: Types.ObjectId, replaces?: Types.ObjectId | null): Promise<void> {
  await FeedbackModel.updateOne({ _id: id }, { $set: { rollup: 'applied', ...(replaces ? { replaces } : {}) } }).exec();
}

/** Records in one write that the roll-ups took these feedbacks' changes, with the vote each one replaced, if any. */
export async function markRollupsApplied(ids: readonly Types.ObjectId[], replaced: ReadonlyMap<string, Types.ObjectId>): Promise<void> {
  const plain = ids.filter((id) => !replaced.has(String(id)));
  await FeedbackModel.bulkWrite(
    [
      ...(plain.length > 0 ? [{ updateMany: { filter: { _id: { $in: plain } }, update: { $set: { rollup: 'applied' as const } } } }] : []),
      ...ids
        .filter((id) => replaced.has(String(id)))
        .map((id) => ({ updateOne: { filter: { _id: id }, update: { $set: { rollup: 'applied' as const, replaces: replaced.get(String(id)) } } } })),
    ],
    { ordered: false },
  );
}

/** Adds the dissatisfied follow-up details once; returns the document before and after, or null if already done. */
export async function addFollowUp(
  id: Types.ObjectId,
  details: { wentBadly: string[]; comment?: string },
  at: Date,
): Promise<{ before: FeedbackDocument; after: FeedbackDocument } | null> {
  const set: Record<string, unknown> = { wentBadly: details.wentBadly, followUpAt: at, rollup: 'pending' };
  if (details.comment) set.comment = details.comment;
  const before = await FeedbackModel.findOneAndUpdate(
    { _id: id, quick: 'dissatisfied', followUpAt: { $exists: false } },
    { $set: set },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
  if (!before) return null;
  const after = { ...before, wentBadly: details.wentBadly, followUpAt: at, ...(details.comment ? { comment: details.comment } : {}) };
  return { before, after };
}

/** Sets the spam flag if not set yet, within the scope; returns the document before the change. */
export async function setSpamFlag(id: string, scope: Scope, spam: SpamFlag): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: id, spam: { $exists: false }, ...scopeFilter(scope, 'unitPath') },
    { $set: { spam, rollup: 'pending' } },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
}

/** Clears the spam flag if set, within the scope; returns the document before the change. */
export async function clearSpamFlag(id: string, scope: Scope): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: id, spam: { $exists: true }, ...scopeFilter(scope, 'unitPath') },
    { $unset: { spam: 1 }, $set: { rollup: 'pending' } },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
}

export async function findFeedbackInScope(id: string, scope: Scope): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOne({ _id: id, ...scopeFilter(scope, 'unitPath') }).lean<FeedbackDocument>().exec();
}

export type ModerationFilter = 'all' | 'only' | 'none';

/** Newest feedback in the scope for moderation, one page at a time (one extra row tells whether more exist). */
export async function listFeedbackInScope(scope: Scope, spam: ModerationFilter, skip: number, limit: number): Promise<FeedbackDocument[]> {
  const filter: Record<string, unknown> = { ...scopeFilter(scope, 'unitPath') };
  if (spam === 'only') filter.spam = { $exists: true };
  if (spam === 'none') filter.spam = { $exists: false };
  return FeedbackModel.find(filter).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<FeedbackDocument[]>().exec();
}
