// Storage benchmark: journal appends/s (sequential, concurrent), snapshot write and recovery of 1,000,000 records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import { openStorage, type StoredRecord } from '../src/engine/storage';

interface Row {
  case: string;
  ops: number;
  seconds: number;
  rate: string;
  note: string;
}

const rows: Row[] = [];

function smallRecord(i: number): StoredRecord {
  return { _id: new ObjectId(), unit: `u${i % 500}`, score: i % 5, at: new Date(1_700_000_000_000 + i), ok: true };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'storage-bench-'));
}

async function appends(label: string, total: number, inFlight: number): Promise<void> {
  const dir = tempDir();
  const storage = await openStorage({ dir, snapshotSource: () => [] });
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      await storage.append([smallRecord(next)]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { fsyncs } = storage.stats();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
  rows.push({
    case: label,
    ops: total,
    seconds,
    rate: `${Math.round(total / seconds).toLocaleString('en')} appends/s`,
    note: `${fsyncs} fsyncs, ${(total / fsyncs).toFixed(1)} appends per fsync`,
  });
}

async function snapshot(count: number): Promise<void> {
  const dir = tempDir();
  const state = Array.from({ length: count }, (_, i) => smallRecord(i));
  const storage = await openStorage({ dir, snapshotSource: () => state });
  let blockedMs = 0;
  const started = process.hrtime.bigint();
  const timer = process.hrtime.bigint();
  const snapshotDone = storage.snapshotNow();
  // snapshotNow() starts on a microtask; the synchronous part (source + write) blocks until this tick resumes.
  await new Promise((resolve) => setImmediate(resolve));
  blockedMs = Number(process.hrtime.bigint() - timer) / 1e6;
  await snapshotDone;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await storage.close();
  const file = fs.readdirSync(dir).find((n) => n.startsWith('snapshot-'));
  const bytes = file ? fs.statSync(path.join(dir, file)).size : 0;
  rows.push({
    case: `snapshot write, ${count.toLocaleString('en')} records`,
    ops: count,
    seconds,
    rate: `${Math.round(count / seconds).toLocaleString('en')} records/s`,
    note: `${(bytes / 1e6).toFixed(1)} MB, ${(bytes / 1e6 / seconds).toFixed(0)} MB/s, event loop blocked ${blockedMs.toFixed(0)} ms`,
  });

  const readStarted = process.hrtime.bigint();
  const reopened = await openStorage({ dir, snapshotSource: () => [] });
  let read = 0;
  for (const record of reopened.recover().snapshot) if (record._id) read += 1;
  const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
  await reopened.close();
  rows.push({
    case: `recovery (open + read snapshot), ${count.toLocaleString('en')} records`,
    ops: read,
    seconds: readSeconds,
    rate: `${Math.round(read / readSeconds).toLocaleString('en')} records/s`,
    note: `heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB after`,
  });
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The disk's own ceiling at the time of the run: a bare write + fdatasync loop, no storage code. */
function rawFdatasync(total: number): void {
  const dir = tempDir();
  const fd = fs.openSync(path.join(dir, 'raw'), 'w');
  const buf = Buffer.alloc(100, 1);
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i += 1) {
    fs.writeSync(fd, buf, 0, buf.length, i * buf.length);
    fs.fdatasyncSync(fd);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  rows.push({
    case: 'baseline: bare writeSync + fdatasyncSync',
    ops: total,
    seconds,
    rate: `${Math.round(total / seconds).toLocaleString('en')} fsyncs/s`,
    note: 'no storage code; the ceiling for sequential appends',
  });
}

async function main(): Promise<void> {
  rawFdatasync(3_000);
  await appends('append, sequential (await each)', 5_000, 1);
  await appends('append, 10 in flight', 20_000, 10);
  await appends('append, 100 in flight', 100_000, 100);
  await appends('append, 1000 in flight', 200_000, 1000);
  await snapshot(1_000_000);
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  process.stdout.write(
    `storage benchmark on ${os.tmpdir()} (${os.cpus().length} CPUs, load ${load}, node ${process.version})\n`,
  );
  console.table(rows.map((r) => ({ ...r, seconds: r.seconds.toFixed(2) })));
}

void main();
