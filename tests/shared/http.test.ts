// Shared HTTP behaviour: error mapping (404 stays 404), JSON vs HTML, body limits, UTF-8, security headers, health.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/shared/logger';
import { ALL_UNITS } from '../../src/shared/scope';
import { findCounters, seedDemoUnits } from '../../src/units';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});

afterAll(async () => {
  await testApp.stop();
});

describe('errors', () => {
  test('when a page does not exist, then the answer is a 404 page in Vietnamese', async () => {
    const res = await request(testApp.app).get('/no-such-page').set('Accept', 'text/html');
    expect(res.status).toBe(404);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Không tìm thấy trang');
    expect(res.text).toContain('<html lang="vi">');
  });

  test('when English is chosen, then the 404 page is in English and the choice is remembered in a cookie', async () => {
    const agent = request.agent(testApp.app);
    const first = await agent.get('/no-such-page?lang=en').set('Accept', 'text/html');
    expect(first.status).toBe(404);
    expect(first.text).toContain('Page not found');
    expect(first.headers['set-cookie']?.[0]).toMatch(/^lang=en;.*HttpOnly/);
    const second = await agent.get('/no-such-page').set('Accept', 'text/html');
    expect(second.text).toContain('Page not found');
  });

  test('when an API path does not exist, then the answer is JSON 404', async () => {
    const res = await request(testApp.app).get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'Không tìm thấy trang bạn yêu cầu.' } });
  });

  test('when a JSON body is malformed, then the answer is 400 with a clear message and no stack', async () => {
    const res = await request(testApp.app)
      .post('/api/v1/anything')
      .set('Content-Type', 'application/json')
      .set('Accept-Language', 'en')
      .send('{"quick": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_body');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  test('when a body is too large, then the answer is 413', async () => {
    const res = await request(testApp.app)
      .post('/api/v1/anything?lang=en')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ comment: 'x'.repeat(64 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.message).toBe('The content sent is too large.');
  });

  test('when a body is not valid UTF-8, then the answer is 400', async () => {
    // superagent would JSON-encode a Buffer: keep the raw bytes.
    const raw = ((body: Buffer) => body) as unknown as (body: unknown) => string;
    const res = await request(testApp.app)
      .post('/api/v1/anything')
      .set('Content-Type', 'application/json')
      .serialize(raw)
      .send(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_utf8');
  });
});

describe('security headers and static files', () => {
  test('pages carry a strict Content-Security-Policy without inline script', async () => {
    const res = await request(testApp.app).get('/');
    expect(res.status).toBe(200);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('static files are served with a long cache lifetime and linked with a content hash', async () => {
    const home = await request(testApp.app).get('/');
    const href = /href="(\/static\/css\/app\.css\?v=[0-9a-f]{10})"/.exec(home.text)?.[1];
    expect(href).toBeDefined();
    const css = await request(testApp.app).get(href as string);
    expect(css.status).toBe(200);
    expect(css.headers['cache-control']).toContain('max-age=2592000');
    expect(css.headers['cache-control']).toContain('immutable');
  });
});

describe('health', () => {
  test('/healthz answers ok', async () => {
    const res = await request(testApp.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('/readyz answers 200 while the database answers, and 503 with Retry-After when it does not', async () => {
    const ready = await request(testApp.app).get('/readyz');
    expect(ready.status).toBe(200);
    await mongoose.disconnect();
    try {
      const down = await request(testApp.app).get('/readyz');
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
    } finally {
      await mongoose.connect(testApp.database.uri);
    }
  });
});

describe('request log', () => {
  test('when a citizen votes, then one line records the request id, method, path, status and time, and no header, cookie or raw address', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const app = createApp({ config: testApp.config, logger: createLogger('info', destination) });
    await seedDemoUnits();
    const [counter] = await findCounters(ALL_UNITS, { activeOnly: true });
    if (!counter) throw new Error('no demo counter');
    const res = await request(app).post('/api/v1/feedback').set('Idempotency-Key', randomUUID()).set('Cookie', 'tdd=AAAAAAAAAAAAAAAAAAAAAA').send({ qrToken: counter.qrToken, quick: 'satisfied' });
    expect(res.status).toBe(201);
    const entries = lines.map((line) => JSON.parse(line) as { msg?: string; req?: unknown; res?: unknown; responseTime?: unknown });
    const completed = entries.filter((entry) => entry.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.req).toEqual({ id: res.headers['x-request-id'], method: 'POST', path: '/api/v1/feedback' });
    expect(completed[0]?.res).toEqual({ statusCode: 201 });
    expect(typeof completed[0]?.responseTime).toBe('number');
    expect(lines.join('\n')).not.toMatch(/AAAAAAAAAAAAAAAAAAAAAA|127\.0\.0\.1|::ffff|content-security-policy/i);
  });
});
