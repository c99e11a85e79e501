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
  const agent = request.agent(testApp.app);
  const page = await agent.get('/login').set('X-Forwarded-Proto', 'https');
  const res = await agent
    .post('/login')
    .set('X-Forwarded-Proto', 'https')
    .type('form')
    .send({ username: user.username, password: user.password, _csrf: csrfFromHtml(page.text) });
  expect(res.status).toBe(303);
  const cookies = res.headers['set-cookie'] as unknown as string[];
  const session = cookies.find((cookie) => cookie.startsWith('tdsid='));
  expect(session).toMatch(/; Secure/);
  expect(session).toMatch(/; HttpOnly/);
  expect(session).toMatch(/; SameSite=Lax/);
});
