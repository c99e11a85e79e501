// MongoDB's driver CRUD specification tests (unified format), read from ../shared at test time, run against the server.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EJSON } from 'bson';
import { MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { notApplicableReason, UnifiedTestRun, type ServerInfo, type SpecFile, type SpecTest } from './unified-runner';

const repoRoot = path.resolve(__dirname, '../../..');
const specDir = path.resolve(repoRoot, '../shared/mongodb-crud-spec');

interface Tally {
  applicable: number;
  passed: number;
  failed: string[];
  notApplicable: Array<{ name: string; reason: string }>;
}

const tally: Tally = { applicable: 0, passed: 0, failed: [], notApplicable: [] };

function loadSpecFiles(): Array<{ fileName: string; spec: SpecFile }> {
  return readdirSync(specDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((fileName) => ({
      fileName,
      spec: EJSON.parse(readFileSync(path.join(specDir, fileName), 'utf8'), { relaxed: true }) as SpecFile,
    }));
}

/** The server's version and topology, asked synchronously so that tests can be chosen before they run. */
function probeServer(): ServerInfo {
  const output = execFileSync(process.execPath, ['--import', 'tsx', 'tests/engine/crud-spec/server-info.ts'], {
    cwd: repoRoot,
    env: process.env,
    encoding: 'utf8',
    timeout: 60000,
  });
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as ServerInfo;
}

function printSummary(): void {
  const lines = [
    `crud-spec: ${tally.applicable} applicable, ${tally.passed} passed, ${tally.failed.length} failed, ${tally.notApplicable.length} not applicable`,
  ];
  if (tally.failed.length > 0) lines.push('failed:', ...tally.failed.map((name) => `  ${name}`));
  const byReason = new Map<string, string[]>();
  for (const { name, reason } of tally.notApplicable) byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
  lines.push('not applicable (reason: tests):');
  for (const [reason, names] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${reason} (${names.length}):`, ...names.map((name) => `    - ${name}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (!existsSync(specDir)) {
  test(`MongoDB CRUD spec tests (spec folder absent: skipped; looked in ${specDir})`, () => {
    process.stdout.write(`crud-spec: folder ${specDir} is absent, so the MongoDB CRUD spec tests were not run\n`);
    expect(existsSync(specDir)).toBe(false);
  });
} else {
  const server = probeServer();
  const files = loadSpecFiles();
  let database: TestDatabase;
  let internal: MongoClient;
  let baseUri = '';

  beforeAll(async () => {
    database = await startTestDatabase('crud_spec');
    const url = new URL(database.uri);
    url.pathname = '/';
    baseUri = url.toString();
    internal = new MongoClient(baseUri);
    await internal.connect();
  });

  afterAll(async () => {
    printSummary();
    await internal?.close();
    await database?.stop();
  });

  const run = async (spec: SpecFile, specTest: SpecTest, name: string): Promise<void> => {
    try {
      await new UnifiedTestRun(baseUri, internal, spec, specTest).run();
      tally.passed += 1;
    } catch (error) {
      tally.failed.push(name);
      throw error;
    }
  };

  for (const { fileName, spec } of files) {
    const applicable = spec.tests.filter((specTest) => {
      const reason = notApplicableReason(spec, specTest, server);
      if (reason) tally.notApplicable.push({ name: `${fileName}: ${specTest.description}`, reason });
      return reason === null;
    });
    if (applicable.length === 0) continue;
    describe(fileName, () => {
      for (const specTest of applicable) {
        tally.applicable += 1;
        const name = `${fileName}: ${specTest.description}`;
        test(specTest.description, () => run(spec, specTest, name));
      }
    });
  }
}
