// Mongoose schema and indexes of feedback: one document per citizen rating, which is also its idempotency record.
import mongoose, { Schema, type Model } from 'mongoose';
import { CHANNELS, ELEMENTS, LANGS, QUICK_VOTES, type FeedbackRecord } from './feedback.types';

const level = { type: Number, min: 1, max: 5, default: undefined };

const ElementsSchema = new Schema(
  Object.fromEntries(ELEMENTS.map((element) => [element, level])),
  { _id: false, minimize: true },
);

const SpamSchema = new Schema({ reason: { type: String, required: true }, at: { type: Date, required: true }, by: String }, { _id: false });

/** Stored shape: the shared record plus what only this component reads. */
export interface FeedbackDocument extends FeedbackRecord {
  /** SHA-256 of the canonical request body, to tell a replay from a different body under the same key. */
  bodyHash: string;
  /** Set once the dissatisfied follow-up page added details. */
  followUpAt?: Date;
  /** When a stored vote last became 'pending' (a replacement, spam flag or follow-up being applied). */
  rollupPendingAt?: Date;
}

const FeedbackSchema = new Schema<FeedbackDocument>(
  {
    counterId: { type: Schema.Types.ObjectId, required: true },
    officeId: { type: Schema.Types.ObjectId, required: true },
    unitCode: { type: String, required: true },
    unitPath: { type: [String], required: true },
    localDay: { type: String, required: true },
    createdAt: { type: Date, required: true },
    channel: { type: String, enum: CHANNELS, required: true },
    lang: { type: String, enum: LANGS, required: true },
    quick: { type: String, enum: QUICK_VOTES, required: true },
    elements: { type: ElementsSchema, default: () => ({}) },
    trips: { type: Number, enum: [1, 2, 3] },
    wentWell: { type: [String], default: [] },
    wentBadly: { type: [String], default: [] },
    comment: { type: String, maxlength: 2000 },
    idempotencyKey: { type: String, required: true },
    bodyHash: { type: String, required: true },
    deviceHash: String,
    ipHash: String,
    spam: { type: SpamSchema, default: undefined },
    replacedBy: Schema.Types.ObjectId,
    replaces: Schema.Types.ObjectId,
    officerId: Schema.Types.ObjectId,
    dossierCode: String,
    followUpAt: Date,
    rollup: { type: String, enum: ['pending', 'applied'], required: true },
    rollupPendingAt: Date,
  },
  { collection: 'feedback', versionKey: false, minimize: true },
);

FeedbackSchema.index({ idempotencyKey: 1 }, { unique: true });
// The replacement window looks up the device's latest vote at the counter.
FeedbackSchema.index({ counterId: 1, deviceHash: 1, createdAt: -1 });
// Recomputing one counter-day, moderation lists, and reconciliation of pending roll-ups.
FeedbackSchema.index({ counterId: 1, localDay: 1 });
FeedbackSchema.index({ unitPath: 1, createdAt: -1 });
// Reconciliation looks for the few votes still 'pending': the index holds only those, not every vote ever counted.
FeedbackSchema.index({ rollup: 1 }, { partialFilterExpression: { rollup: 'pending' } });

export const FeedbackModel: Model<FeedbackDocument> =
  (mongoose.models.Feedback as Model<FeedbackDocument> | undefined) ?? mongoose.model<FeedbackDocument>('Feedback', FeedbackSchema);
