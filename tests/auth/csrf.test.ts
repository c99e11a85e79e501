// CSRF: every cookie-authenticated state-changing request needs the session's token; bearer and public requests do not.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearerToken, signIn } from '../helpers/agents';
import { ApiTokenModel } from '../../src/auth/api-token.model';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});
afterAll(async () => {
  await testApp.stop();
});

describe('CSRF', () => {
  test('when a signed-in form post has no token, then it answers 403 with a translated message and writes nothing', async () => {
    const { agent, user } = await signIn(testApp.app, { role: 'official' });
    const res = await agent.post('/account/tokens').type('form').send({ name: 'no token' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Biểu mẫu đã hết hạn hoặc không hợp lệ.');
    expect(await ApiTokenModel.countDocuments({ userId: user.id })).toBe(0);
  });

  test('when the token is wrong, then it answers 403 (in English with lang=en)', async () => {
    const { agent, user } = await signIn(testApp.app, { role: 'official' });
    const res = await agent.post('/account/tokens?lang=en').type('form').send({ name: 'wrong', _csrf: 'f'.repeat(64) });
    expect(res.status).toBe(403);
    expect(res.text).toContain('This form has expired or is not valid.');
    expect(await ApiTokenModel.countDocuments({ userId: user.id })).toBe(0);
  });

  test('when the token of another session is used, then it answers 403', async () => {
    const first = await signIn(testApp.app, { role: 'official' });
    const second = await signIn(testApp.app, { role: 'official' });
    const res = await first.agent.post('/account/tokens').type('form').send({ name: 'stolen', _csrf: second.csrf });
    expect(res.status).toBe(403);
  });

  test('when the right token is sent as a form field or as the x-csrf-token header, then the request goes through', async () => {
    const { agent, csrf, user } = await signIn(testApp.app, { role: 'official' });
    expect((await agent.post('/account/tokens').type('form').send({ name: 'by form', _csrf: csrf })).status).toBe(201);
    expect((await agent.post('/account/tokens').set('x-csrf-token', csrf).send({ name: 'by header' })).status).toBe(201);
    expect(await ApiTokenModel.countDocuments({ userId: user.id })).toBe(2);
  });

  test('when an API call with a session cookie changes state without the header, then it answers 403 JSON', async () => {
    const { agent } = await signIn(testApp.app, { role: 'official' });
    const res = await agent.post('/api/v1/nothing-here').send({});
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('csrf_invalid');
  });

  test('when an API call uses a bearer token, then no CSRF token is asked for', async () => {
    const { token } = await bearerToken({ role: 'official' });
    const res = await request(testApp.app).post('/api/v1/nothing-here').set('Authorization', `Bearer ${token}`).send({});
    expect(res.status).toBe(404);
  });

  test('when a staff API under /api/v1/feedback/ is called, then it is not treated as public: session needs CSRF, bearer works', async () => {
    const { agent } = await signIn(testApp.app, { role: 'official' });
    const path = '/api/v1/feedback/0123456789abcdef01234567/spam';
    expect((await agent.post(path).send({ reason: 'test' })).status).toBe(403);
    expect((await request(testApp.app).post(path).send({ reason: 'test' })).status).toBe(401);
    const { token } = await bearerToken({ role: 'official' });
    const res = await request(testApp.app).post(path).set('Authorization', `Bearer ${token}`).send({ reason: 'test' });
    expect([401, 403]).not.toContain(res.status);
  });

  test('when the login form is posted without its token, then it answers 403', async () => {
    const res = await request(testApp.app).post('/login').type('form').send({ username: 'admin', password: 'whatever' });
    expect(res.status).toBe(403);
  });

  test('when an anonymous request changes state on a staff route, then it answers 401, not 403', async () => {
    const res = await request(testApp.app).post('/admin/users').set('Accept', 'application/json').send({});
    expect(res.status).toBe(401);
  });

  test('when a signed-in browser posts to a public citizen route, then CSRF does not block it', async () => {
    const { agent } = await signIn(testApp.app, { role: 'official' });
    const res = await agent.post('/api/v1/feedback').send({});
    expect(res.status).not.toBe(403);
  });
});
