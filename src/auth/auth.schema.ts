// zod schemas for sign-in, API tokens and the users administration forms, with the types inferred from them.
import { z } from 'zod';
import { ROLES } from './permissions';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,39}$/;
export const PASSWORD_MIN_LENGTH = 10;
const UNIT_CODE = /^\d{2}(\d{1}|\d{3})?$/;

/** `next` after sign-in: only a local path, never another site. */
export function safeNextPath(next: unknown): string | null {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\\]/.test(next)) return null;
  const url = new URL(next, 'http://local.invalid');
  if (url.origin !== 'http://local.invalid') return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

export const LoginSchema = z
  .object({
    username: z.string().trim().toLowerCase().min(1).max(100),
    password: z.string().min(1).max(200),
    next: z.string().max(500).optional(),
  })
  .strict();
export type LoginInput = z.infer<typeof LoginSchema>;

export const TokenCreateSchema = z.object({ name: z.string().trim().min(1).max(80) }).strict();
export type TokenCreateInput = z.infer<typeof TokenCreateSchema>;

/** Unit codes typed or selected in the form: one field repeated, or one comma/space separated text. */
const scopeField = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => {
    const parts = (Array.isArray(value) ? value : [value ?? '']).flatMap((part) => part.split(/[\s,;]+/));
    return [...new Set(parts.map((part) => part.trim()).filter(Boolean))];
  })
  .pipe(z.array(z.string().regex(UNIT_CODE)).max(200));

const displayName = z.string().trim().min(1).max(100);
const role = z.enum(ROLES);

export const UserCreateSchema = z
  .object({
    username: z.string().trim().toLowerCase().regex(USERNAME_PATTERN),
    displayName,
    role,
    scope: scopeField,
  })
  .strict();
export type UserCreateInput = z.infer<typeof UserCreateSchema>;

export const UserUpdateSchema = z
  .object({ displayName, role, scope: scopeField })
  .strict();
export type UserUpdateInput = z.infer<typeof UserUpdateSchema>;

export const PasswordChangeSchema = z
  .object({
    currentPassword: z.string().min(1).max(200),
    newPassword: z.string().min(PASSWORD_MIN_LENGTH).max(200),
    confirmPassword: z.string().max(200),
  })
  .strict();
export type PasswordChangeInput = z.infer<typeof PasswordChangeSchema>;

export const ObjectIdParamSchema = z.object({ id: z.string().regex(/^[a-f0-9]{24}$/) }).strict();
