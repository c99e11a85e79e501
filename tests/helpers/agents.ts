// Test accounts and signed-in supertest agents per role, for testing staff routes.
import type { Express } from 'express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { UserModel } from '../../src/auth/user.model';
import { hashPassword } from '../../src/auth/password';
import { createApiToken, toActor } from '../../src/auth/auth.service';
import { findUserById } from '../../src/auth/auth.repository';
import type { Role } from '../../src/auth/permissions';

export interface TestUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  scope: string[];
  password: string;
}

export interface UserProps {
  username?: string;
  displayName?: string;
  role?: Role;
  /** Unit codes; defaults to ['01'] (Hà Nội) for every role but admin. */
  scope?: string[];
  password?: string;
  active?: boolean;
}

let counter = 0;
const DEFAULT_PASSWORD = 'correct horse battery staple';
let defaultHash: Promise<string> | null = null;

/** Inserts a user straight into the database (no audit entry); the password defaults to a shared test one. */
export async function createUser(props: UserProps = {}): Promise<TestUser> {
  counter += 1;
  const role = props.role ?? 'official';
  const password = props.password ?? DEFAULT_PASSWORD;
  defaultHash ??= hashPassword(DEFAULT_PASSWORD);
  const passwordHash = password === DEFAULT_PASSWORD ? await defaultHash : await hashPassword(password);
  const doc = await UserModel.create({
    username: props.username ?? `${role}.${process.pid}.${counter}`,
    displayName: props.displayName ?? `Test ${role} ${counter}`,
    role,
    scope: props.scope ?? (role === 'admin' ? [] : ['01']),
    active: props.active ?? true,
    passwordHash,
  });
  return { id: String(doc._id), username: doc.username, displayName: doc.displayName, role: doc.role, scope: [...doc.scope], password };
}

/** The hidden `_csrf` value of an HTML page. */
export function csrfFromHtml(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}

export interface SignedIn {
  agent: TestAgent;
  /** Send as `_csrf` in forms or the `x-csrf-token` header on state-changing requests. */
  csrf: string;
  user: TestUser;
}

/** Signs in through the real /login form and returns the agent (cookie kept) and its CSRF token. */
export async function signInAs(app: Express, user: TestUser): Promise<SignedIn> {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  const login = await agent.post('/login').type('form').send({ username: user.username, password: user.password, _csrf: csrfFromHtml(page.text) });
  if (login.status !== 303) throw new Error(`sign-in of ${user.username} failed with ${login.status}`);
  const me = await agent.get('/api/v1/me');
  if (me.status !== 200 || typeof me.body.csrfToken !== 'string') throw new Error(`no session after sign-in (${me.status})`);
  return { agent, csrf: me.body.csrfToken as string, user };
}

/** Creates a user with the given role and scope, signs in, and returns `{ agent, csrf, user }`. */
export async function signIn(app: Express, props: UserProps = {}): Promise<SignedIn> {
  return signInAs(app, await createUser(props));
}

/** Creates a user and a personal API token for `Authorization: Bearer`. */
export async function bearerToken(props: UserProps = {}): Promise<{ token: string; user: TestUser }> {
  const user = await createUser(props);
  const record = await findUserById(user.id);
  if (!record) throw new Error('user vanished');
  const actor = toActor(record, 'token');
  const { token } = await createApiToken(actor, 'test', {});
  return { token, user };
}
