// Staff accounts: username, display name, role, unit scope, active flag, argon2id hash and lockout counters.
import { Schema, model, type Types } from 'mongoose';
import { ROLES, type Role } from './permissions';

export interface UserRecord {
  _id: Types.ObjectId;
  username: string;
  displayName: string;
  role: Role;
  /** Unit codes granted (descendants included); ignored for admins, who see every unit. */
  scope: string[];
  active: boolean;
  passwordHash: string;
  failedLogins: number;
  lockedUntil: Date | null;
  /** Bumped when the password is reset or the account deactivated: older sessions stop working. */
  authVersion: number;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const userSchema = new Schema<UserRecord>(
  {
    username: { type: String, required: true, unique: true, trim: true, lowercase: true, maxlength: 40 },
    displayName: { type: String, required: true, trim: true, maxlength: 100 },
    role: { type: String, required: true, enum: ROLES },
    scope: { type: [String], default: [] },
    active: { type: Boolean, default: true },
    passwordHash: { type: String, required: true },
    failedLogins: { type: Number, default: 0 },
    lockedUntil: { type: Date, default: null },
    authVersion: { type: Number, default: 1 },
    lastLoginAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'users' },
);

export const UserModel = model<UserRecord>('User', userSchema);
