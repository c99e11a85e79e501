// What other components may import from auth: guards, roles, the middleware, routers and the demo seed.
export { requirePermission, roleCan, ROLES, PERMISSIONS, type Role, type Permission } from './permissions';
export { authMiddleware, currentActor, clientIp, issueCsrfToken, isPublicPath, SESSION_COOKIE, type AuthDeps } from './auth.middleware';
export { authRouter, landingPath } from './auth.routes';
export { usersRouter } from './users.routes';
export { seedDemoUsers, DEMO_USERS } from './auth.seed';
export { deriveKey, keyedHash } from './keys';
export { toActor } from './auth.service';
