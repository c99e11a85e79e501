// Sign-in pages (/login, /logout), the signed-in identity (/api/v1/me) and personal API tokens (/account/tokens, /admin/tokens).
import { Router, type Request, type Response } from 'express';
import { parseForm } from '../shared/http/validate';
import { AppError, type FieldErrors } from '../shared/errors';
import { requirePermission } from './permissions';
import { LoginSchema, ObjectIdParamSchema, PasswordChangeSchema, TokenCreateSchema, safeNextPath } from './auth.schema';
import { createApiToken, listOwnApiTokens, revokeApiToken, signIn, signOut } from './auth.service';
import { changeOwnPassword, describeScope, listEveryApiToken } from './users.service';
import { clientIp, currentActor, issueCsrfToken, requireCsrf, sessionCookieOptions, SESSION_COOKIE, type AuthDeps } from './auth.middleware';
import { createLoginThrottle } from './login-throttle';

/** Where a staff member lands after signing in: the account page, which links every area the role may use. */
export function landingPath(_actor: Pick<Actor, 'role'>): string {
  return '/account';
}

function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((error: unknown) => (error ? reject(error) : resolve())));
}

function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error: unknown) => (error ? reject(error) : resolve())));
}

function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((error: unknown) => (error ? reject(error) : resolve())));
}

function validId(id: unknown): string {
  const parsed = ObjectIdParamSchema.safeParse({ id });
  if (!parsed.success) throw new AppError(404, 'not_found', 'tokens.notFound');
  return parsed.data.id;
}

export function authRouter(deps: AuthDeps): Router {
  const router = Router();
  const throttle = createLoginThrottle(deps.config);

  function renderLogin(req: Request, res: Response, status: number, view: { username?: string; next?: string | null; errors?: FieldErrors; message?: string }) {
    res.status(status).set('Cache-Control', 'no-store').render('auth/login', {
      title: req.t('auth.login.title'),
      csrfToken: issueCsrfToken(req),
      username: view.username ?? '',
      next: view.next ?? '',
      errors: view.errors ?? {},
      message: view.message ?? null,
    });
  }

  router.get('/login', (req, res) => {
    const next = safeNextPath(req.query.next);
    if (req.actor) return res.redirect(303, next ?? landingPath(req.actor));
    renderLogin(req, res, 200, { next });
  });

  router.post('/login', requireCsrf, async (req, res) => {
    const form = parseForm(LoginSchema, req.body);
    const rawBody = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNextPath(rawBody.next);
    const username = typeof rawBody.username === 'string' ? rawBody.username.slice(0, 100) : '';
    if (!form.ok) return renderLogin(req, res, 400, { username, next, errors: form.errors, message: req.t('errors.validationFailed') });

    const result = await signIn({ config: deps.config, throttle }, form.data, { ip: clientIp(req) });
    switch (result.kind) {
      case 'invalid':
        return renderLogin(req, res, 401, { username, next, message: req.t('auth.login.invalid') });
      case 'locked':
        res.set('Retry-After', String(result.retryAfterSeconds));
        return renderLogin(req, res, 429, { username, next, message: req.t('auth.login.locked', { minutes: Math.ceil(result.retryAfterSeconds / 60) }) });
      case 'throttled':
        res.set('Retry-After', String(result.retryAfterSeconds));
        return renderLogin(req, res, 429, { username, next, message: req.t('auth.login.throttled', { minutes: Math.ceil(result.retryAfterSeconds / 60) }) });
      case 'signed_in':
        await regenerateSession(req);
        req.session.userId = String(result.user._id);
        req.session.authVersion = result.user.authVersion;
        await saveSession(req);
        return res.redirect(303, next ?? landingPath(result.user));
    }
  });

  router.post('/logout', async (req, res) => {
    if (req.actor?.via === 'session') await signOut(req.actor, { ip: clientIp(req) });
    if (req.session) await destroySession(req);
    res.clearCookie(SESSION_COOKIE, sessionCookieOptions(deps.config));
    res.redirect(303, '/login');
  });

  router.get('/account', requirePermission('tokens:own'), async (req, res) => {
    const account = currentActor(req);
    res.render('auth/account', { title: req.t('auth.account.title'), account, scopeUnits: await describeScope(account) });
  });

  router.get('/api/v1/me', requirePermission('tokens:own'), (req, res) => {
    const actor = currentActor(req);
    res.set('Cache-Control', 'no-store').json({
      id: actor.id,
      username: actor.username,
      displayName: actor.displayName,
      role: actor.role,
      scope: actor.scope,
      via: actor.via,
      ...(actor.via === 'session' ? { csrfToken: issueCsrfToken(req) } : {}),
    });
  });

  async function renderTokens(req: Request, res: Response, status: number, view: { created?: { token: string; name: string }; errors?: FieldErrors; name?: string }) {
    const tokens = await listOwnApiTokens(currentActor(req));
    res.status(status).set('Cache-Control', 'no-store').render('auth/tokens', {
      title: req.t('tokens.title'),
      tokens,
      created: view.created ?? null,
      errors: view.errors ?? {},
      name: view.name ?? '',
    });
  }

  router.get('/account/tokens', requirePermission('tokens:own'), (req, res) => renderTokens(req, res, 200, {}));

  router.post('/account/tokens', requirePermission('tokens:own'), async (req, res) => {
    const form = parseForm(TokenCreateSchema, req.body);
    if (!form.ok) return renderTokens(req, res, 400, { errors: form.errors });
    const { token, record } = await createApiToken(currentActor(req), form.data.name, { ip: clientIp(req) });
    await renderTokens(req, res, 201, { created: { token, name: record.name } });
  });

  router.post('/account/tokens/:id/revoke', requirePermission('tokens:own'), async (req, res) => {
    await revokeApiToken(currentActor(req), validId(req.params.id), { anyOwner: false }, { ip: clientIp(req) });
    res.redirect(303, '/account/tokens');
  });

  router.get('/admin/tokens', requirePermission('users:manage'), async (req, res) => {
    res.set('Cache-Control', 'no-store').render('admin/tokens/index', { title: req.t('tokens.adminTitle'), tokens: await listEveryApiToken() });
  });

  router.post('/admin/tokens/:id/revoke', requirePermission('users:manage'), async (req, res) => {
    await revokeApiToken(currentActor(req), validId(req.params.id), { anyOwner: true }, { ip: clientIp(req) });
    res.redirect(303, '/admin/tokens');
  });

  function renderPassword(req: Request, res: Response, status: number, view: { errors?: FieldErrors; done?: boolean }) {
    res.status(status).set('Cache-Control', 'no-store').render('auth/password', {
      title: req.t('auth.password.title'),
      errors: view.errors ?? {},
      done: view.done ?? false,
    });
  }

  router.get('/account/password', requirePermission('tokens:own'), (req, res) => renderPassword(req, res, 200, {}));

  router.post('/account/password', requirePermission('tokens:own'), async (req, res) => {
    const form = parseForm(PasswordChangeSchema, req.body);
    if (!form.ok) return renderPassword(req, res, 400, { errors: form.errors });
    const outcome = await changeOwnPassword(currentActor(req), form.data, { ip: clientIp(req) });
    if (!outcome.ok) return renderPassword(req, res, 400, { errors: outcome.errors });
    req.session.authVersion = outcome.authVersion;
    await saveSession(req);
    renderPassword(req, res, 200, { done: true });
  });

  return router;
}
