// Conformance: date operators with time zones (DST edges, +07:00, UTC), in-process and under other host TZ values.
import type { Db, MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../../helpers/database';
import { caseKey, dateCases, expectedDateResults, runDateCases, type DateResults } from './date-cases';
import { connectClient, runProcess } from './support';

let database: TestDatabase;
let client: MongoClient;
let db: Db;
let inProcess: DateResults;

beforeAll(async () => {
  database = await startTestDatabase('conf_dates');
  client = await connectClient(database);
  db = client.db(database.dbName);
  inProcess = await runDateCases(db, 'instants');
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await database?.stop();
});

describe.each(dateCases.map((dateCase) => [caseKey(dateCase), dateCase] as const))('%s', (key, dateCase) => {
  test('when the date is rendered, split and truncated in that zone, then each value is the hand-computed one', () => {
    expect(inProcess.parts[key]).toEqual(dateCase.expected);
  });
});

test('when documents are grouped by local day, then each zone yields its own day counts', () => {
  expect(inProcess.groups).toEqual(expectedDateResults().groups);
});

test('when $dateFromParts gets local wall-clock parts and a zone, then it returns the UTC instant', () => {
  expect(inProcess.fromParts).toEqual(expectedDateResults().fromParts);
});

test('when $dateAdd and $dateDiff use calendar units in a zone, then they follow local days', () => {
  expect(inProcess.arithmetic).toEqual(expectedDateResults().arithmetic);
});

test('when an unknown zone name is given, then the server refuses it with an error', async () => {
  await expect(
    db.collection('instants').aggregate([{ $project: { d: { $hour: { date: '$at', timezone: 'Mars/Olympus' } } } }]).toArray(),
  ).rejects.toMatchObject({ code: 40485 });
});

const januaryOffsets: Record<string, number> = {
  'America/Los_Angeles': 480,
  'Asia/Tokyo': -540,
  'Asia/Ho_Chi_Minh': -420,
  UTC: 0,
};

type ProbeOutcome = Awaited<ReturnType<typeof runProcess>>;
const probes = new Map<string, Promise<ProbeOutcome>>();

/** Starts every host-TZ probe at once (they spend most of their time starting up). */
function probe(hostTz: string): Promise<ProbeOutcome> {
  if (probes.size === 0) {
    for (const zone of Object.keys(januaryOffsets)) {
      probes.set(zone, runProcess(['--import', 'tsx', 'tests/engine/conformance/date-probe.ts'], { ...process.env, TZ: zone }, 90000));
    }
  }
  return probes.get(hostTz) ?? Promise.reject(new Error(`no probe for ${hostTz}`));
}

describe.each(Object.keys(januaryOffsets))('host TZ=%s', (hostTz) => {
  test('when the same cases run in a process with that TZ, then every result is unchanged', async () => {
    const { code, stdout, stderr } = await probe(hostTz);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const line = stdout.split('\n').find((entry) => entry.startsWith('RESULT '));
    expect(line).toBeDefined();
    const reported = JSON.parse((line ?? '').slice('RESULT '.length)) as { hostTz: string; offsetMinutes: number; results: DateResults };
    expect(reported.hostTz).toBe(hostTz);
    expect(reported.offsetMinutes).toBe(januaryOffsets[hostTz]);
    expect(reported.results).toEqual(expectedDateResults());
  }, 100000);
});
