// Demo accounts: created once with the demo password; re-seeding never overwrites an existing account.
import { startTestApp, type TestApp } from '../helpers/app';
import { DEMO_USERS, seedDemoUsers } from '../../src/auth';
import { UserModel } from '../../src/auth/user.model';
import { attemptLogin } from './support';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp({ DEMO_PASSWORD: 'mat-khau-demo' });
});
afterAll(async () => {
  await testApp.stop();
});

test('when seeding twice, then each demo account exists once with its role and scope', async () => {
  expect(await seedDemoUsers(testApp)).toBe(DEMO_USERS.length);
  expect(await seedDemoUsers(testApp)).toBe(0);
  const users = await UserModel.find({}).sort({ username: 1 }).lean();
  expect(users.map((user) => [user.username, user.role, user.scope])).toEqual([
    ['admin', 'admin', []],
    ['hotline', 'hotline', ['01']],
    ['official.hanoi', 'official', ['01']],
    ['official.odien', 'official', ['09817']],
    ['viewer.hanoi', 'viewer', ['01']],
  ]);
});

test('when a demo account signs in with the demo password, then it works', async () => {
  await seedDemoUsers(testApp);
  const { agent, res } = await attemptLogin(testApp.app, { username: 'official.odien', password: 'mat-khau-demo' });
  expect(res.status).toBe(303);
  expect((await agent.get('/api/v1/me')).body.scope).toEqual({ kind: 'units', codes: ['09817'] });
});

test('when an account already exists, then re-seeding keeps its password', async () => {
  await seedDemoUsers(testApp);
  await UserModel.updateOne({ username: 'admin' }, { $set: { passwordHash: 'changed-hash' } });
  await seedDemoUsers(testApp);
  expect((await UserModel.findOne({ username: 'admin' }).lean())?.passwordHash).toBe('changed-hash');
});
