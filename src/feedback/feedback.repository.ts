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

export async function findFeedbackById(id: string | Types.ObjectId): Promise<FeedbackDocument | null> {
  return FeedbackModel.findById(id).lean<FeedbackDocument>().exec();
}

/** Inserts one feedback; when its idempotency key is taken (a concurrent twin), returns the stored one instead. */
export async function insertFeedback(feedback: NewFeedback): Promise<{ inserted: boolean; feedback: FeedbackDocument }> {
  try {
    const created = await FeedbackModel.create(feedback);
    return { inserted: true, feedback: created.toObject() as FeedbackDocument };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const existing = await findFeedbackByKey(feedback.idempotencyKey);
    if (!existing) throw error;
    return { inserted: false, feedback: existing };
  }
}

/** The device's other still-counted, non-kiosk votes at this counter created between `from` and `to`. */
export async function findDeviceVotesBetween(
  counterId: Types.ObjectId,
  deviceHash: string,
  from: Date,
  to: Date,
  exceptId: Types.ObjectId,
): Promise<FeedbackDocument[]> {
  return FeedbackModel.find({
    counterId,
    deviceHash,
    createdAt: { $gte: from, $lte: to },
    _id: { $ne: exceptId },
    channel: { $ne: 'kiosk' },
    replacedBy: { $exists: false },
    spam: { $exists: false },
  })
    .sort({ createdAt: 1, _id: 1 })
    .limit(50)
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
