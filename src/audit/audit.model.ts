// Audit log entries: who did what to which target, when, from which (hashed) address; never personal data.
import { Schema, model, type Types } from 'mongoose';

export type AuditDetailValue = string | number | boolean | null | string[];

export interface AuditEntryRecord {
  _id: Types.ObjectId;
  at: Date;
  actorId: string | null;
  actorUsername: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  unitPath: string[];
  details: Record<string, AuditDetailValue>;
  ipHash: string | null;
}

const auditEntrySchema = new Schema<AuditEntryRecord>(
  {
    at: { type: Date, required: true },
    actorId: { type: String, default: null },
    actorUsername: { type: String, default: null },
    action: { type: String, required: true },
    targetType: { type: String, default: null },
    targetId: { type: String, default: null },
    unitPath: { type: [String], default: [] },
    details: { type: Schema.Types.Mixed, default: {} },
    ipHash: { type: String, default: null },
  },
  { collection: 'audit_log', versionKey: false, minimize: false },
);
auditEntrySchema.index({ at: -1 });
auditEntrySchema.index({ actorUsername: 1, at: -1 });
auditEntrySchema.index({ action: 1, at: -1 });

export const AuditEntryModel = model<AuditEntryRecord>('AuditEntry', auditEntrySchema);
