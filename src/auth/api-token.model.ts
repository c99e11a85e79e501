// Personal API tokens: only the SHA-256 of the token is stored, with a short prefix to recognise it in lists.
import { Schema, model, type Types } from 'mongoose';

export interface ApiTokenRecord {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  name: string;
  tokenHash: string;
  /** The first characters of the token (e.g. "td_Ab12Cd"), safe to show. */
  prefix: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const apiTokenSchema = new Schema<ApiTokenRecord>(
  {
    userId: { type: Schema.Types.ObjectId, required: true, ref: 'User', index: true },
    name: { type: String, required: true, trim: true, maxlength: 80 },
    tokenHash: { type: String, required: true, unique: true },
    prefix: { type: String, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'api_tokens' },
);

export const ApiTokenModel = model<ApiTokenRecord>('ApiToken', apiTokenSchema);
