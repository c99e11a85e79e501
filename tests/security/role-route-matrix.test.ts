// Every role against every route: anonymous → 401 or the login page, no permission → 403,
// out of scope → 404 (or 403), in scope → allowed. A route missing from the table fails the suite.
import type { Express } from 'express';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser, signIn, type SignedIn } from '../helpers/agents';
import { roleCan, type Permission, type Role } from '../../src/auth/permissions';
import { CounterModel, OfficeModel } from '../../src/units/units.model';
import { seedDemoUnits } from '../../src/units';
import { createApiToken, toActor } from '../../src/auth/auth.service';
import { findUserById } from '../../src/auth/auth.repository';

type Method = 'GET' | 'POST' | 'DELETE';
type Access = 'public' | Permission;
interface Ids {
  unit: string;
  office: string;
  counter: string;
  feedback: string;
  /** A personal API token of the signed-in user. */
  token: string;
}
interface RouteCase {
  method: Method;
  route: string;
  access: Access;
  /** Whether the route addresses one unit's data (then out-of-scope ids must be refused). */
  scoped: boolean;
  path: (ids: Ids) => string;
  /** A valid body, so that a refusal cannot come from validation instead of scope. */
  body?: Record<string, string>;
}

const IN_SCOPE_UNIT = '09817'; // Xã Ô Diên
const OUT_OF_SCOPE_UNIT = '09784'; // Xã Đan Phượng

const otherUserId = { value: '' };

const cases: RouteCase[] = [
  { method: 'GET', route: '/account', access: 'tokens:own', scoped: false, path: () => '/account' },
  { method: 'GET', route: '/api/v1/me', access: 'tokens:own', scoped: false, path: () => '/api/v1/me' },
  { method: 'GET', route: '/account/tokens', access: 'tokens:own', scoped: false, path: () => '/account/tokens' },
  { method: 'POST', route: '/account/tokens', access: 'tokens:own', scoped: false, path: () => '/account/tokens' },
  { method: 'POST', route: '/account/tokens/:id/revoke', access: 'tokens:own', scoped: false, path: (ids) => `/account/tokens/${ids.token}/revoke` },
  { method: 'GET', route: '/account/password', access: 'tokens:own', scoped: false, path: () => '/account/password' },
  { method: 'POST', route: '/account/password', access: 'tokens:own', scoped: false, path: () => '/account/password' },
  { method: 'GET', route: '/admin/tokens', access: 'users:manage', scoped: false, path: () => '/admin/tokens' },
  { method: 'POST', route: '/admin/tokens/:id/revoke', access: 'users:manage', scoped: false, path: (ids) => `/admin/tokens/${ids.token}/revoke` },
  { method: 'GET', route: '/admin/users', access: 'users:manage', scoped: false, path: () => '/admin/users' },
  { method: 'GET', route: '/admin/users/new', access: 'users:manage', scoped: false, path: () => '/admin/users/new' },
  { method: 'POST', route: '/admin/users', access: 'users:manage', scoped: false, path: () => '/admin/users' },
  { method: 'GET', route: '/admin/users/:id', access: 'users:manage', scoped: false, path: () => `/admin/users/${otherUserId.value}` },
  { method: 'POST', route: '/admin/users/:id', access: 'users:manage', scoped: false, path: () => `/admin/users/${otherUserId.value}` },
  { method: 'POST', route: '/admin/users/:id/password', access: 'users:manage', scoped: false, path: () => `/admin/users/${otherUserId.value}/password` },
  { method: 'POST', route: '/admin/users/:id/deactivate', access: 'users:manage', scoped: false, path: () => `/admin/users/${otherUserId.value}/deactivate` },
  { method: 'POST', route: '/admin/users/:id/activate', access: 'users:manage', scoped: false, path: () => `/admin/users/${otherUserId.value}/activate` },
  { method: 'GET', route: '/admin/audit', access: 'audit:read', scoped: false, path: () => '/admin/audit' },
  { method: 'GET', route: '/api/v1/units', access: 'units:read', scoped: false, path: () => '/api/v1/units' },
  { method: 'GET', route: '/api/v1/units/:code/counters', access: 'units:read', scoped: true, path: (ids) => `/api/v1/units/${ids.unit}/counters` },
  { method: 'GET', route: '/admin/units', access: 'units:read', scoped: false, path: () => '/admin/units' },
  { method: 'GET', route: '/admin/units/:code', access: 'units:read', scoped: true, path: (ids) => `/admin/units/${ids.unit}` },
  { method: 'POST', route: '/admin/units/:code/rename', access: 'units:manage', scoped: true, path: (ids) => `/admin/units/${ids.unit}/rename` },
  { method: 'POST', route: '/admin/units/:code/merge', access: 'units:manage', scoped: true, path: (ids) => `/admin/units/${ids.unit}/merge` },
  { method: 'GET', route: '/admin/units/:code/offices/new', access: 'offices:manage', scoped: true, path: (ids) => `/admin/units/${ids.unit}/offices/new` },
  { method: 'POST', route: '/admin/units/:code/offices', access: 'offices:manage', scoped: true, path: (ids) => `/admin/units/${ids.unit}/offices` },
  { method: 'GET', route: '/admin/offices/:id/edit', access: 'offices:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}/edit` },
  { method: 'POST', route: '/admin/offices/:id', access: 'offices:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}` },
  { method: 'POST', route: '/admin/offices/:id/deactivate', access: 'offices:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}/deactivate` },
  { method: 'POST', route: '/admin/offices/:id/activate', access: 'offices:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}/activate` },
  { method: 'GET', route: '/admin/offices/:id/counters/new', access: 'counters:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}/counters/new` },
  { method: 'POST', route: '/admin/offices/:id/counters', access: 'counters:manage', scoped: true, path: (ids) => `/admin/offices/${ids.office}/counters` },
  { method: 'GET', route: '/admin/counters/:id/edit', access: 'counters:manage', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/edit` },
  { method: 'POST', route: '/admin/counters/:id', access: 'counters:manage', scoped: true, path: (ids) => `/admin/counters/${ids.counter}` },
  { method: 'POST', route: '/admin/counters/:id/deactivate', access: 'counters:manage', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/deactivate` },
  { method: 'POST', route: '/admin/counters/:id/activate', access: 'counters:manage', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/activate` },
  { method: 'POST', route: '/admin/counters/:id/rotate-token', access: 'counters:manage', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/rotate-token` },
  { method: 'GET', route: '/admin/counters/:id/qr.png', access: 'qr:print', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/qr.png` },
  { method: 'GET', route: '/admin/counters/:id/qr.svg', access: 'qr:print', scoped: true, path: (ids) => `/admin/counters/${ids.counter}/qr.svg` },
  { method: 'GET', route: '/admin/units/:code/posters.pdf', access: 'qr:print', scoped: true, path: (ids) => `/admin/units/${ids.unit}/posters.pdf` },
  { method: 'POST', route: '/api/v1/feedback/:id/spam', access: 'feedback:moderate', scoped: true, path: (ids) => `/api/v1/feedback/${ids.feedback}/spam`, body: { reason: 'matrix' } },
  { method: 'DELETE', route: '/api/v1/feedback/:id/spam', access: 'feedback:moderate', scoped: true, path: (ids) => `/api/v1/feedback/${ids.feedback}/spam` },
  { method: 'GET', route: '/admin/feedback', access: 'feedback:moderate', scoped: false, path: () => '/admin/feedback' },
  { method: 'POST', route: '/admin/feedback/:id/spam', access: 'feedback:moderate', scoped: true, path: (ids) => `/admin/feedback/${ids.feedback}/spam`, body: { reason: 'matrix' } },
  { method: 'POST', route: '/admin/feedback/:id/unspam', access: 'feedback:moderate', scoped: true, path: (ids) => `/admin/feedback/${ids.feedback}/unspam` },
];

/** Routes anyone may use; each has its own tests in its component. */
const PUBLIC_ROUTES = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /',
  'GET /login',
  'POST /login',
  'POST /logout',
  'GET /f/:qrToken',
  'POST /f/:qrToken',
  'GET /f/:qrToken/thanks',
  'GET /f/:qrToken/more',
  'POST /f/:qrToken/more',
  'GET /k/:qrToken',
  'POST /k/:qrToken',
  'GET /k/:qrToken/thanks',
  'GET /k/:qrToken/more',
  'POST /k/:qrToken/more',
  'POST /api/v1/feedback',
]);

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function routeTable(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${layer.route.path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

function send(agent: SignedIn['agent'] | ReturnType<typeof request>, c: RouteCase, ids: Ids, csrf?: string) {
  const path = c.path(ids);
  const req = c.method === 'GET' ? agent.get(path) : c.method === 'POST' ? agent.post(path) : agent.delete(path);
  req.set('Accept', path.startsWith('/api/') ? 'application/json' : 'text/html');
  if (csrf && c.method !== 'GET') req.set('x-csrf-token', csrf);
  if (c.body) return path.startsWith('/api/') ? req.send(c.body) : req.type('form').send(c.body);
  return req;
}

/** A fresh token of the signed-in user for each check, so revoking one does not disturb the next. */
async function withOwnToken(ids: Omit<Ids, 'token'>, signedIn?: SignedIn): Promise<Ids> {
  if (!signedIn) return { ...ids, token: '000000000000000000000000' };
  const record = await findUserById(signedIn.user.id);
  if (!record) throw new Error('user vanished');
  const { record: token } = await createApiToken(toActor(record, 'session'), 'matrix', {});
  return { ...ids, token: String(token._id) };
}

const ALLOWED_WHEN_PERMITTED = [200, 201, 204, 303, 400, 409, 422];

let testApp: TestApp;
let inScope: Omit<Ids, 'token'>;
let outOfScope: Omit<Ids, 'token'>;
const agents = new Map<Role, SignedIn>();

async function idsOf(unit: string): Promise<Omit<Ids, 'token'>> {
  const office = await OfficeModel.findOne({ unitCode: unit }).lean();
  const counter = await CounterModel.findOne({ unitCode: unit, active: true }).lean();
  if (!office || !counter) throw new Error(`demo unit ${unit} has no office or counter`);
  const vote = await request(testApp.app)
    .post('/api/v1/feedback')
    .set('Idempotency-Key', `matrix-${unit}`)
    .send({ qrToken: counter.qrToken, quick: 'satisfied' });
  if (vote.status !== 201) throw new Error(`could not record a vote (${vote.status})`);
  return { unit, office: String(office._id), counter: String(counter._id), feedback: String(vote.body.id) };
}

beforeAll(async () => {
  testApp = await startTestApp();
  await seedDemoUnits();
  inScope = await idsOf(IN_SCOPE_UNIT);
  outOfScope = await idsOf(OUT_OF_SCOPE_UNIT);
  otherUserId.value = (await createUser({ role: 'viewer', scope: [IN_SCOPE_UNIT] })).id;
  for (const role of ['admin', 'official', 'hotline', 'viewer'] as const) {
    agents.set(role, await signIn(testApp.app, { role, scope: role === 'admin' ? [] : [IN_SCOPE_UNIT] }));
  }
}, 120_000);

afterAll(async () => {
  await testApp.stop();
});

test('every route of the app is either public or in the matrix', () => {
  const known = new Set([...PUBLIC_ROUTES, ...cases.map((c) => `${c.method} ${c.route}`)]);
  const unknown = routeTable(testApp.app).filter((route) => !known.has(route));
  expect(unknown).toEqual([]);
});

describe('anonymous', () => {
  test.each(cases.map((c) => [`${c.method} ${c.route}`, c] as const))('%s is refused', async (_name, c) => {
    const res = await send(request(testApp.app), c, await withOwnToken(inScope));
    if (c.method === 'GET' && !c.route.startsWith('/api/')) {
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/login\?next=/);
    } else {
      expect([401, 403]).toContain(res.status);
    }
  });
});

describe.each(['admin', 'official', 'hotline', 'viewer'] as const)('%s scoped to Xã Ô Diên', (role) => {
  const staffCases = cases.map((c) => [`${c.method} ${c.route}`, c] as const);

  test.each(staffCases)('%s', async (_name, c) => {
    const signedIn = agents.get(role);
    if (!signedIn) throw new Error('not signed in');
    if (c.access === 'public') return;
    const permitted = roleCan(role, c.access);
    const inside = await send(signedIn.agent, c, await withOwnToken(inScope, signedIn), signedIn.csrf);
    if (!permitted) {
      expect(inside.status).toBe(403);
      return;
    }
    expect(ALLOWED_WHEN_PERMITTED).toContain(inside.status);
    if (c.method === 'GET') expect(inside.status).toBe(200);
    if (c.scoped && role !== 'admin') {
      const outside = await send(signedIn.agent, c, await withOwnToken(outOfScope, signedIn), signedIn.csrf);
      expect([403, 404]).toContain(outside.status);
    }
  });
});
