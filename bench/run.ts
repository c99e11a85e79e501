// `npm run bench`: feedback submissions per second (JSON API and HTML form) next to a bare Express route, in one run.
import { randomInt, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import express, { type Express } from 'express';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { DEVICE_COOKIE } from '../src/feedback/abuse';
import { FeedbackModel } from '../src/feedback/feedback.model';
import { startVoteThread, type VoteThread } from '../src/feedback/vote-thread';
import { outcomeOf, type VoteSink } from '../src/feedback/vote-writer';
import { RollupModel } from '../src/feedback/rollup.model';
import { connectDatabase } from '../src/shared/database';
import { createLogger } from '../src/shared/logger';
import { ALL_UNITS } from '../src/shared/scope';
import { findCounters, seedDemoUnits } from '../src/units';

/** Seconds per target per round. */
const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
/** Seconds of warm-up per target and level, before the rounds. */
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
/**
 * Rounds per level: each round measures every target once, one after the other, so that the ratio of a round
 * compares targets measured within seconds of each other. This machine's speed drifts by a third over minutes (the
 * bare route alone measured 2,900 to 4,900 req/s); the table gives the median round.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('BENCH_ROUNDS: a positive integer');
/** BENCH_MEMORY=1 runs the engine without its journal, to tell disk waits from CPU when profiling. */
const MEMORY = process.env.BENCH_MEMORY === '1';
/**
 * BENCH_SINK=discard answers every vote as stored at once and stores nothing: what the HTTP thread alone can take
 * (validation, hashing, the middleware), the ceiling of the submission paths whatever the database does.
 */
const DISCARD = process.env.BENCH_SINK === 'discard';
if (process.env.BENCH_SINK !== undefined && !DISCARD) throw new Error('BENCH_SINK: only "discard"');
/** Only targets whose name contains this (e.g. `api`), for profiling one path. */
const ONLY = process.env.BENCH_ONLY;
/**
 * Load levels (connections kept busy by the load generator). At 20 the vote path is bound by its latency (each vote
 * waits for its batch's durable writes); at 100 it is mostly bound by its main thread's work (80-90% busy).
 */
const LEVELS = (process.env.BENCH_CONNECTIONS ?? '20,100').split(',').map(Number);
if (LEVELS.some((level) => !Number.isInteger(level) || level < 1)) throw new Error('BENCH_CONNECTIONS: a comma-separated list of positive integers');
const BARE = 'bare Express route';

interface Row {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  statuses: string;
  total: number;
  /** CPU time of this process (app, engine thread and load generator together) per request, in ms. */
  cpuMsPerRequest: number;
  /** Busy time of the main thread (app and load generator; not the engine's thread nor the vote thread) per request, in ms. */
  mainThreadMsPerRequest: number;
}

function listen(app: Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1');
    server.once('listening', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
    server.once('error', reject);
  });
}

/** Stops accepting and waits for requests in flight, so every stored submission is counted below. */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

type RequestBody = () => { headers: Record<string, string>; body: string };

/** A random IPv4 address in 10.0.0.0/8 (a phone's address as the proxy in front reports it). */
function randomAddress(): string {
  const n = randomInt(1 << 24);
  return `10.${n >>> 16}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

async function measure(name: string, url: string, next: RequestBody, duration: number, connections: number): Promise<Row> {
  const cpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { headers, body } = next();
          return { ...request, headers: { ...request.headers, ...headers }, body };
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  const loop = performance.eventLoopUtilization(loopBefore);
  const statuses = [
    `2xx ${result['2xx']}`,
    `3xx ${result['3xx']}`,
    `4xx ${result['4xx']}`,
    `5xx ${result['5xx']}`,
    ...(result.errors ? [`errors ${result.errors}`] : []),
    ...(result.timeouts ? [`timeouts ${result.timeouts}`] : []),
  ].join(', ');
  return {
    name,
    connections,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    total: result['2xx'] + result['3xx'],
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total),
    mainThreadMsPerRequest: loop.active / Math.max(1, result.requests.total),
  };
}

/** The middle value (the lower of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** One table line: a target's median round, and its median ratio to the bare route of the same rounds. */
interface Line {
  row: Row;
  ratio: number | null;
  /** Submissions acknowledged over all rounds. */
  total: number;
}

function summarise(rounds: readonly Row[][]): Line[] {
  const names = [...new Set(rounds.flat().map((row) => row.name))];
  return names.map((name) => {
    const rows = rounds.map((round) => round.find((row) => row.name === name)).filter((row): row is Row => row !== undefined);
    const middle = median(rows.map((row) => row.requestsPerSecond));
    const row = rows.find((candidate) => candidate.requestsPerSecond === middle) ?? rows[0];
    const ratios = rounds.flatMap((round) => {
      const target = round.find((other) => other.name === name);
      const bare = round.find((other) => other.name === BARE);
      return target && bare ? [target.requestsPerSecond / bare.requestsPerSecond] : [];
    });
    return { row, ratio: ratios.length > 0 ? median(ratios) : null, total: rows.reduce((sum, one) => sum + one.total, 0) };
  });
}

function printTable(lines: readonly Line[]): void {
  const header = ['connections', 'target', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'main thread ms/req', 'main thread busy', 'ratio to bare', 'responses (median round)'];
  const cells = lines.map(({ row, ratio }) => [
    String(row.connections),
    row.name,
    row.requestsPerSecond.toFixed(0),
    String(row.p50),
    String(row.p99),
    row.cpuMsPerRequest.toFixed(3),
    row.mainThreadMsPerRequest.toFixed(3),
    `${((row.mainThreadMsPerRequest * row.requestsPerSecond) / 10).toFixed(0)}%`,
    ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`,
    row.statuses,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((line) => line[i].length)));
  const left = new Set([1, header.length - 1]);
  const format = (line: string[]) => line.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  process.stdout.write(`${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${cells.map(format).join('\n')}\n`);
}

/**
 * Waits until the requests that the load generator abandoned at the end of a run have finished storing: the vote
 * writer is idle, and stays idle for a moment (a request may still have been on its way to it).
 */
async function settled(votes: VoteThread): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    const before = await FeedbackModel.countDocuments({});
    await votes.drained();
    await new Promise((resolve) => setTimeout(resolve, 100));
    quiet = (await FeedbackModel.countDocuments({})) === before ? quiet + 1 : 0;
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'thuocdo-bench-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    // Behind one proxy, as in production: the form's phones come each from its own address (X-Forwarded-For).
    TRUST_PROXY: '1',
    FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: '10000',
    FEEDBACK_LIMIT_PER_IP_PER_HOUR: '100000',
  });
  const logger = createLogger('silent');
  const database = await connectDatabase({ uri: null, dataDir: MEMORY ? null : dataDir, logger, engineThread: true });
  let votes: VoteThread | null = null;
  try {
    await seedDemoUnits();
    const [counter] = await findCounters(ALL_UNITS, { activeOnly: true });
    if (!counter) throw new Error('no demo counter');
    // As the server runs it: votes written on their own thread.
    votes = await startVoteThread({ uri: database.uri, settings: config.feedback, logger });
    const sink: VoteSink = DISCARD ? { write: async (vote) => outcomeOf({ ...vote.feedback }, true) } : votes;
    const target = await listen(createApp({ config, logger, votes: sink }));
    const bareApp = express();
    bareApp.post('/bare', express.json(), (_req, res) => {
      res.status(201).json({ id: 1 });
    });
    const bare = await listen(bareApp);

    const bareBody: RequestBody = () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ quick: 'satisfied', key: randomUUID() }) });
    const apiBody: RequestBody = () => ({
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ qrToken: counter.qrToken, quick: 'satisfied', lang: 'vi' }),
    });
    // A citizen's phone got its device cookie with the form (GET) and sends it back with the vote; each request is
    // another phone on its own mobile address, so every vote is charged to a device and an IP of its own and
    // searched for in the replacement window.
    const formBody: RequestBody = () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': randomAddress(), cookie: `${DEVICE_COOKIE}=${randomUUID().replaceAll('-', '').slice(0, 22)}` },
      body: `quick=satisfied&key=${randomUUID()}&website=`,
    });
    const targets: [string, string, RequestBody][] = [
      [BARE, `${bare.url}/bare`, bareBody],
      ['POST /api/v1/feedback', `${target.url}/api/v1/feedback`, apiBody],
      [`POST /f/:qrToken (form)`, `${target.url}/f/${counter.qrToken}`, formBody],
    ];
    process.stdout.write(
      `Thước Đo feedback benchmark: ${LEVELS.join(' and ')} connections; per level ${WARMUP_S} s of warm-up per target, then ${ROUNDS} rounds of ${DURATION_S} s per target; ` +
        (DISCARD ? 'votes discarded unstored (BENCH_SINK=discard)\n' : `embedded engine on its thread, ${MEMORY ? 'in memory' : `durable, ${dataDir}`}\n`) +
        `Each line is the target's median round; the ratio is the median of its rounds' ratios to the bare route.\n\n`,
    );
    const lines: Line[] = [];
    let acknowledged = 0;
    const chosen = targets.filter(([name]) => !ONLY || name.includes(ONLY));
    for (const connections of LEVELS) {
      for (const [name, url, body] of chosen) {
        const warmup = await measure(name, url, body, WARMUP_S, connections);
        if (name !== BARE) acknowledged += warmup.total;
      }
      const rounds: Row[][] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const rows: Row[] = [];
        for (const [name, url, body] of chosen) rows.push(await measure(name, url, body, DURATION_S, connections));
        rounds.push(rows);
      }
      for (const line of summarise(rounds)) {
        lines.push(line);
        if (line.row.name !== BARE) acknowledged += line.total;
      }
    }
    printTable(lines);
    await close(target.server);
    await close(bare.server);
    if (DISCARD) {
      process.stdout.write(`\nVotes discarded unstored: ${acknowledged} acknowledged; ${await FeedbackModel.countDocuments({})} stored.\n`);
      return;
    }
    await settled(votes);
    const stored = await FeedbackModel.countDocuments({});
    const counted = (await RollupModel.find({}, { count: 1 }).lean()).reduce((sum, rollup) => sum + rollup.count, 0);
    const pending = await FeedbackModel.countDocuments({ rollup: 'pending' });
    process.stdout.write(
      `\nSubmissions acknowledged (201 or 303, warm-ups included): ${acknowledged}; feedback stored: ${stored}; counted in roll-ups: ${counted}; still pending: ${pending}.\n` +
        `Goal: each submission path at least 40% of the bare route.\n`,
    );
  } finally {
    await votes?.close();
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
