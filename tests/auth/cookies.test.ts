// Session cookie flags when the public address is https.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { csrfFromHtml, createUser } from '../helpers/agents';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp({ PUBLIC_BASE_URL: 'https://thuocdo.example.vn', TRUST_PROXY: '1' });
});
afterAll(async () => {
  await testApp.stop();
});

test('when PUBLIC_BASE_URL is https, then the session cookie is Secure, HttpOnly and SameSite=Lax', async () => {
  const user = await createUser();
  // A Secure cookie is not sent back over plain http by supertest's jar, so the test carries it by hand.
  const page = await request(testApp.app).get('/login').set('X-Forwarded-Proto', 'https');
  const preSession = (page.headers['set-cookie'] as unknown as string[]).find((cookie) => cookie.startsWith('tdsid='));
  expect(preSession).toMatch(/; Secure/);
  const res = await request(testApp.app)
    .post('/login')
    .set('X-Forwarded-Proto', 'https')
    .set('Cookie', (preSession ?? '').split(';')[0] ?? '')
    .type('form')
    .send({ username: user.username, password: user.password, _csrf: csrfFromHtml(page.text) });
  expect(res.status).toBe(303);
  const cookies = res.headers['set-cookie'] as unknown as string[];
  const session = cookies.find((cookie) => cookie.startsWith('tdsid='));
  expect(session).toMatch(/; Secure/);
  expect(session).toMatch(/; HttpOnly/);
  expect(session).toMatch(/; SameSite=Lax/);
});

test('when PUBLIC_BASE_URL is https but the request arrives over plain http, then no session cookie is sent', async () => {
  const res = await request(testApp.app).get('/login');
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  expect(cookies.some((cookie) => cookie.startsWith('tdsid='))).toBe(false);
});
