// Per-address sign-in throttling (counters in the database) and the Secure cookie behind https.
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser } from '../helpers/agents';
import { attemptLogin } from './support';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_ATTEMPTS: '2', LOGIN_LOCKOUT_MINUTES: '5' });
});
afterAll(async () => {
  await testApp.stop();
});

test('when one address fails too often across usernames, then it gets 429 with Retry-After, and other addresses do not', async () => {
  const ip = '203.0.113.50';
  // LOGIN_MAX_ATTEMPTS=2 → 10 failed attempts per address per window; one failure per username, so no account locks.
  for (let i = 0; i < 10; i += 1) {
    const { res } = await attemptLogin(testApp.app, { username: `someone.${i}`, password: 'guess guess' }, { ip });
    expect(res.status).toBe(401);
  }
  const user = await createUser();
  const blocked = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip });
  expect(blocked.res.status).toBe(429);
  expect(Number(blocked.res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(blocked.res.headers['retry-after'])).toBeLessThanOrEqual(300);
  expect(blocked.res.text).toContain('Có quá nhiều lần đăng nhập không thành công từ mạng này.');

  const elsewhere = await attemptLogin(testApp.app, { username: user.username, password: user.password }, { ip: '203.0.113.51' });
  expect(elsewhere.res.status).toBe(303);
});
