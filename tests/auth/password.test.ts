// Changing one's own password: the current one is checked, the new one is validated, other sessions end.
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser, signInAs } from '../helpers/agents';
import { AuditEntryModel } from '../../src/audit/audit.model';
import { attemptLogin } from './support';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});
afterAll(async () => {
  await testApp.stop();
});

test('when the current password is right and the new one valid, then it changes, this session stays and the other ends', async () => {
  const user = await createUser();
  const here = await signInAs(testApp.app, user);
  const elsewhere = await signInAs(testApp.app, user);
  const res = await here.agent
    .post('/account/password')
    .type('form')
    .send({ currentPassword: user.password, newPassword: 'một mật khẩu mới dài', confirmPassword: 'một mật khẩu mới dài', _csrf: here.csrf });
  expect(res.status).toBe(200);
  expect(res.text).toContain('Đã đổi mật khẩu.');
  expect((await here.agent.get('/api/v1/me')).status).toBe(200);
  expect((await elsewhere.agent.get('/api/v1/me')).status).toBe(401);
  expect((await attemptLogin(testApp.app, { username: user.username, password: user.password })).res.status).toBe(401);
  expect((await attemptLogin(testApp.app, { username: user.username, password: 'một mật khẩu mới dài' })).res.status).toBe(303);
  expect(await AuditEntryModel.countDocuments({ action: 'user.password_change', actorId: user.id })).toBe(1);
});

test('when the current password is wrong, then 400 with the field error and the password is unchanged', async () => {
  const user = await createUser();
  const { agent, csrf } = await signInAs(testApp.app, user);
  const res = await agent
    .post('/account/password')
    .type('form')
    .send({ currentPassword: 'not it at all', newPassword: 'another long password', confirmPassword: 'another long password', _csrf: csrf });
  expect(res.status).toBe(400);
  expect(res.text).toContain('Mật khẩu hiện tại không đúng.');
  expect((await attemptLogin(testApp.app, { username: user.username, password: user.password })).res.status).toBe(303);
});

test('when the new password is too short or not repeated identically, then 400 with field errors', async () => {
  const user = await createUser();
  const { agent, csrf } = await signInAs(testApp.app, user);
  const short = await agent.post('/account/password').type('form').send({ currentPassword: user.password, newPassword: 'short', confirmPassword: 'short', _csrf: csrf });
  expect(short.status).toBe(400);
  expect(short.text).toContain('id="newPassword-error"');
  const mismatch = await agent
    .post('/account/password')
    .type('form')
    .send({ currentPassword: user.password, newPassword: 'long enough password', confirmPassword: 'long enough passw0rd', _csrf: csrf });
  expect(mismatch.status).toBe(400);
  expect(mismatch.text).toContain('Hai mật khẩu mới không khớp nhau.');
});
