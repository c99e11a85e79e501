// Sessions in the database, the request's actor (session or bearer token), CSRF checks and view locals.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import MongoStore from 'connect-mongo';
import { csrfSync } from 'csrf-sync';
import mongoose from 'mongoose';
import type { MongoClient } from 'mongodb';
import type { Config } from '../config';
import { configureAudit } from '../audit';
import { AppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { actorFromApiToken, actorFromSession } from './auth.service';
import { deriveKey } from './keys';
import { roleCan, type Permission } from './permissions';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    authVersion?: number;
  }
}

export interface AuthDeps {
  config: Config;
  logger: Logger;
}

export const SESSION_COOKIE = 'tdsid';

/** Citizen-facing paths: no session is loaded and no CSRF token is asked for. */
const PUBLIC_PATHS = [/^\/f\//, /^\/k\//, /^\/track\//, /^\/api\/v1\/feedback\/?$/, /^\/api\/v1\/track\//, /^\/static\//, /^\/healthz$/, /^\/readyz$/];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((pattern) => pattern.test(path));
}

function isApiPath(path: string): boolean {
  return path.startsWith('/api/v1/');
}

const csrf = csrfSync({
  size: 32,
  getTokenFromRequest: (req) => {
    const body: unknown = req.body;
    if (body && typeof body === 'object' && typeof (body as Record<string, unknown>)._csrf === 'string') {
      return (body as Record<string, string>)._csrf;
    }
    const header = req.headers['x-csrf-token'];
    return typeof header === 'string' ? header : undefined;
  },
});

/** The session's CSRF token (created on first use); forms send it as `_csrf`, fetch() as `x-csrf-token`. */
export function issueCsrfToken(req: Request): string {
  return csrf.generateToken(req);
}

/** The signed-in actor of a route guarded by requirePermission(); 401 if there is none. */
export function currentActor(req: Request): Actor {
  if (!req.actor) throw new AppError(401, 'unauthorized', 'errors.unauthorized');
  return req.actor;
}

/** The client's address as Express sees it (after TRUST_PROXY). */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function csrfRejected(): AppError {
  return new AppError(403, 'csrf_invalid', 'auth.csrfInvalid');
}

/** Checks the CSRF token of a state-changing request and removes `_csrf` from the body before validation. */
export function requireCsrf(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  if (!req.session || !csrf.isRequestValid(req)) return next(csrfRejected());
  if (req.body && typeof req.body === 'object') delete (req.body as Record<string, unknown>)._csrf;
  next();
}

function connectedClient(): Promise<MongoClient> {
  const connection = mongoose.connection;
  if (connection.readyState === 1) return Promise.resolve(connection.getClient());
  return new Promise((resolve) => connection.once('connected', () => resolve(connection.getClient())));
}

function unauthorizedToken(): AppError {
  return new AppError(401, 'unauthorized', 'auth.invalidToken', {}, undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

/** Session cookie options, also used to clear the cookie at sign-out. */
export function sessionCookieOptions(config: Config) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: config.cookies.secure, path: '/' };
}

/** Mount after the body parsers and before the component routers: session, req.actor, CSRF, view locals. */
export function authMiddleware(deps: AuthDeps): RequestHandler[] {
  const { config, logger } = deps;
  configureAudit({ secret: config.secret });
  const ttlSeconds = config.session.ttlHours * 3600;
  const store = MongoStore.create({ clientPromise: connectedClient(), collectionName: 'sessions', ttl: ttlSeconds, touchAfter: 60 });
  const sessions = session({
    name: SESSION_COOKIE,
    secret: deriveKey(config.secret, 'session-cookie').toString('base64url'),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { ...sessionCookieOptions(config), maxAge: ttlSeconds * 1000 },
  });

  const withSession: RequestHandler = (req, res, next) => {
    if (isPublicPath(req.path)) return next();
    if (isApiPath(req.path) && req.headers.authorization !== undefined) return next();
    sessions(req, res, next);
  };

  const resolveActor: RequestHandler = async (req, _res, next) => {
    if (isPublicPath(req.path)) return next();
    const authorization = req.headers.authorization;
    if (isApiPath(req.path) && authorization !== undefined) {
      const match = /^Bearer +([A-Za-z0-9_-]+)$/.exec(authorization);
      const actor = match ? await actorFromApiToken(match[1] ?? '', logger) : null;
      if (!actor) throw unauthorizedToken();
      req.actor = actor;
      return next();
    }
    const userId = req.session?.userId;
    if (userId) {
      const actor = await actorFromSession(userId, req.session.authVersion);
      if (actor) req.actor = actor;
      else {
        delete req.session.userId;
        delete req.session.authVersion;
      }
    }
    next();
  };

  const csrfForSessions: RequestHandler = (req, res, next) => {
    if (req.actor?.via !== 'session') return next();
    requireCsrf(req, res, next);
  };

  const exposeToViews: RequestHandler = (req, res, next) => {
    const actor = req.actor;
    res.locals.user = actor;
    res.locals.can = (permission: Permission) => (actor ? roleCan(actor.role, permission) : false);
    if (actor?.via === 'session') res.locals.csrfToken = issueCsrfToken(req);
    next();
  };

  return [withSession, resolveActor, csrfForSessions, exposeToViews];
}
