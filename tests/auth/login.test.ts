// Sign-in and sign-out: sessions, the session id change, lockout after failures, no user enumeration, i18n.
import mongoose from 'mongoose';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser } from '../helpers/agents';
import { UserModel } from '../../src/auth/user.model';
import { AuditEntryModel } from '../../src/audit/audit.model';
import { attemptLogin, sessionCookie } from './support';

let testApp: TestApp;
let ipCounter = 0;
/** A fresh client address per test, so the per-address limiter of one test never affects another. */
const nextIp = () => `198.51.100.${(ipCounter += 1)}`;

beforeAll(async () => {
  testApp = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_ATTEMPTS: '3', LOGIN_LOCKOUT_MINUTES: '10' });
});
afterAll(async () => {
  await testApp.stop();
});

describe('sign-in', () => {
  test('when the password is right, then the user is signed in and redirected to the local next path', async () => {
    const user = await createUser({ role: 'viewer' });
    const { agent, res } = await attemptLogin(testApp.app, { username: user.username, password: user.password, next: '/account/tokens?x=1' }, { ip: nextIp() });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account/tokens?x=1');
    const me = await agent.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: user.username, role: 'viewer', via: 'session', scope: { kind: 'units', codes: ['01'] } });
  });

  test('when next points to another site, then it is ignored and the account page is used', async () => {
    const user = await createUser({ role: 'hotline' });
    const { res } = await attemptLogin(testApp.app, { username: user.username, password: user.password, next: '//evil.example/x' }, { ip: nextIp() });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
  });

  test('when the username is typed in capitals, then it still signs in', async () => {
    const user = await createUser({ role: 'official' });
    const { res } = await attemptLogin(testApp.app, { username: user.username.toUpperCase(), password: user.password }, { ip: nextIp() });
    expect(res.status).toBe(303);
  });

  test('when signing in, then the session id changes and the session cookie is httpOnly, SameSite=Lax and not Secure on http', async () => {
    const user = await createUser();
    const agent = request.agent(testApp.app);
    const ip = nextIp();
    const page = await agent.get('/login').set('X-Forwarded-For', ip);
    const before = sessionCookie(page);
    expect(before).not.toBeNull();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const res = await agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ username: user.username, password: user.password, _csrf: csrf });
    expect(res.status).toBe(303);
    const after = sessionCookie(res);
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    const header = (res.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('tdsid='));
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Lax/);
    expect(header).not.toMatch(/Secure/);
    // The pre-login session is gone from the store.
    const sessions = mongoose.connection.collection('sessions');
    const beforeId = decodeURIComponent(before ?? '').replace(/^s:/, '').split('.')[0];
    expect(await sessions.countDocuments({ _id: beforeId as never })).toBe(0);
  });

  test('when the password is wrong, then the form answers 401 with one message and no session user', async () => {
    const user = await createUser();
    const { agent, res } = await attemptLogin(testApp.app, { username: user.username, password: 'wrong password' }, { ip: nextIp() });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Tên đăng nhập hoặc mật khẩu không đúng.');
    expect((await agent.get('/api/v1/me')).status).toBe(401);
  });

  test('when the username is unknown, then the answer is the same as for a wrong password', async () => {
    const { res } = await attemptLogin(testApp.app, { username: 'nobody.here', password: 'whatever password' }, { ip: nextIp() });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Tên đăng nhập hoặc mật khẩu không đúng.');
  });

  test('when the language is English, then the login error is in English', async () => {
    const user = await createUser();
    const { res } = await attemptLogin(testApp.app, { username: user.username, password: 'wrong password' }, { ip: nextIp(), lang: 'en' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('The username or password is incorrect.');
    expect(res.text).toContain('lang="en"');
  });

  test('when fields are empty, then the form answers 400 with field errors', async () => {
    const { res } = await attemptLogin(testApp.app, { username: '', password: '' }, { ip: nextIp() });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="username-error"');
    expect(res.text).toContain('id="password-error"');
  });

  test('when the username is an operator object or too long, then 400 and nobody is signed in', async () => {
    const user = await createUser();
    const agent = request.agent(testApp.app);
    const page = await agent.get('/login').set('X-Forwarded-For', nextIp());
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const injected = await agent.post('/login').set('x-csrf-token', csrf).send({ username: { $gt: '' }, password: user.password });
    expect(injected.status).toBe(400);
    const long = await agent.post('/login').type('form').send({ username: 'a'.repeat(101), password: 'x', _csrf: csrf });
    expect(long.status).toBe(400);
    expect((await agent.get('/api/v1/me')).status).toBe(401);
  });

  test('when signed in, then the session lives in the database and holds the user id, not the password', async () => {
    const user = await createUser();
    const { res } = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    const sid = decodeURIComponent(sessionCookie(res) ?? '').replace(/^s:/, '').split('.')[0];
    const stored = await mongoose.connection.collection('sessions').findOne({ _id: sid as never });
    expect(stored).not.toBeNull();
    const text = JSON.stringify(stored);
    expect(text).toContain(user.id);
    expect(text).not.toContain(user.password);
  });

  test('when the user is deactivated, then the right password is refused like a wrong one', async () => {
    const user = await createUser({ active: false });
    const { res } = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    expect(res.status).toBe(401);
  });
});

describe('lockout', () => {
  test('when the password is wrong max times, then the account is locked with a clear message, even for the right password', async () => {
    const user = await createUser();
    const ip = nextIp();
    for (let i = 0; i < 2; i += 1) {
      expect((await attemptLogin(testApp.app, { username: user.username, password: 'nope nope' }, { ip })).res.status).toBe(401);
    }
    const third = await attemptLogin(testApp.app, { username: user.username, password: 'nope nope' }, { ip });
    expect(third.res.status).toBe(429);
    expect(third.res.text).toContain('Tài khoản tạm thời bị khóa do đăng nhập sai nhiều lần. Vui lòng thử lại sau 10 phút.');
    expect(Number(third.res.headers['retry-after'])).toBeGreaterThan(0);

    const right = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    expect(right.res.status).toBe(429);
    const stored = await UserModel.findById(user.id).lean();
    expect(stored?.lockedUntil?.getTime()).toBeGreaterThan(Date.now());
    expect(await AuditEntryModel.countDocuments({ action: 'auth.lockout', targetId: user.id })).toBe(1);
  });

  test('when the lockout time has passed, then the right password signs in again', async () => {
    const user = await createUser();
    const ip = nextIp();
    for (let i = 0; i < 3; i += 1) await attemptLogin(testApp.app, { username: user.username, password: 'nope nope' }, { ip });
    expect((await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() })).res.status).toBe(429);
    await UserModel.updateOne({ _id: user.id }, { $set: { lockedUntil: new Date(Date.now() - 1000) } });
    const { res } = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    expect(res.status).toBe(303);
    const stored = await UserModel.findById(user.id).lean();
    expect(stored?.failedLogins).toBe(0);
    expect(stored?.lockedUntil).toBeNull();
  });

  test('when an unknown username fails max times, then it answers with the same lockout message as a real account', async () => {
    const ip = nextIp();
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 4; i += 1) {
      const { res } = await attemptLogin(testApp.app, { username: 'ghost.account', password: 'nope nope' }, { ip });
      statuses.push(res.status);
      last = res.text;
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(last).toContain('Tài khoản tạm thời bị khóa do đăng nhập sai nhiều lần.');
  });

  test('when a success follows failures below the limit, then the failure count starts again', async () => {
    const user = await createUser();
    const ip = nextIp();
    await attemptLogin(testApp.app, { username: user.username, password: 'nope nope' }, { ip });
    await attemptLogin(testApp.app, { username: user.username, password: 'nope nope' }, { ip });
    expect((await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip })).res.status).toBe(303);
    expect((await UserModel.findById(user.id).lean())?.failedLogins).toBe(0);
  });
});

describe('sign-out', () => {
  test('when signing out, then the session is destroyed and the old cookie no longer works', async () => {
    const user = await createUser();
    const { agent, res } = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    const cookie = sessionCookie(res);
    const me = await agent.get('/api/v1/me');
    const out = await agent.post('/logout').type('form').send({ _csrf: me.body.csrfToken });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login');
    const replay = await request(testApp.app).get('/api/v1/me').set('Cookie', `tdsid=${cookie}`);
    expect(replay.status).toBe(401);
    expect(await AuditEntryModel.countDocuments({ action: 'auth.logout', actorId: user.id })).toBe(1);
  });

  test('when the account is deactivated, then its open session stops working', async () => {
    const user = await createUser();
    const { agent } = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: nextIp() });
    expect((await agent.get('/api/v1/me')).status).toBe(200);
    await UserModel.updateOne({ _id: user.id }, { $set: { active: false } });
    expect((await agent.get('/api/v1/me')).status).toBe(401);
  });
});

describe('audit of sign-in', () => {
  test('when a sign-in succeeds or fails, then the audit log records it with a hashed address and no password', async () => {
    const user = await createUser();
    await attemptLogin(testApp.app, { username: user.username, password: 'a wrong secret' }, { ip: '192.0.2.77' });
    await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: '192.0.2.77' });
    const entries = await AuditEntryModel.find({ targetId: user.id }).sort({ at: 1 }).lean();
    expect(entries.map((entry) => entry.action)).toEqual(['auth.login_failed', 'auth.login']);
    const serialized = JSON.stringify(entries);
    expect(serialized).not.toContain('a wrong secret');
    expect(serialized).not.toContain(user.password);
    expect(serialized).not.toContain('192.0.2.77');
    expect(entries[1]?.ipHash).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(entries[1]?.actorUsername).toBe(user.username);
  });
});
