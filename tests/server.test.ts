// The server process: starts on an empty data directory, refuses bad configuration, shuts down gracefully.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

interface Started {
  child: ChildProcessWithoutNullStreams;
  port: number;
  output: () => string;
}

function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', DEMO: 'false', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 100_000);
    child.stdout.on('data', () => {
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('server process', () => {
  jest.setTimeout(120_000);
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'thuocdo-server-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when the data directory is empty, then it starts, prints where it keeps data, and answers /healthz', async () => {
    const server = await startServer({ DATA_DIR: dataDir });
    try {
      expect(server.output()).toContain(`data directory ${dataDir}`);
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(ready.status).toBe(200);
      expect(readdirSync(dataDir).length).toBeGreaterThan(0);
    } finally {
      server.child.kill('SIGTERM');
      await exitCode(server.child);
    }
  });

  test('when SIGTERM arrives during a request, then the request completes and the process exits 0', async () => {
    const server = await startServer({ DATA_DIR: dataDir });
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    const body = '{"a":1}';
    socket.write(`POST /api/v1/unknown HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n{"a"`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write(':1}');
    const code = await exitCode(server.child);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(response).toMatch(/^HTTP\/1\.1 404/);
    expect(code).toBe(0);
    expect(server.output()).not.toMatch(/Error|at .*\.ts:\d+/);
  });

  test('when the configuration is wrong, then it stops with a readable list and no stack trace', async () => {
    const { code, output } = await runToExit({ PORT: 'eighty', LOG_LEVEL: 'loud', DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration:');
    expect(output).toContain('  - PORT:');
    expect(output).toContain('  - LOG_LEVEL:');
    expect(output).not.toMatch(/\n\s+at /);
  });

  test('when another process holds the data directory, then it stops with a clear message', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    try {
      const { code, output } = await runToExit({ PORT: '0', DATA_DIR: dataDir, DEMO: 'false', LOG_LEVEL: 'warn' });
      expect(code).toBe(1);
      expect(output).toMatch(/in use/i);
    } finally {
      first.child.kill('SIGTERM');
      await exitCode(first.child);
    }
  });
});
