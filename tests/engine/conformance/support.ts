// Shared pieces of the conformance suite: clients, command capture, explain plans, and a child engine process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { MongoClient, type Document, type CommandStartedEvent, type ObjectId } from 'mongodb';
import type { TestDatabase } from '../../helpers/database';

export const repoRoot = path.resolve(__dirname, '../../..');

/** A driver client on the test database, optionally recording the commands it sends. */
export async function connectClient(db: TestDatabase, monitor = false): Promise<MongoClient> {
  const client = new MongoClient(db.uri, { monitorCommands: monitor, serverSelectionTimeoutMS: 10000 });
  await client.connect();
  return client;
}

/** Records the started commands of a monitored client by name. */
export function recordCommands(client: MongoClient): { names(): string[]; events: CommandStartedEvent[] } {
  const events: CommandStartedEvent[] = [];
  client.on('commandStarted', (event) => events.push(event));
  return { events, names: () => events.map((event) => event.commandName) };
}

/** The server's `hello` answer, used to skip tests that a replica set or mongos answers differently. */
export async function serverHello(client: MongoClient): Promise<Document> {
  return client.db('admin').command({ hello: 1 });
}

/** True when the server is a standalone (what the embedded engine always is). */
export async function isStandalone(client: MongoClient): Promise<boolean> {
  const hello = await serverHello(client);
  return hello.setName === undefined && hello.msg !== 'isdbgrid';
}

/** Every `stage` name in an explain plan tree (classic `inputStage(s)` and SBE `queryPlan` shapes). */
export function planStages(plan: unknown): string[] {
  const stages: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.stage === 'string') stages.push(record.stage);
    for (const key of ['queryPlan', 'inputStage', 'inputStages', 'winningPlan']) {
      if (key in record) visit(record[key]);
    }
  };
  visit(plan);
  return stages;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildEngine {
  process: ChildProcess;
  port: number;
  uri: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `src/engine/cli.ts` in its own process and resolves once it prints "listening on". */
export async function startChildEngine(dataDir: string, port?: number): Promise<ChildEngine> {
  const chosenPort = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/engine/cli.ts', '--port', String(chosenPort), '--data-dir', dataDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine did not start in 60 s (data dir ${dataDir}):\n${output}`));
    }, 60000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${String(code)} before listening:\n${output}`));
    });
  });
  return {
    process: child,
    port: chosenPort,
    uri: `mongodb://127.0.0.1:${chosenPort}/`,
    output: () => output,
    exited,
  };
}

/** Runs a child process to its end and returns its exit code and output. */
export async function runProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** True when the suite runs against a real MongoDB (the test database helper decides the same way). */
export const externalServer = Boolean(process.env.MONGODB_URI);

/** Registers a test that needs the embedded engine; against MONGODB_URI it states why it does not run. */
export function embeddedOnly(name: string, fn: () => Promise<void>, timeout?: number): void {
  if (externalServer) {
    test(`${name} (skipped: needs to start or kill the embedded engine, not possible on MONGODB_URI)`, () => {
      expect(process.env.MONGODB_URI).toBeTruthy();
    });
    return;
  }
  test(name, fn, timeout);
}

/** A schema-free document whose `_id` may be of any BSON type (the tests use numbers and strings). */
export interface LooseDoc extends Document {
  _id?: string | number | ObjectId | Date;
}
