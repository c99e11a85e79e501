// Roles and what each may do; requirePermission() guards routes (401 when anonymous, 403 when not allowed).
import type { NextFunction, Request, Response } from 'express';
import { AppError, forbidden } from '../shared/errors';
import { wantsJson } from '../shared/http/error-handler';

export const ROLES = ['admin', 'official', 'hotline', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'units:read',
  'units:manage',
  'offices:manage',
  'counters:manage',
  'qr:print',
  'indices:read',
  'feedback:read',
  'feedback:moderate',
  'complaints:read',
  'complaints:triage',
  'users:manage',
  'holidays:manage',
  'audit:read',
  'tokens:own',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  official: [
    'units:read',
    'offices:manage',
    'counters:manage',
    'qr:print',
    'indices:read',
    'feedback:read',
    'feedback:moderate',
    'complaints:read',
    'tokens:own',
  ],
  hotline: ['units:read', 'feedback:read', 'complaints:read', 'complaints:triage', 'tokens:own'],
  viewer: ['units:read', 'indices:read', 'tokens:own'],
};

export function roleCan(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Route guard: anonymous → 401 (or the login page for browsers), signed in without the permission → 403. */
export function requirePermission(permission: Permission) {
  return (req: Request, res: Response, next: NextFunction) => {
    const actor = req.actor;
    if (!actor) {
      if (!wantsJson(req) && req.method === 'GET') {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      next(new AppError(401, 'unauthorized', 'errors.unauthorized', {}, undefined, { 'WWW-Authenticate': 'Bearer' }));
      return;
    }
    if (!roleCan(actor.role, permission)) {
      next(forbidden());
      return;
    }
    next();
  };
}
