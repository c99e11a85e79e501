// Sign-in with lockout and throttling, the actor behind a session or an API token, and personal API tokens.
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Config } from '../config';
import { recordAudit, type AuditContext } from '../audit';
import type { Logger } from '../shared/logger';
import { ALL_UNITS } from '../shared/scope';
import { AppError } from '../shared/errors';
import {
  findTokenByHash,
  findUserById,
  findUserForLogin,
  incrementFailedLogins,
  insertApiToken,
  listTokensOf,
  lockUser,
  recordSuccessfulLogin,
  revokeTokenById,
  touchToken,
  type ApiTokenView,
  type UserView,
} from './auth.repository';
import { sha256Hex } from './keys';
import type { LoginThrottle } from './login-throttle';
import { burnPasswordCheck, verifyPassword } from './password';

export const API_TOKEN_PREFIX = 'td_';
const TOKEN_DISPLAY_LENGTH = API_TOKEN_PREFIX.length + 6;
const TOKEN_TOUCH_INTERVAL_MS = 5 * 60 * 1000;

/** The request-scoped identity every route and repository works with. */
export function toActor(user: UserView, via: Actor['via']): Actor {
  return {
    id: String(user._id),
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    scope: user.role === 'admin' ? ALL_UNITS : { kind: 'units', codes: [...user.scope] },
    via,
  };
}

export type SignInResult =
  | { kind: 'signed_in'; user: UserView }
  | { kind: 'invalid' }
  | { kind: 'locked'; retryAfterSeconds: number }
  | { kind: 'throttled'; retryAfterSeconds: number };

export interface SignInDeps {
  config: Config;
  throttle: LoginThrottle;
  now?: () => Date;
}

/** Checks a username and password: unknown users, wrong passwords and locked accounts answer alike to outsiders. */
export async function signIn(deps: SignInDeps, input: { username: string; password: string }, context: { ip: string }): Promise<SignInResult> {
  const now = deps.now ?? (() => new Date());
  const audit: AuditContext = { ip: context.ip };
  const addressWait = await deps.throttle.addressWait(context.ip);
  if (addressWait > 0) return { kind: 'throttled', retryAfterSeconds: addressWait };

  const user = await findUserForLogin(input.username);
  if (!user || !user.active) {
    const lockedFor = await deps.throttle.unknownUserWait(input.username);
    if (lockedFor > 0) {
      await deps.throttle.addressFailed(context.ip);
      return { kind: 'locked', retryAfterSeconds: lockedFor };
    }
    await burnPasswordCheck(input.password);
    await deps.throttle.addressFailed(context.ip);
    const nowLockedFor = await deps.throttle.unknownUserFailed(input.username);
    await recordAudit(null, 'auth.login_failed', user ? { type: 'user', id: String(user._id) } : null, { reason: user ? 'inactive' : 'unknown' }, audit);
    return nowLockedFor > 0 ? { kind: 'locked', retryAfterSeconds: nowLockedFor } : { kind: 'invalid' };
  }

  const target = { type: 'user', id: String(user._id) };
  if (user.lockedUntil && user.lockedUntil.getTime() > now().getTime()) {
    await deps.throttle.addressFailed(context.ip);
    return { kind: 'locked', retryAfterSeconds: Math.ceil((user.lockedUntil.getTime() - now().getTime()) / 1000) };
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    await deps.throttle.addressFailed(context.ip);
    const failures = await incrementFailedLogins(user._id);
    if (failures >= deps.config.login.maxAttempts) {
      const lockSeconds = deps.config.login.lockoutMinutes * 60;
      await lockUser(user._id, new Date(now().getTime() + lockSeconds * 1000));
      await recordAudit(null, 'auth.lockout', target, { failures }, audit);
      return { kind: 'locked', retryAfterSeconds: lockSeconds };
    }
    await recordAudit(null, 'auth.login_failed', target, { reason: 'password', failures }, audit);
    return { kind: 'invalid' };
  }

  await recordSuccessfulLogin(user._id, now());
  await recordAudit({ id: String(user._id), username: user.username }, 'auth.login', target, {}, audit);
  const { passwordHash: _hash, ...view } = user;
  return { kind: 'signed_in', user: view };
}

/** Records the end of a session. */
export async function signOut(actor: Actor, context: AuditContext): Promise<void> {
  await recordAudit(actor, 'auth.logout', { type: 'user', id: actor.id }, {}, context);
}

/** The actor of a session: null when the user is gone, deactivated, or its sessions were ended since. */
export async function actorFromSession(userId: string, authVersion: number | undefined): Promise<Actor | null> {
  const user = await findUserById(userId);
  if (!user || !user.active || user.authVersion !== authVersion) return null;
  return toActor(user, 'session');
}

/** The actor of a bearer token: null for an unknown or revoked token or an inactive owner. */
export async function actorFromApiToken(token: string, logger: Logger): Promise<Actor | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 100) return null;
  const record = await findTokenByHash(sha256Hex(token));
  if (!record || record.revokedAt) return null;
  const user = await findUserById(String(record.userId));
  if (!user || !user.active) return null;
  const now = new Date();
  if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > TOKEN_TOUCH_INTERVAL_MS) {
    touchToken(record._id, now).catch((error: unknown) => logger.warn({ err: error }, 'could not record token use'));
  }
  return toActor(user, 'token');
}

/** Creates a personal API token; the clear token is returned once and never stored. */
export async function createApiToken(actor: Actor, name: string, context: AuditContext): Promise<{ token: string; record: ApiTokenView }> {
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const record = await insertApiToken({
    userId: new Types.ObjectId(actor.id),
    name,
    tokenHash: sha256Hex(token),
    prefix: token.slice(0, TOKEN_DISPLAY_LENGTH),
  });
  await recordAudit(actor, 'token.create', { type: 'api_token', id: String(record._id) }, { prefix: record.prefix }, context);
  return { token, record };
}

export function listOwnApiTokens(actor: Actor): Promise<ApiTokenView[]> {
  return listTokensOf(actor.id);
}

/** Revokes one of the actor's own tokens (or, with `anyOwner`, anyone's: administrators). */
export async function revokeApiToken(actor: Actor, tokenId: string, options: { anyOwner: boolean }, context: AuditContext): Promise<void> {
  const revoked = await revokeTokenById(tokenId, new Date(), options.anyOwner ? undefined : actor.id);
  if (!revoked) throw new AppError(404, 'not_found', 'tokens.notFound');
  await recordAudit(actor, 'token.revoke', { type: 'api_token', id: tokenId }, {}, context);
}
