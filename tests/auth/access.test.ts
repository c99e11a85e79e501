// Role × route matrix for the auth, users, tokens and audit routes: anonymous → login or 401, wrong role → 403, right role → 200.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser, signIn, type SignedIn } from '../helpers/agents';
import { seedDemoUnits } from '../../src/units';
import type { Role } from '../../src/auth/permissions';

let testApp: TestApp;
const agents = new Map<Role, SignedIn>();
let someUserId = '';

beforeAll(async () => {
  testApp = await startTestApp();
  await seedDemoUnits({});
  for (const role of ['admin', 'official', 'hotline', 'viewer'] as const) {
    agents.set(role, await signIn(testApp.app, { role, scope: role === 'admin' ? [] : ['09817'] }));
  }
  someUserId = (await createUser({ role: 'viewer' })).id;
});
afterAll(async () => {
  await testApp.stop();
});

function signedIn(role: Role): SignedIn {
  const found = agents.get(role);
  if (!found) throw new Error(`no agent for ${role}`);
  return found;
}

const ADMIN_PAGES = ['/admin/users', '/admin/users/new', () => `/admin/users/${someUserId}`, '/admin/tokens', '/admin/audit'];
const STAFF_PAGES = ['/account', '/account/tokens', '/account/password'];
const ADMIN_POSTS = ['/admin/users', () => `/admin/users/${someUserId}`, () => `/admin/users/${someUserId}/password`, () => `/admin/users/${someUserId}/deactivate`, () => `/admin/users/${someUserId}/activate`, '/admin/tokens/0123456789abcdef01234567/revoke'];
const path = (entry: string | (() => string)) => (typeof entry === 'string' ? entry : entry());

describe('anonymous', () => {
  test.each([...ADMIN_PAGES, ...STAFF_PAGES].map((entry) => [entry]))('when anonymous opens %p, then it is sent to /login with next', async (entry) => {
    const target = path(entry);
    const res = await request(testApp.app).get(target);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(target)}`);
  });

  test('when anonymous calls /api/v1/me, then 401 JSON with WWW-Authenticate', async () => {
    const res = await request(testApp.app).get('/api/v1/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body.error.code).toBe('unauthorized');
  });

  test.each(ADMIN_POSTS.map((entry) => [entry]))('when anonymous posts to %p, then 401', async (entry) => {
    const res = await request(testApp.app).post(path(entry)).type('form').send({});
    expect(res.status).toBe(401);
  });

  test('when anonymous opens /login, then the form renders with a CSRF field', async () => {
    const res = await request(testApp.app).get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/name="_csrf" value="[0-9a-f]{32,}"/);
  });
});

describe.each(['official', 'hotline', 'viewer'] as const)('%s', (role) => {
  test.each(ADMIN_PAGES.map((entry) => [entry]))('when opening admin page %p, then 403', async (entry) => {
    expect((await signedIn(role).agent.get(path(entry))).status).toBe(403);
  });

  test.each(ADMIN_POSTS.map((entry) => [entry]))('when posting to admin route %p with a valid CSRF token, then 403', async (entry) => {
    const { agent, csrf } = signedIn(role);
    expect((await agent.post(path(entry)).type('form').send({ _csrf: csrf })).status).toBe(403);
  });

  test.each(STAFF_PAGES.map((entry) => [entry]))('when opening own page %p, then 200', async (entry) => {
    expect((await signedIn(role).agent.get(path(entry))).status).toBe(200);
  });

  test('when the nav is rendered, then it shows the permitted links only and a sign-out form', async () => {
    const res = await signedIn(role).agent.get('/account/tokens');
    expect(res.text).not.toContain('href="/admin/users"');
    expect(res.text).not.toContain('href="/admin/audit"');
    expect(res.text).toContain('action="/logout"');
  });
});

describe('admin', () => {
  test.each([...ADMIN_PAGES, ...STAFF_PAGES].map((entry) => [entry]))('when opening %p, then 200', async (entry) => {
    expect((await signedIn('admin').agent.get(path(entry))).status).toBe(200);
  });

  test('when the nav is rendered, then it links the admin pages', async () => {
    const res = await signedIn('admin').agent.get('/account/tokens');
    expect(res.text).toContain('href="/admin/users"');
    expect(res.text).toContain('href="/admin/audit"');
  });
});
