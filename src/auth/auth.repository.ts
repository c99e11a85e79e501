// The only place that queries users and API tokens; returns lean plain objects and never the hash unless asked.
import { Types } from 'mongoose';
import { isDuplicateKey } from '../shared/database';
import { conflict } from '../shared/errors';
import { ApiTokenModel, type ApiTokenRecord } from './api-token.model';
import { UserModel, type UserRecord } from './user.model';
import type { Role } from './permissions';

export type UserView = Omit<UserRecord, 'passwordHash'>;
const WITHOUT_HASH = { passwordHash: 0 } as const;

export function findUserForLogin(username: string): Promise<UserRecord | null> {
  return UserModel.findOne({ username }).lean<UserRecord>().exec();
}

export function findUserById(id: string): Promise<UserView | null> {
  if (!Types.ObjectId.isValid(id)) return Promise.resolve(null);
  return UserModel.findById(id, WITHOUT_HASH).lean<UserView>().exec();
}

export function findUserByUsername(username: string): Promise<UserView | null> {
  return UserModel.findOne({ username }, WITHOUT_HASH).lean<UserView>().exec();
}

export function listUsers(): Promise<UserView[]> {
  return UserModel.find({}, WITHOUT_HASH).sort({ active: -1, username: 1 }).lean<UserView[]>().exec();
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  scope: string[];
  passwordHash: string;
  active?: boolean;
}

/** Inserts a user; a taken username is a 409. */
export async function insertUser(user: NewUser): Promise<UserView> {
  try {
    const created = await UserModel.create(user);
    const { passwordHash: _hash, ...view } = created.toObject<UserRecord>();
    return view;
  } catch (error) {
    if (isDuplicateKey(error)) throw conflict('users.errors.usernameTaken');
    throw error;
  }
}

/** Inserts the user only when the username is free; true when inserted. */
export async function insertUserIfMissing(user: NewUser): Promise<boolean> {
  const result = await UserModel.updateOne({ username: user.username }, { $setOnInsert: { ...user, failedLogins: 0, lockedUntil: null, authVersion: 1, lastLoginAt: null } }, { upsert: true });
  return result.upsertedCount > 0;
}

export async function updateUser(id: string, set: Partial<Pick<UserRecord, 'displayName' | 'role' | 'scope' | 'active'>>): Promise<UserView | null> {
  return UserModel.findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after', projection: WITHOUT_HASH }).lean<UserView>().exec();
}

/** Sets a new hash, clears the lockout and ends every session of the user (authVersion + 1). */
export async function setPasswordHash(id: string, passwordHash: string): Promise<boolean> {
  const result = await UserModel.updateOne(
    { _id: id },
    { $set: { passwordHash, failedLogins: 0, lockedUntil: null }, $inc: { authVersion: 1 } },
  );
  return result.matchedCount > 0;
}

/** Activates or deactivates; deactivation also ends the user's sessions. */
export async function setUserActive(id: string, active: boolean): Promise<UserView | null> {
  return UserModel.findByIdAndUpdate(
    id,
    { $set: { active }, ...(active ? {} : { $inc: { authVersion: 1 } }) },
    { returnDocument: 'after', projection: WITHOUT_HASH },
  )
    .lean<UserView>()
    .exec();
}

/** Counts one more failed sign-in; returns the new count. */
export async function incrementFailedLogins(id: Types.ObjectId): Promise<number> {
  const updated = await UserModel.findByIdAndUpdate(id, { $inc: { failedLogins: 1 } }, { returnDocument: 'after', projection: { failedLogins: 1 } })
    .lean<Pick<UserRecord, 'failedLogins'>>()
    .exec();
  return updated?.failedLogins ?? 0;
}

export async function lockUser(id: Types.ObjectId, until: Date): Promise<void> {
  await UserModel.updateOne({ _id: id }, { $set: { lockedUntil: until, failedLogins: 0 } });
}

export async function recordSuccessfulLogin(id: Types.ObjectId, at: Date): Promise<void> {
  await UserModel.updateOne({ _id: id }, { $set: { failedLogins: 0, lockedUntil: null, lastLoginAt: at } });
}

export type ApiTokenView = Omit<ApiTokenRecord, 'tokenHash'>;
const TOKEN_WITHOUT_HASH = { tokenHash: 0 } as const;

export async function insertApiToken(token: Pick<ApiTokenRecord, 'userId' | 'name' | 'tokenHash' | 'prefix'>): Promise<ApiTokenView> {
  const created = await ApiTokenModel.create(token);
  const { tokenHash: _hash, ...view } = created.toObject<ApiTokenRecord>();
  return view;
}

export function findTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
  return ApiTokenModel.findOne({ tokenHash }).lean<ApiTokenRecord>().exec();
}

export function listTokensOf(userId: string): Promise<ApiTokenView[]> {
  return ApiTokenModel.find({ userId: new Types.ObjectId(userId) }, TOKEN_WITHOUT_HASH).sort({ revokedAt: 1, createdAt: -1 }).lean<ApiTokenView[]>().exec();
}

export interface ApiTokenWithOwner extends ApiTokenView {
  ownerUsername: string | null;
}

export async function listAllTokens(): Promise<ApiTokenWithOwner[]> {
  const tokens = await ApiTokenModel.find({}, TOKEN_WITHOUT_HASH).sort({ revokedAt: 1, createdAt: -1 }).limit(1000).lean<ApiTokenView[]>().exec();
  const owners = await UserModel.find({ _id: { $in: [...new Set(tokens.map((token) => String(token.userId)))] } }, { username: 1 })
    .lean<Pick<UserRecord, '_id' | 'username'>[]>()
    .exec();
  const names = new Map(owners.map((owner) => [String(owner._id), owner.username]));
  return tokens.map((token) => ({ ...token, ownerUsername: names.get(String(token.userId)) ?? null }));
}

export function findTokenById(id: string): Promise<ApiTokenView | null> {
  if (!Types.ObjectId.isValid(id)) return Promise.resolve(null);
  return ApiTokenModel.findById(id, TOKEN_WITHOUT_HASH).lean<ApiTokenView>().exec();
}

/** Revokes a token (of one owner when ownerId is given); true when it was active. */
export async function revokeTokenById(id: string, at: Date, ownerId?: string): Promise<boolean> {
  if (!Types.ObjectId.isValid(id)) return false;
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id), revokedAt: null };
  if (ownerId) filter.userId = new Types.ObjectId(ownerId);
  const result = await ApiTokenModel.updateOne(filter, { $set: { revokedAt: at } });
  return result.modifiedCount > 0;
}

export async function touchToken(id: Types.ObjectId, at: Date): Promise<void> {
  await ApiTokenModel.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
}
