// The request log: ids on every request, one line per request, nothing for ignored paths, aborted requests said so.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { requestLog } from '../../src/shared/http/request-log';
import { createLogger } from '../../src/shared/logger';

interface Line {
  level: number;
  msg: string;
  req: { id: string; method: string; path: string };
  res: { statusCode: number };
  responseTime: number;
}

function appLogging(level: string) {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line));
      done();
    },
  });
  const app = express();
  app.use(requestLog(createLogger(level, destination), { ignore: (req) => req.url === '/healthz' }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.json({ late: true }), 200);
  });
  app.get('/id', (req, res) => {
    res.json({ id: req.id });
  });
  return { app, lines };
}

describe('request ids', () => {
  test('when the client sends a sane X-Request-Id, then it is kept, echoed and logged', async () => {
    const { app, lines } = appLogging('info');
    const res = await request(app).get('/id?secret=1').set('X-Request-Id', 'proxy-1234-abcd');
    expect(res.headers['x-request-id']).toBe('proxy-1234-abcd');
    expect(res.body).toEqual({ id: 'proxy-1234-abcd' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request completed', req: { id: 'proxy-1234-abcd', method: 'GET', path: '/id' }, res: { statusCode: 200 } });
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  test('when the X-Request-Id is not a plain token, then a fresh UUID replaces it', async () => {
    const { app, lines } = appLogging('info');
    const res = await request(app).get('/id').set('X-Request-Id', 'bad id\twith spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(lines[0]?.req.id).toBe(res.headers['x-request-id']);
  });

  test('when the path is ignored or the level is above info, then the request has an id but no line', async () => {
    const ignored = appLogging('info');
    const health = await request(ignored.app).get('/healthz');
    expect(health.headers['x-request-id']).toBeDefined();
    expect(ignored.lines).toEqual([]);
    const quiet = appLogging('warn');
    const res = await request(quiet.app).get('/id');
    expect(res.body.id).toBe(res.headers['x-request-id']);
    expect(quiet.lines).toEqual([]);
  });
});

describe('request lines', () => {
  test('when the client goes away before the answer, then one line says the request was aborted', async () => {
    const { app, lines } = appLogging('info');
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const client = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
        client.on('error', () => resolve());
        client.end();
        setTimeout(() => {
          client.destroy();
          resolve();
        }, 50);
      });
      for (let i = 0; i < 50 && lines.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: 'request aborted', req: { method: 'GET', path: '/slow' }, res: { statusCode: null } });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(lines).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
