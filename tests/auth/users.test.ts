// Users administration: create with a temporary password, validation errors, role and scope, reset, deactivate, audit.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { createUser, signIn, signInAs, type SignedIn } from '../helpers/agents';
import { seedDemoUnits } from '../../src/units';
import { UserModel } from '../../src/auth/user.model';
import { AuditEntryModel } from '../../src/audit/audit.model';
import { attemptLogin } from './support';

let testApp: TestApp;
let admin: SignedIn;

beforeAll(async () => {
  testApp = await startTestApp();
  await seedDemoUnits({});
  admin = await signIn(testApp.app, { role: 'admin' });
});
afterAll(async () => {
  await testApp.stop();
});

function temporaryPasswordIn(html: string): string {
  const match = /id="temporary-password" readonly value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no temporary password shown');
  return match[1];
}

describe('users administration', () => {
  test('when the admin opens the list and the form, then both render with the units to choose from', async () => {
    const list = await admin.agent.get('/admin/users');
    expect(list.status).toBe(200);
    expect(list.text).toContain(admin.user.username);
    const form = await admin.agent.get('/admin/users/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('value="09817"');
  });

  test('when a valid user is created, then a temporary password is shown once, it signs in, and the change is audited', async () => {
    const res = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: 'canbo.odien', displayName: 'Nguyễn Văn An', role: 'official', scope: '09817', _csrf: admin.csrf });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toContain('no-store');
    const password = temporaryPasswordIn(res.text);
    const stored = await UserModel.findOne({ username: 'canbo.odien' }).lean();
    expect(stored).toMatchObject({ displayName: 'Nguyễn Văn An', role: 'official', scope: ['09817'], active: true });
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(stored)).not.toContain(password);

    const { agent, res: login } = await attemptLogin(testApp.app, { username: 'canbo.odien', password });
    expect(login.status).toBe(303);
    expect((await agent.get('/api/v1/me')).body.scope).toEqual({ kind: 'units', codes: ['09817'] });

    const entry = await AuditEntryModel.findOne({ action: 'user.create', targetId: String(stored?._id) }).lean();
    expect(entry?.actorUsername).toBe(admin.user.username);
    expect(JSON.stringify(entry)).not.toContain(password);
  });

  test('when several scope units are selected, then all are stored', async () => {
    const res = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: 'xem.nhieu', displayName: 'Trần Thị Bình', role: 'viewer', scope: ['09784', '09817'], _csrf: admin.csrf });
    expect(res.status).toBe(201);
    expect((await UserModel.findOne({ username: 'xem.nhieu' }).lean())?.scope).toEqual(['09784', '09817']);
  });

  test('when fields are invalid, then the form answers 400 with field errors and nothing is written', async () => {
    const before = await UserModel.countDocuments();
    const res = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: 'Bad Name!', displayName: '', role: 'superuser', scope: '09817', _csrf: admin.csrf });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="username-error"');
    expect(res.text).toContain('id="displayName-error"');
    expect(res.text).toContain('id="role-error"');
    expect(res.text).toContain('value="Bad Name!"');
    expect(await UserModel.countDocuments()).toBe(before);
  });

  test('when an official has no scope or an unknown unit, then 400 with the scope error and nothing is written', async () => {
    const before = await UserModel.countDocuments();
    const none = await admin.agent.post('/admin/users').type('form').send({ username: 'khong.pham.vi', displayName: 'A', role: 'official', _csrf: admin.csrf });
    expect(none.status).toBe(400);
    expect(none.text).toContain('Hãy chọn ít nhất một đơn vị.');
    const unknown = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: 'sai.don.vi', displayName: 'A', role: 'official', scope: '99999', _csrf: admin.csrf });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('Có mã đơn vị không tồn tại hoặc không còn hiệu lực.');
    expect(await UserModel.countDocuments()).toBe(before);
  });

  test('when the username is taken, then 409 with a field error', async () => {
    const existing = await createUser();
    const res = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: existing.username, displayName: 'X', role: 'viewer', scope: '01', _csrf: admin.csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Tên đăng nhập này đã có người dùng.');
  });

  test('when unknown fields are posted, then 400', async () => {
    const res = await admin.agent
      .post('/admin/users')
      .type('form')
      .send({ username: 'them.truong', displayName: 'X', role: 'viewer', scope: '01', isAdmin: 'true', _csrf: admin.csrf });
    expect(res.status).toBe(400);
    expect(await UserModel.countDocuments({ username: 'them.truong' })).toBe(0);
  });

  test('when role and scope are changed, then they are stored, take effect on the next request, and are audited', async () => {
    const target = await createUser({ role: 'viewer', scope: ['01'] });
    const session = await signInAs(testApp.app, target);
    const res = await admin.agent
      .post(`/admin/users/${target.id}`)
      .type('form')
      .send({ displayName: 'Đổi tên', role: 'hotline', scope: '09817', _csrf: admin.csrf });
    expect(res.status).toBe(303);
    const me = await session.agent.get('/api/v1/me');
    expect(me.body).toMatchObject({ role: 'hotline', displayName: 'Đổi tên', scope: { kind: 'units', codes: ['09817'] } });
    const entry = await AuditEntryModel.findOne({ action: 'user.update', targetId: target.id }).lean();
    expect(entry?.details).toMatchObject({ roleBefore: 'viewer', role: 'hotline', scope: ['09817'] });
  });

  test('when the edit form is invalid, then 400 with errors and the user is unchanged', async () => {
    const target = await createUser({ role: 'viewer', scope: ['01'] });
    const res = await admin.agent.post(`/admin/users/${target.id}`).type('form').send({ displayName: '', role: 'viewer', scope: '01', _csrf: admin.csrf });
    expect(res.status).toBe(400);
    expect((await UserModel.findById(target.id).lean())?.displayName).toBe(target.displayName);
  });

  test('when a password is reset, then the old one fails, the temporary one works, and open sessions end', async () => {
    const target = await createUser();
    const session = await signInAs(testApp.app, target);
    const res = await admin.agent.post(`/admin/users/${target.id}/password`).type('form').send({ _csrf: admin.csrf });
    expect(res.status).toBe(200);
    const temporary = temporaryPasswordIn(res.text);
    expect((await session.agent.get('/api/v1/me')).status).toBe(401);
    expect((await attemptLogin(testApp.app, { username: target.username, password: target.password })).res.status).toBe(401);
    expect((await attemptLogin(testApp.app, { username: target.username, password: temporary })).res.status).toBe(303);
    expect(await AuditEntryModel.countDocuments({ action: 'user.password_reset', targetId: target.id })).toBe(1);
  });

  test('when a user is deactivated and reactivated, then sign-in is refused and then allowed again', async () => {
    const target = await createUser();
    expect((await admin.agent.post(`/admin/users/${target.id}/deactivate`).type('form').send({ _csrf: admin.csrf })).status).toBe(303);
    expect((await attemptLogin(testApp.app, { username: target.username, password: target.password })).res.status).toBe(401);
    expect((await admin.agent.post(`/admin/users/${target.id}/activate`).type('form').send({ _csrf: admin.csrf })).status).toBe(303);
    expect((await attemptLogin(testApp.app, { username: target.username, password: target.password })).res.status).toBe(303);
    const actions = (await AuditEntryModel.find({ targetId: target.id, action: /^user\./ }).sort({ at: 1 }).lean()).map((e) => e.action);
    expect(actions).toEqual(['user.deactivate', 'user.reactivate']);
  });

  test('when the admin tries to deactivate themself or change their own role, then it is refused', async () => {
    const self = await admin.agent.post(`/admin/users/${admin.user.id}/deactivate`).type('form').send({ _csrf: admin.csrf });
    expect(self.status).toBe(409);
    const role = await admin.agent.post(`/admin/users/${admin.user.id}`).type('form').send({ displayName: 'X', role: 'viewer', scope: '01', _csrf: admin.csrf });
    expect(role.status).toBe(400);
    expect((await UserModel.findById(admin.user.id).lean())).toMatchObject({ active: true, role: 'admin' });
  });

  test('when the user id is malformed or unknown, then 404', async () => {
    expect((await admin.agent.get('/admin/users/not-an-id')).status).toBe(404);
    expect((await admin.agent.get('/admin/users/0123456789abcdef01234567')).status).toBe(404);
  });

  test('when an anonymous visitor opens the users page, then it is sent to the login page', async () => {
    const res = await request(testApp.app).get('/admin/users');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fusers');
  });
});
