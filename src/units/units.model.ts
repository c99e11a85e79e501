// Mongoose schemas and indexes for the administrative tree (units), offices and counters.
import mongoose, { Schema, type Types } from 'mongoose';

export const UNIT_LEVELS = ['province', 'district', 'commune'] as const;
export type UnitLevel = (typeof UNIT_LEVELS)[number];

export interface MergeRecord {
  /** The unit that carries this unit's history from the effective date on. */
  code: string;
  effectiveDate: Date;
  /** True when only part of this unit went into `code` (the rest went elsewhere). */
  partial?: boolean;
  /** Every successor that received a part, `code` included (partial merges only). */
  splitAmong?: string[];
}

export interface FormedFromEntry {
  code: string;
  name: string;
  partial: boolean;
}

export interface UnitDoc {
  _id: Types.ObjectId;
  code: string;
  name: string;
  shortName?: string | null;
  level: UnitLevel;
  parentCode: string | null;
  path: string[];
  legacy: boolean;
  mergedInto?: MergeRecord | null;
  formedFrom?: FormedFromEntry[];
  createdAt: Date;
  updatedAt: Date;
}

export interface Hotline {
  label: string;
  phone: string;
}

export interface OfficeDoc {
  _id: Types.ObjectId;
  unitCode: string;
  unitPath: string[];
  name: string;
  address: string;
  openingHours: string;
  hotlines: Hotline[];
  active: boolean;
  /** Stable key of a demo-seeded office, so re-seeding finds it again. */
  seedKey?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RevokedToken {
  token: string;
  revokedAt: Date;
}

export interface CounterDoc {
  _id: Types.ObjectId;
  officeId: Types.ObjectId;
  unitCode: string;
  unitPath: string[];
  label: string;
  fields: string[];
  qrToken: string;
  revokedTokens: RevokedToken[];
  active: boolean;
  seedKey?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const MergeSchema = new Schema<MergeRecord>(
  {
    code: { type: String, required: true },
    effectiveDate: { type: Date, required: true },
    partial: { type: Boolean },
    splitAmong: { type: [String], default: undefined },
  },
  { _id: false },
);

const FormedFromSchema = new Schema<FormedFromEntry>(
  { code: { type: String, required: true }, name: { type: String, required: true }, partial: { type: Boolean, default: false } },
  { _id: false },
);

const UnitSchema = new Schema<UnitDoc>(
  {
    code: { type: String, required: true },
    name: { type: String, required: true },
    shortName: { type: String, default: null },
    level: { type: String, enum: UNIT_LEVELS, required: true },
    parentCode: { type: String, default: null },
    path: { type: [String], required: true },
    legacy: { type: Boolean, default: false },
    mergedInto: { type: MergeSchema, default: null },
    formedFrom: { type: [FormedFromSchema], default: undefined },
  },
  { timestamps: true, collection: 'units' },
);
UnitSchema.index({ code: 1 }, { unique: true });
UnitSchema.index({ path: 1 });
UnitSchema.index({ 'mergedInto.code': 1 });

const HotlineSchema = new Schema<Hotline>(
  { label: { type: String, required: true }, phone: { type: String, required: true } },
  { _id: false },
);

const OfficeSchema = new Schema<OfficeDoc>(
  {
    unitCode: { type: String, required: true },
    unitPath: { type: [String], required: true },
    name: { type: String, required: true },
    address: { type: String, default: '' },
    openingHours: { type: String, default: '' },
    hotlines: { type: [HotlineSchema], default: [] },
    active: { type: Boolean, default: true },
    seedKey: { type: String },
  },
  { timestamps: true, collection: 'offices' },
);
OfficeSchema.index({ unitPath: 1 });
OfficeSchema.index({ seedKey: 1 }, { unique: true, sparse: true });

const RevokedTokenSchema = new Schema<RevokedToken>(
  { token: { type: String, required: true }, revokedAt: { type: Date, required: true } },
  { _id: false },
);

const CounterSchema = new Schema<CounterDoc>(
  {
    officeId: { type: Schema.Types.ObjectId, required: true },
    unitCode: { type: String, required: true },
    unitPath: { type: [String], required: true },
    label: { type: String, required: true },
    fields: { type: [String], default: [] },
    qrToken: { type: String, required: true },
    revokedTokens: { type: [RevokedTokenSchema], default: [] },
    active: { type: Boolean, default: true },
    seedKey: { type: String },
  },
  { timestamps: true, collection: 'counters' },
);
CounterSchema.index({ qrToken: 1 }, { unique: true });
CounterSchema.index({ 'revokedTokens.token': 1 });
CounterSchema.index({ officeId: 1 });
CounterSchema.index({ unitPath: 1 });
CounterSchema.index({ seedKey: 1 }, { unique: true, sparse: true });

export const UnitModel = (mongoose.models.Unit as mongoose.Model<UnitDoc> | undefined) ?? mongoose.model<UnitDoc>('Unit', UnitSchema);
export const OfficeModel =
  (mongoose.models.Office as mongoose.Model<OfficeDoc> | undefined) ?? mongoose.model<OfficeDoc>('Office', OfficeSchema);
export const CounterModel =
  (mongoose.models.Counter as mongoose.Model<CounterDoc> | undefined) ?? mongoose.model<CounterDoc>('Counter', CounterSchema);
