// The only place that queries feedback: inserts, idempotency look-ups, atomic state changes, scoped moderation lists.
import type { Collection, Document } from 'mongodb';
import { Types } from 'mongoose';
import { bulkWriteErrors, isDuplicateKey, NO_JOURNAL_WAIT } from '../shared/database';
import { scopeFilter, type Scope } from '../shared/scope';
import { FeedbackModel, type FeedbackDocument } from './feedback.model';
import type { SpamFlag } from './feedback.types';

export type NewFeedback = Omit<FeedbackDocument, '_id'> & { _id?: Types.ObjectId };

function feedbackCollection(): Collection<Document> {
  return FeedbackModel.collection as unknown as Collection<Document>;
}

export async function findFeedbackByKey(idempotencyKey: string): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOne({ idempotencyKey }).lean<FeedbackDocument>().exec();
}

export async function findFeedbackByKeys(idempotencyKeys: readonly string[]): Promise<FeedbackDocument[]> {
  return FeedbackModel.find({ idempotencyKey: { $in: idempotencyKeys } }).lean<FeedbackDocument[]>().exec();
}

export async function findFeedbackById(id: string | Types.ObjectId): Promise<FeedbackDocument | null> {
  return FeedbackModel.findById(id).lean<FeedbackDocument>().exec();
}

/** What became of each document of an unordered insert: stored, its idempotency key already taken, or an error. */
export type InsertOutcome = 'inserted' | 'duplicateKey' | Error;

/**
 * Inserts many feedback documents in one unordered write; one outcome per document. The documents are built by the
 * service from validated input and go to the driver as they are (Mongoose would hydrate each one: a third of a
 * vote's cost); a test checks that what is stored has the schema's types. Answered without waiting for the journal
 * (NO_JOURNAL_WAIT): the caller's next write, the roll-up increment, waits for it and so makes these durable too.
 */
export async function insertFeedbackMany(feedback: readonly NewFeedback[]): Promise<InsertOutcome[]> {
  try {
    await feedbackCollection().insertMany(feedback.map((doc) => ({ ...doc })), { ordered: false, ...NO_JOURNAL_WAIT });
    return feedback.map(() => 'inserted');
  } catch (error) {
    const failed = bulkWriteErrors(error);
    return feedback.map((_doc, index) => {
      const failure = failed.get(index);
      if (!failure) return 'inserted';
      return isDuplicateKey(failure) ? 'duplicateKey' : new Error(failure.message);
    });
  }
}

/** Who cast a vote, where and when: what the replacement window compares. */
export type DeviceVote = Pick<FeedbackDocument, '_id' | 'counterId' | 'deviceHash' | 'createdAt'>;

/**
 * Still-counted, non-kiosk votes of these devices at these counters created between `from` and `to`, oldest first
 * (the replacement window of a batch of votes). Only the fields the window compares: a batch finds its own votes
 * too, and whole documents would cost their decoding for each vote.
 */
export async function findDeviceVotes(
  pairs: readonly { counterId: Types.ObjectId; deviceHash: string }[],
  from: Date,
  to: Date,
): Promise<DeviceVote[]> {
  const filter = {
    $or: pairs.map(({ counterId, deviceHash }) => ({ counterId, deviceHash })),
    createdAt: { $gte: from, $lte: to },
    channel: { $ne: 'kiosk' },
    replacedBy: { $exists: false },
    spam: { $exists: false },
  };
  const projection = { _id: 1, counterId: 1, deviceHash: 1, createdAt: 1 };
  return feedbackCollection().find<DeviceVote>(filter, { projection, sort: { createdAt: 1, _id: 1 } }).toArray();
}

/**
 * A stored vote whose roll-up change starts at `pendingAt` (the real clock): 'pending', with that moment, so that
 * reconciliation leaves its counter-day alone while the change is applied however old the vote is, and so that only
 * the latest change to start may mark it 'applied' again (markRollupApplied).
 */
function pendingSince(pendingAt: Date): { rollup: 'pending'; rollupPendingAt: Date } {
  return { rollup: 'pending', rollupPendingAt: pendingAt };
}

/** Marks `oldId` as replaced by `newId` unless something replaced it first; returns the document as it was before. */
export async function markReplaced(oldId: Types.ObjectId, newId: Types.ObjectId, pendingAt: Date): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: oldId, replacedBy: { $exists: false } },
    { $set: { replacedBy: newId, ...pendingSince(pendingAt) } },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
}

/**
 * Records that the roll-ups took the change that made this feedback 'pending' at `pendingAt`; nothing when another
 * change has started since (that one marks it, or reconciliation settles it).
 */
export async function markRollupApplied(id: Types.ObjectId, pendingAt: Date): Promise<void> {
  await feedbackCollection().updateOne({ _id: id, rollupPendingAt: pendingAt }, { $set: { rollup: 'applied' } });
}

/** What a writer of votes records once its roll-up changes are durable. */
export interface RollupMarks {
  /** Its new votes: 'applied' unless another change has started on them since (a replacement, a spam flag). */
  fresh: readonly Types.ObjectId[];
  /** Votes it replaced whose every change it has now applied: 'applied' unless another change started after its own. */
  replaced: readonly Types.ObjectId[];
  /** When its replacements started (markReplaced). */
  pendingAt: Date;
  /** For each of its new votes that replaced another (by id), the vote it replaced. */
  replaces: ReadonlyMap<string, Types.ObjectId>;
}

/**
 * Records in one write that the roll-ups took these votes' changes, and which vote each replacing vote replaced.
 * Without waiting for the journal: marks lost in a crash leave the votes 'pending', and reconciliation settles them.
 */
export async function markRollupsApplied(marks: RollupMarks): Promise<void> {
  const applied = { $set: { rollup: 'applied' } };
  await feedbackCollection().bulkWrite(
    [
      ...(marks.fresh.length > 0 ? [{ updateMany: { filter: { _id: { $in: [...marks.fresh] }, rollupPendingAt: { $exists: false } }, update: applied } }] : []),
      ...(marks.replaced.length > 0 ? [{ updateMany: { filter: { _id: { $in: [...marks.replaced] }, rollupPendingAt: marks.pendingAt }, update: applied } }] : []),
      ...[...marks.replaces].map(([newer, older]) => ({ updateOne: { filter: { _id: new Types.ObjectId(newer) }, update: { $set: { replaces: older } } } })),
    ],
    { ordered: false, ...NO_JOURNAL_WAIT },
  );
}

/** Adds the dissatisfied follow-up details once; returns the document before and after, or null if already done. */
export async function addFollowUp(
  id: Types.ObjectId,
  details: { wentBadly: string[]; comment?: string },
  at: Date,
  pendingAt: Date,
): Promise<{ before: FeedbackDocument; after: FeedbackDocument } | null> {
  const set: Record<string, unknown> = { wentBadly: details.wentBadly, followUpAt: at, ...pendingSince(pendingAt) };
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
export async function setSpamFlag(id: string, scope: Scope, spam: SpamFlag, pendingAt: Date): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: id, spam: { $exists: false }, ...scopeFilter(scope, 'unitPath') },
    { $set: { spam, ...pendingSince(pendingAt) } },
    { returnDocument: 'before' },
  )
    .lean<FeedbackDocument>()
    .exec();
}

/** Clears the spam flag if set, within the scope; returns the document before the change. */
export async function clearSpamFlag(id: string, scope: Scope, pendingAt: Date): Promise<FeedbackDocument | null> {
  return FeedbackModel.findOneAndUpdate(
    { _id: id, spam: { $exists: true }, ...scopeFilter(scope, 'unitPath') },
    { $unset: { spam: 1 }, $set: pendingSince(pendingAt) },
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
