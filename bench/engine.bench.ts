// Engine benchmark: Mongoose inserts, indexed finds, local-day $group at 100k and 1M documents, mingo alone, memory.
// Usage: npm run bench:engine [-- --quick]. Re-spawns itself with --max-old-space-size=8192 --expose-gc.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose, { Schema, type Connection, type Model, type PipelineStage } from 'mongoose';
import { aggregate as mingoAggregate, find as mingoFind } from 'mingo';
import { cpus, loadavg } from 'node:os';
import { startEngine, type RunningEngine } from '../src/engine';
import { compileFilter, runPipeline, type Doc } from '../src/engine/query';

const quick = process.argv.includes('--quick');

if (process.env.ENGINE_BENCH_CHILD !== '1') {
  const child = spawnSync(
    process.execPath,
    ['--max-old-space-size=8192', '--expose-gc', '--import', 'tsx', __filename, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, ENGINE_BENCH_CHILD: '1' } },
  );
  process.exit(child.status ?? 1);
}

const sizes = quick
  ? { seqSaves: 500, diskBatchDocs: 10_000, small: 10_000, large: 100_000, queries: 300, aggRuns: 2 }
  : { seqSaves: 3_000, diskBatchDocs: 50_000, small: 100_000, large: 1_000_000, queries: 2_000, aggRuns: 3 };

const zone = 'Asia/Ho_Chi_Minh';
const base = Date.UTC(2026, 0, 1);
const channels = ['qr', 'kiosk', 'web'];

interface FeedbackDoc {
  ticket: string;
  unit: string;
  counter: number;
  score: number;
  at: Date;
  channel: string;
  device: string;
  tags: string[];
  comment?: string;
}

/** Deterministic document i: ~9 fields, dates spread over 90 days. */
function makeDoc(i: number): FeedbackDoc {
  const doc: FeedbackDoc = {
    ticket: `T${i}`,
    unit: `u${i % 200}`,
    counter: i % 7,
    score: 1 + (i % 5),
    at: new Date(base + ((i * 7919) % (90 * 86400)) * 1000),
    channel: channels[i % 3],
    device: `d${i % 5000}`,
    tags: i % 4 === 0 ? ['slow', 'rude'] : ['ok'],
  };
  if (i % 10 === 0) doc.comment = 'Cán bộ hướng dẫn nhiệt tình, thủ tục nhanh';
  return doc;
}

const feedbackSchema = new Schema<FeedbackDoc>(
  {
    ticket: { type: String, required: true, unique: true },
    unit: { type: String, required: true },
    counter: Number,
    score: { type: Number, min: 1, max: 5 },
    at: { type: Date, required: true },
    channel: String,
    device: String,
    tags: [String],
    comment: String,
  },
  { versionKey: false },
);
feedbackSchema.index({ unit: 1, at: 1 });

const byDayString: PipelineStage[] = [
  { $group: { _id: { $dateToString: { format: '%Y-%m-%d', date: '$at', timezone: zone } }, n: { $sum: 1 }, avg: { $avg: '$score' } } },
  { $sort: { _id: 1 } },
];
const byDayTrunc: PipelineStage[] = [
  { $group: { _id: { $dateTrunc: { date: '$at', unit: 'day', timezone: zone } }, n: { $sum: 1 }, avg: { $avg: '$score' } } },
  { $sort: { _id: 1 } },
];

interface Row {
  measure: string;
  size: string;
  engine: string;
  layer: string;
  mingo: string;
  note: string;
}

const rows: Row[] = [];

/** Records a table row and shows it at once on stderr, so a long run shows progress. */
function addRow(row: Row): void {
  rows.push(row);
  process.stderr.write(`  ${row.measure} [${row.size}]: ${row.engine}${row.layer ? ` | ${row.layer}` : ''}${row.mingo ? ` | ${row.mingo}` : ''}\n`);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

function fmtRate(ops: number, ms: number): string {
  return `${Math.round((ops * 1000) / ms).toLocaleString('en-US')}/s`;
}

function fmtMs(ms: number): string {
  return `${ms < 100 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US')} ms`;
}

function fmtMb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

function label(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Runs `op` up to `max` times or for about `budgetMs`; returns operations per second as text. */
async function rate(op: (i: number) => Promise<unknown> | unknown, max: number, budgetMs = 5000): Promise<string> {
  const start = process.hrtime.bigint();
  let done = 0;
  while (done < max) {
    await op(done);
    done += 1;
    if (Number(process.hrtime.bigint() - start) / 1e6 > budgetMs) break;
  }
  return fmtRate(done, Number(process.hrtime.bigint() - start) / 1e6);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function openMongoose(engine: RunningEngine): Promise<{ connection: Connection; Feedback: Model<FeedbackDoc> }> {
  const url = new URL(engine.uri);
  url.pathname = '/bench';
  const connection = await mongoose.createConnection(url.toString()).asPromise();
  const Feedback = connection.model<FeedbackDoc>('Feedback', feedbackSchema);
  await Feedback.init();
  return { connection, Feedback };
}

async function insertBatches(Feedback: Model<FeedbackDoc>, from: number, to: number): Promise<number> {
  const { ms } = await timed(async () => {
    for (let start = from; start < to; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, to - start) }, (_, k) => makeDoc(start + k));
      await Feedback.insertMany(batch);
    }
  });
  return ms;
}

async function benchWrites(kind: 'disk' | 'memory'): Promise<void> {
  const dataDir = kind === 'disk' ? mkdtempSync(path.join(tmpdir(), 'engine-bench-')) : null;
  const engine = await startEngine({ dataDir });
  try {
    const { connection, Feedback } = await openMongoose(engine);
    const seq = await timed(async () => {
      for (let i = 0; i < sizes.seqSaves; i += 1) await new Feedback(makeDoc(i)).save();
    });
    addRow({
      measure: `insert: Mongoose save(), sequential (${kind === 'disk' ? 'data dir, fsync' : 'in-memory'})`,
      size: `${sizes.seqSaves.toLocaleString('en-US')} docs`,
      engine: fmtRate(sizes.seqSaves, seq.ms),
      layer: '',
      mingo: '',
      note: '',
    });
    const batched = await insertBatches(Feedback, sizes.seqSaves, sizes.seqSaves + sizes.diskBatchDocs);
    addRow({
      measure: `insert: Mongoose insertMany, batches of 1000 (${kind === 'disk' ? 'data dir, fsync' : 'in-memory'})`,
      size: `${sizes.diskBatchDocs.toLocaleString('en-US')} docs`,
      engine: fmtRate(sizes.diskBatchDocs, batched),
      layer: '',
      mingo: '',
      note: '',
    });
    await connection.close();
  } finally {
    await engine.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Finds and aggregates through Mongoose, then the same work on an array: the engine's query layer and stock mingo. */
async function benchReads(Feedback: Model<FeedbackDoc>, count: number, stockMingoAggregates: boolean): Promise<void> {
  const size = `${label(count)} docs`;
  const pick = (i: number): number => (i * 104729) % count;
  const indexed = await rate((i) => Feedback.findOne({ ticket: `T${pick(i)}` }).lean(), sizes.queries);
  const from = (i: number): Date => new Date(base + (pick(i) % 87) * 86400000);
  const compoundQuery = (i: number): Doc => ({
    unit: `u${pick(i) % 200}`,
    at: { $gte: from(i), $lt: new Date(from(i).getTime() + 3 * 86400000) },
  });
  const compound = await rate((i) => Feedback.find(compoundQuery(i)).lean(), sizes.queries);
  const sample = await Feedback.find(compoundQuery(1)).lean();

  const docs: Doc[] = Array.from({ length: count }, (_, i) => ({ ...makeDoc(i) }));
  const layerScan = (filter: Doc): Doc[] => {
    const pred = compileFilter(filter);
    return docs.filter((doc) => pred(doc));
  };
  const layerIndexed = await rate((i) => layerScan({ ticket: `T${pick(i)}` }), sizes.queries, 3000);
  const layerCompound = await rate((i) => layerScan(compoundQuery(i)), sizes.queries, 3000);
  const mingoIndexed = await rate((i) => mingoFind(docs, { ticket: `T${pick(i)}` }).next(), sizes.queries, 3000);
  const mingoCompound = await rate((i) => mingoFind(docs, compoundQuery(i)).all(), sizes.queries, 3000);
  addRow({
    measure: 'find one by indexed field (unique ticket), queries/s',
    size,
    engine: indexed,
    layer: `${layerIndexed} (scan)`,
    mingo: `${mingoIndexed} (scan)`,
    note: 'arrays have no index',
  });
  addRow({
    measure: 'find by compound prefix + range (unit, 3 days), queries/s',
    size,
    engine: compound,
    layer: `${layerCompound} (scan)`,
    mingo: `${mingoCompound} (scan)`,
    note: `${sample.length} docs per query`,
  });

  const runs = count > 200_000 ? Math.min(2, sizes.aggRuns) : sizes.aggRuns;
  for (const [name, pipeline] of [
    ['$dateToString', byDayString],
    ['$dateTrunc', byDayTrunc],
  ] as const) {
    const engineTimes: number[] = [];
    let engineResult: Array<{ _id: unknown; n: number }> = [];
    for (let run = 0; run < runs; run += 1) {
      const { ms, value } = await timed(() => Feedback.aggregate<{ _id: unknown; n: number }>(pipeline));
      engineTimes.push(ms);
      engineResult = value;
    }
    const layerTimes: number[] = [];
    let layerResult: Doc[] = [];
    for (let run = 0; run < runs; run += 1) {
      const { ms, value } = await timed(() => runPipeline(docs, pipeline as unknown as Doc[], { collection: () => [] }));
      layerTimes.push(ms);
      layerResult = value;
    }
    const key = (groups: Doc[]): string => JSON.stringify(groups.map((g) => [g._id instanceof Date ? g._id.toISOString() : g._id, g.n]));
    let mingoCell = 'not run (see note)';
    let mingoNote = `stock mingo not run at this size (about 10x its ${label(sizes.small)} time)`;
    if (stockMingoAggregates) {
      const { ms, value } = await timed(() => mingoAggregate(docs, pipeline as unknown as Doc[]) as Doc[]);
      mingoCell = fmtMs(ms);
      mingoNote = `stock mingo same result: ${key(value) === key(engineResult as Doc[]) ? 'yes' : 'NO'}`;
    }
    addRow({
      measure: `aggregate $group by local day (${name}, ${zone}), ms`,
      size,
      engine: fmtMs(median(engineTimes)),
      layer: fmtMs(median(layerTimes)),
      mingo: mingoCell,
      note: `${engineResult.length} groups; query layer same result: ${key(layerResult) === key(engineResult as Doc[]) ? 'yes' : 'NO'}; ${mingoNote}`,
    });
  }
}

async function main(): Promise<void> {
  const load = loadavg().map((value) => value.toFixed(1)).join(' ');
  process.stdout.write(
    `engine benchmark (${quick ? 'quick' : 'full'}), node ${process.version}, ${cpus().length} CPUs, load average ${load} at start, TZ=${process.env.TZ ?? '(unset)'}\n`,
  );
  await benchWrites('disk');
  await benchWrites('memory');

  const engine = await startEngine({ dataDir: null });
  const { connection, Feedback } = await openMongoose(engine);
  try {
    gc();
    const before = process.memoryUsage();
    const smallMs = await insertBatches(Feedback, 0, sizes.small);
    gc();
    const atSmall = process.memoryUsage();
    const perSmall = sizes.small / 100_000;
    addRow({
      measure: 'memory per 100k documents (RSS / heapUsed delta)',
      size: `${label(sizes.small)} docs`,
      engine: `${fmtMb((atSmall.rss - before.rss) / perSmall)} / ${fmtMb((atSmall.heapUsed - before.heapUsed) / perSmall)}`,
      layer: '',
      mingo: '',
      note: `loaded with insertMany at ${fmtRate(sizes.small, smallMs)}; 2 indexes besides _id`,
    });
    await benchReads(Feedback, sizes.small, true);

    const largeMs = await insertBatches(Feedback, sizes.small, sizes.large);
    gc();
    const atLarge = process.memoryUsage();
    const perLarge = sizes.large / 100_000;
    addRow({
      measure: 'memory per 100k documents (RSS / heapUsed delta)',
      size: `${label(sizes.large)} docs`,
      engine: `${fmtMb((atLarge.rss - before.rss) / perLarge)} / ${fmtMb((atLarge.heapUsed - before.heapUsed) / perLarge)}`,
      layer: '',
      mingo: '',
      note: `total RSS ${fmtMb(atLarge.rss)}, heapUsed ${fmtMb(atLarge.heapUsed)}; insertMany ${fmtRate(sizes.large - sizes.small, largeMs)}`,
    });
    await benchReads(Feedback, sizes.large, false);
  } finally {
    await connection.close();
    await engine.close();
  }

  const header: Row = {
    measure: 'measure',
    size: 'size',
    engine: 'engine via Mongoose',
    layer: 'engine query layer on an array',
    mingo: 'stock mingo on an array',
    note: 'note',
  };
  const widths = (Object.keys(header) as Array<keyof Row>).map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
  const line = (row: Row): string =>
    `| ${(Object.keys(header) as Array<keyof Row>).map((key, i) => row[key].padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`load average at end: ${loadavg().map((value) => value.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`\n${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${rows.map(line).join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
