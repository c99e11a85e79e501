// Helpers for the auth tests: post the real login form from a given client address.
import type { Express } from 'express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { csrfFromHtml } from '../helpers/agents';

export const SESSION_COOKIE = 'tdsid';

/** The value of the session cookie set by a response, if any. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string | null {
  const raw = res.headers['set-cookie'];
  const cookies = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const found = cookies.find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
  return found ? (found.split(';')[0] ?? '').slice(SESSION_COOKIE.length + 1) : null;
}

export interface LoginAttempt {
  agent: TestAgent;
  res: request.Response;
}

/** Opens /login, then posts the form with the page's CSRF token; `ip` becomes X-Forwarded-For (TRUST_PROXY=1). */
export async function attemptLogin(
  app: Express,
  credentials: { username: string; password: string; next?: string },
  options: { ip?: string; lang?: string; agent?: TestAgent } = {},
): Promise<LoginAttempt> {
  const agent = options.agent ?? request.agent(app);
  const query = options.lang ? `?lang=${options.lang}` : '';
  const ip = options.ip ?? '203.0.113.1';
  const page = await agent.get(`/login${query}`).set('X-Forwarded-For', ip);
  const res = await agent
    .post('/login')
    .set('X-Forwarded-For', ip)
    .type('form')
    .send({ ...credentials, _csrf: csrfFromHtml(page.text) });
  return { agent, res };
}
