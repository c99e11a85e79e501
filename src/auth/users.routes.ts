// Users administration pages (admin only): /admin/users list, create, edit role and scope, reset password, (de)activate.
import { Router, type Request, type Response } from 'express';
import { AppError, type FieldErrors } from '../shared/errors';
import { parseForm } from '../shared/http/validate';
import { ObjectIdParamSchema, UserCreateSchema, UserUpdateSchema } from './auth.schema';
import { currentActor, clientIp } from './auth.middleware';
import { requirePermission, ROLES } from './permissions';
import { createUser, getUser, listAllUsers, listAssignableUnits, resetPassword, setActive, updateUser } from './users.service';
import type { UserView } from './auth.repository';

interface UserFormValues {
  username: string;
  displayName: string;
  role: string;
  scope: string[];
}

function formValues(body: unknown): UserFormValues {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : '');
  const scope = Array.isArray(raw.scope) ? raw.scope : [raw.scope];
  return {
    username: text(raw.username),
    displayName: text(raw.displayName),
    role: text(raw.role),
    scope: scope.flatMap((code) => (typeof code === 'string' ? code.split(/[\s,;]+/) : [])).filter(Boolean).slice(0, 200),
  };
}

function userId(req: Request): string {
  const parsed = ObjectIdParamSchema.safeParse({ id: req.params.id });
  if (!parsed.success) throw new AppError(404, 'not_found', 'users.notFound');
  return parsed.data.id;
}

/** Form errors from a service (400 or 409 with fields) re-render the form; anything else propagates. */
function formErrorsOf(error: unknown): { status: number; errors: FieldErrors } | null {
  if (error instanceof AppError && error.fields && (error.status === 400 || error.status === 409)) return { status: error.status, errors: error.fields };
  return null;
}

export function usersRouter(): Router {
  const router = Router();
  router.use('/admin/users', requirePermission('users:manage'));

  async function renderForm(req: Request, res: Response, status: number, view: { user: UserView | null; values: UserFormValues; errors: FieldErrors }) {
    res.status(status).render('admin/users/form', {
      title: req.t(view.user ? 'users.editTitle' : 'users.newTitle'),
      editing: view.user,
      values: view.values,
      errors: view.errors,
      roles: ROLES,
      units: await listAssignableUnits(),
    });
  }

  function renderSecret(req: Request, res: Response, status: number, user: UserView, temporaryPassword: string, created: boolean) {
    res.status(status).set('Cache-Control', 'no-store').render('admin/users/password', {
      title: req.t(created ? 'users.createdTitle' : 'users.resetTitle'),
      account: user,
      temporaryPassword,
      created,
    });
  }

  router.get('/admin/users', async (req, res) => {
    res.render('admin/users/index', { title: req.t('users.title'), users: await listAllUsers(), currentUserId: currentActor(req).id });
  });

  router.get('/admin/users/new', (req, res) =>
    renderForm(req, res, 200, { user: null, values: { username: '', displayName: '', role: 'official', scope: [] }, errors: {} }),
  );

  router.post('/admin/users', async (req, res) => {
    const values = formValues(req.body);
    const form = parseForm(UserCreateSchema, req.body);
    if (!form.ok) return renderForm(req, res, 400, { user: null, values, errors: form.errors });
    try {
      const { user, temporaryPassword } = await createUser(currentActor(req), form.data, { ip: clientIp(req) });
      renderSecret(req, res, 201, user, temporaryPassword, true);
    } catch (error) {
      const failed = formErrorsOf(error);
      if (!failed) throw error;
      await renderForm(req, res, failed.status, { user: null, values, errors: failed.errors });
    }
  });

  router.get('/admin/users/:id', async (req, res) => {
    const user = await getUser(userId(req));
    await renderForm(req, res, 200, { user, values: { username: user.username, displayName: user.displayName, role: user.role, scope: user.scope }, errors: {} });
  });

  router.post('/admin/users/:id', async (req, res) => {
    const id = userId(req);
    const user = await getUser(id);
    const values = { ...formValues(req.body), username: user.username };
    const form = parseForm(UserUpdateSchema, req.body);
    if (!form.ok) return renderForm(req, res, 400, { user, values, errors: form.errors });
    try {
      await updateUser(currentActor(req), id, form.data, { ip: clientIp(req) });
      res.redirect(303, '/admin/users');
    } catch (error) {
      const failed = formErrorsOf(error);
      if (!failed) throw error;
      await renderForm(req, res, failed.status, { user, values, errors: failed.errors });
    }
  });

  router.post('/admin/users/:id/password', async (req, res) => {
    const { user, temporaryPassword } = await resetPassword(currentActor(req), userId(req), { ip: clientIp(req) });
    renderSecret(req, res, 200, user, temporaryPassword, false);
  });

  router.post('/admin/users/:id/deactivate', async (req, res) => {
    await setActive(currentActor(req), userId(req), false, { ip: clientIp(req) });
    res.redirect(303, '/admin/users');
  });

  router.post('/admin/users/:id/activate', async (req, res) => {
    await setActive(currentActor(req), userId(req), true, { ip: clientIp(req) });
    res.redirect(303, '/admin/users');
  });

  return router;
}
