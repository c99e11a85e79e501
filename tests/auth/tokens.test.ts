// Personal API tokens: shown once, stored hashed, usable as Bearer on /api/v1/*, revocable.
import { createHash } from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearerToken, signIn } from '../helpers/agents';
import { ApiTokenModel } from '../../src/auth/api-token.model';
import { UserModel } from '../../src/auth/user.model';
import { AuditEntryModel } from '../../src/audit/audit.model';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});
afterAll(async () => {
  await testApp.stop();
});

function tokenIn(html: string): string {
  const match = /value="(td_[A-Za-z0-9_-]{43})"/.exec(html);
  if (!match?.[1]) throw new Error('no token shown');
  return match[1];
}

describe('API tokens', () => {
  test('when a token is created, then it is shown once, stored only as its SHA-256, and works as Bearer', async () => {
    const { agent, csrf, user } = await signIn(testApp.app, { role: 'viewer' });
    const created = await agent.post('/account/tokens').type('form').send({ name: 'Báo cáo tuần', _csrf: csrf });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toContain('no-store');
    const token = tokenIn(created.text);

    const stored = await ApiTokenModel.findOne({ userId: user.id }).lean();
    expect(stored?.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored?.prefix).toBe(token.slice(0, 9));

    const list = await agent.get('/account/tokens');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Báo cáo tuần');
    expect(list.text).not.toContain(token);

    const me = await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: user.username, role: 'viewer', via: 'token' });
    expect(me.body.csrfToken).toBeUndefined();
    expect(await AuditEntryModel.countDocuments({ action: 'token.create', actorId: user.id })).toBe(1);
  });

  test('when the token is revoked, then Bearer answers 401 with WWW-Authenticate', async () => {
    const { agent, csrf, user } = await signIn(testApp.app, { role: 'official' });
    const token = tokenIn((await agent.post('/account/tokens').type('form').send({ name: 'temp', _csrf: csrf })).text);
    const record = await ApiTokenModel.findOne({ userId: user.id }).lean();
    const revoke = await agent.post(`/account/tokens/${String(record?._id)}/revoke`).type('form').send({ _csrf: csrf });
    expect(revoke.status).toBe(303);
    const res = await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect(res.body.error.code).toBe('unauthorized');
    expect(await AuditEntryModel.countDocuments({ action: 'token.revoke', targetId: String(record?._id) })).toBe(1);
  });

  test('when the owner is deactivated, then the token answers 401', async () => {
    const { token, user } = await bearerToken({ role: 'official' });
    expect((await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await UserModel.updateOne({ _id: user.id }, { $set: { active: false } });
    expect((await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  test('when the token is unknown or the header malformed, then 401', async () => {
    const app = testApp.app;
    expect((await request(app).get('/api/v1/me').set('Authorization', `Bearer td_${'A'.repeat(43)}`)).status).toBe(401);
    expect((await request(app).get('/api/v1/me').set('Authorization', 'Bearer')).status).toBe(401);
    expect((await request(app).get('/api/v1/me').set('Authorization', 'Basic YWRtaW46eA==')).status).toBe(401);
    expect((await request(app).get('/api/v1/me').set('Authorization', 'Bearer {"$gt":""}')).status).toBe(401);
  });

  test('when a bearer token is sent to a page outside /api/v1, then it does not sign in', async () => {
    const { token } = await bearerToken({ role: 'official' });
    const res = await request(testApp.app).get('/account/tokens').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
  });

  test("when a user tries to revoke someone else's token, then 404 and the token keeps working", async () => {
    const { token, user } = await bearerToken({ role: 'official' });
    const record = await ApiTokenModel.findOne({ userId: user.id }).lean();
    const other = await signIn(testApp.app, { role: 'official' });
    const res = await other.agent.post(`/account/tokens/${String(record?._id)}/revoke`).type('form').send({ _csrf: other.csrf });
    expect(res.status).toBe(404);
    expect((await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  test("when an administrator revokes anyone's token from /admin/tokens, then it stops working", async () => {
    const { token, user } = await bearerToken({ role: 'hotline' });
    const record = await ApiTokenModel.findOne({ userId: user.id }).lean();
    const admin = await signIn(testApp.app, { role: 'admin' });
    const page = await admin.agent.get('/admin/tokens');
    expect(page.status).toBe(200);
    expect(page.text).toContain(user.username);
    expect(page.text).not.toContain(token);
    const res = await admin.agent.post(`/admin/tokens/${String(record?._id)}/revoke`).type('form').send({ _csrf: admin.csrf });
    expect(res.status).toBe(303);
    expect((await request(testApp.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  test('when the token name is empty, then the form answers 400 with a field error and nothing is created', async () => {
    const { agent, csrf, user } = await signIn(testApp.app, { role: 'official' });
    const res = await agent.post('/account/tokens').type('form').send({ name: '   ', _csrf: csrf });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="name-error"');
    expect(await ApiTokenModel.countDocuments({ userId: user.id })).toBe(0);
  });
});
