// Users administration: create, change role and scope, reset password, deactivate; every change is audited.
import { listUnitsInScope, type Unit } from '../units';
import { recordAudit, type AuditContext } from '../audit';
import { AppError, type FieldErrors } from '../shared/errors';
import { ALL_UNITS } from '../shared/scope';
import {
  findUserById,
  findUserForLogin,
  insertUser,
  listAllTokens,
  listUsers,
  setPasswordHash,
  setUserActive,
  updateUser as updateUserRecord,
  type ApiTokenWithOwner,
  type UserView,
} from './auth.repository';
import type { PasswordChangeInput, UserCreateInput, UserUpdateInput } from './auth.schema';
import { generateTemporaryPassword, hashPassword, verifyPassword } from './password';

function invalidForm(fields: FieldErrors): AppError {
  return new AppError(400, 'validation_failed', 'errors.validationFailed', {}, fields);
}

function userNotFound(): AppError {
  return new AppError(404, 'not_found', 'users.notFound');
}

/** Units that can be granted as scope: the current tree (no pre-2025 units). */
export function listAssignableUnits(): Promise<Unit[]> {
  return listUnitsInScope(ALL_UNITS, { includeLegacy: false });
}

/** Field errors for a scope: required for every role but admin, and every code must be a current unit. */
async function scopeErrors(role: UserCreateInput['role'], scope: string[]): Promise<FieldErrors> {
  if (role === 'admin') return {};
  if (scope.length === 0) return { scope: 'users.errors.scopeRequired' };
  const known = new Set((await listAssignableUnits()).map((unit) => unit.code));
  return scope.every((code) => known.has(code)) ? {} : { scope: 'users.errors.unknownUnit' };
}

/** The names of the units in an actor's scope, for display (codes that are no longer current are shown as codes). */
export async function describeScope(actor: Actor): Promise<string[]> {
  if (actor.scope.kind === 'all') return [];
  const names = new Map((await listAssignableUnits()).map((unit) => [unit.code, `${unit.name} (${unit.code})`]));
  return actor.scope.codes.map((code) => names.get(code) ?? code);
}

export function listAllUsers(): Promise<UserView[]> {
  return listUsers();
}

export async function getUser(id: string): Promise<UserView> {
  const user = await findUserById(id);
  if (!user) throw userNotFound();
  return user;
}

/** Creates an account with a generated temporary password, returned once. */
export async function createUser(actor: Actor, input: UserCreateInput, context: AuditContext): Promise<{ user: UserView; temporaryPassword: string }> {
  const fields = await scopeErrors(input.role, input.scope);
  if (Object.keys(fields).length) throw invalidForm(fields);
  const temporaryPassword = generateTemporaryPassword();
  let user: UserView;
  try {
    user = await insertUser({
      username: input.username,
      displayName: input.displayName,
      role: input.role,
      scope: input.role === 'admin' ? [] : input.scope,
      passwordHash: await hashPassword(temporaryPassword),
    });
  } catch (error) {
    if (error instanceof AppError && error.status === 409) {
      throw new AppError(409, 'conflict', 'errors.validationFailed', {}, { username: 'users.errors.usernameTaken' });
    }
    throw error;
  }
  await recordAudit(actor, 'user.create', { type: 'user', id: String(user._id) }, { username: user.username, role: user.role, scope: user.scope }, context);
  return { user, temporaryPassword };
}

/** Changes display name, role and scope; administrators cannot change their own role. */
export async function updateUser(actor: Actor, id: string, input: UserUpdateInput, context: AuditContext): Promise<UserView> {
  const before = await getUser(id);
  if (before._id.toString() === actor.id && input.role !== before.role) throw invalidForm({ role: 'users.errors.ownRole' });
  const fields = await scopeErrors(input.role, input.scope);
  if (Object.keys(fields).length) throw invalidForm(fields);
  const scope = input.role === 'admin' ? [] : input.scope;
  const updated = await updateUserRecord(id, { displayName: input.displayName, role: input.role, scope });
  if (!updated) throw userNotFound();
  await recordAudit(
    actor,
    'user.update',
    { type: 'user', id },
    { username: updated.username, roleBefore: before.role, role: updated.role, scopeBefore: before.scope, scope: updated.scope },
    context,
  );
  return updated;
}

/** Sets a generated temporary password (returned once), clears a lockout and ends the user's sessions. */
export async function resetPassword(actor: Actor, id: string, context: AuditContext): Promise<{ user: UserView; temporaryPassword: string }> {
  const user = await getUser(id);
  const temporaryPassword = generateTemporaryPassword();
  if (!(await setPasswordHash(id, await hashPassword(temporaryPassword)))) throw userNotFound();
  await recordAudit(actor, 'user.password_reset', { type: 'user', id }, { username: user.username }, context);
  return { user, temporaryPassword };
}

/** Deactivates (ending its sessions and tokens' use) or reactivates an account; never one's own. */
export async function setActive(actor: Actor, id: string, active: boolean, context: AuditContext): Promise<UserView> {
  if (id === actor.id && !active) throw new AppError(409, 'conflict', 'users.errors.deactivateSelf');
  const updated = await setUserActive(id, active);
  if (!updated) throw userNotFound();
  await recordAudit(actor, active ? 'user.reactivate' : 'user.deactivate', { type: 'user', id }, { username: updated.username }, context);
  return updated;
}

export type PasswordChangeOutcome = { ok: true; authVersion: number } | { ok: false; errors: FieldErrors };

/** Changes one's own password after checking the current one; other sessions of the user end. */
export async function changeOwnPassword(actor: Actor, input: PasswordChangeInput, context: AuditContext): Promise<PasswordChangeOutcome> {
  if (input.newPassword !== input.confirmPassword) return { ok: false, errors: { confirmPassword: 'auth.password.mismatch' } };
  const user = await findUserForLogin(actor.username);
  if (!user || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    return { ok: false, errors: { currentPassword: 'auth.password.wrongCurrent' } };
  }
  await setPasswordHash(actor.id, await hashPassword(input.newPassword));
  await recordAudit(actor, 'user.password_change', { type: 'user', id: actor.id }, {}, context);
  return { ok: true, authVersion: user.authVersion + 1 };
}

export function listEveryApiToken(): Promise<ApiTokenWithOwner[]> {
  return listAllTokens();
}
