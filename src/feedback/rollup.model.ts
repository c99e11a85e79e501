// Daily roll-up per counter and local day: the histograms that dashboards read instead of raw feedback.
import { Schema, model, models, type Model, type Types } from 'mongoose';

/** Histogram keyed by answer ('1'..'5', 'na', a quick vote, a chip, a channel). */
export type Histogram = Record<string, number>;

export interface RollupRecord {
  _id?: Types.ObjectId;
  counterId: Types.ObjectId;
  /** Local day in Asia/Ho_Chi_Minh, 'YYYY-MM-DD'. */
  day: string;
  officeId: Types.ObjectId;
  unitCode: string;
  /** Every ancestor unit code from the province down to unitCode, for scoped queries. */
  unitPath: string[];
  count: number;
  quick: Histogram;
  /** Per SIPAS element: levels '1'..'5' and 'na' (Không áp dụng). */
  elements: Record<string, Histogram>;
  trips: Histogram;
  wentWell: Histogram;
  wentBadly: Histogram;
  channels: Histogram;
  /** Bumped by every change, so a recomputation can replace the document only if nothing changed meanwhile. */
  version: number;
}

const RollupSchema = new Schema<RollupRecord>(
  {
    counterId: { type: Schema.Types.ObjectId, required: true },
    day: { type: String, required: true },
    officeId: { type: Schema.Types.ObjectId, required: true },
    unitCode: { type: String, required: true },
    unitPath: { type: [String], required: true },
    count: { type: Number, default: 0 },
    quick: { type: Schema.Types.Mixed, default: {} },
    elements: { type: Schema.Types.Mixed, default: {} },
    trips: { type: Schema.Types.Mixed, default: {} },
    wentWell: { type: Schema.Types.Mixed, default: {} },
    wentBadly: { type: Schema.Types.Mixed, default: {} },
    channels: { type: Schema.Types.Mixed, default: {} },
    version: { type: Number, default: 0 },
  },
  { collection: 'feedback_rollups', minimize: false, versionKey: false },
);

RollupSchema.index({ counterId: 1, day: 1 }, { unique: true });
RollupSchema.index({ unitPath: 1, day: 1 });

export const RollupModel: Model<RollupRecord> =
  (models.FeedbackRollup as Model<RollupRecord> | undefined) ?? model<RollupRecord>('FeedbackRollup', RollupSchema);
