// Durability under kill -9: a child appends numbered writes; after SIGKILL every acknowledged one is on disk, whole.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readBack, spawnFixture, tempDir } from './helpers';

interface Round {
  inFlight: number;
  compactAfterBytes: number;
  /** Kill once this many writes were acknowledged in the round... */
  afterAcks: number;
  /** ...or, when set, shortly after the child reports this many finished snapshots (so mostly mid-snapshot). */
  afterSnapshots?: number;
}

/** Runs the writer until the kill condition, SIGKILLs it, and returns the numbers it printed as acknowledged. */
function runAndKill(dir: string, round: Round): Promise<number[]> {
  const child: ChildProcessWithoutNullStreams = spawnFixture('crash-writer.ts', [
    dir,
    String(round.compactAfterBytes),
    String(round.inFlight),
  ]);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let killing = false;
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (killing) return;
      const lines = out.split('\n');
      const acks = lines.filter((l) => /^\d+$/.test(l)).length;
      const snapshots = lines.filter((l) => l === 'snapshot').length;
      const ready = round.afterSnapshots === undefined ? acks >= round.afterAcks : snapshots >= round.afterSnapshots;
      if (ready) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited by itself (${code ?? signal}): ${err}`));
        return;
      }
      // Only complete lines count: a number is acknowledged once its newline was printed.
      const complete = out.slice(0, out.lastIndexOf('\n') + 1);
      resolve(complete.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
    });
  });
}

const rounds: Round[] = [
  { inFlight: 1, compactAfterBytes: 64 * 1024 * 1024, afterAcks: 50 },
  { inFlight: 64, compactAfterBytes: 64 * 1024 * 1024, afterAcks: 3000 },
  { inFlight: 1, compactAfterBytes: 16 * 1024, afterAcks: 0, afterSnapshots: 3 },
  { inFlight: 64, compactAfterBytes: 64 * 1024, afterAcks: 0, afterSnapshots: 4 },
  { inFlight: 8, compactAfterBytes: 32 * 1024, afterAcks: 0, afterSnapshots: 2 },
  { inFlight: 64, compactAfterBytes: 256 * 1024, afterAcks: 0, afterSnapshots: 1 },
  { inFlight: 1, compactAfterBytes: 8 * 1024, afterAcks: 400 },
  { inFlight: 32, compactAfterBytes: 128 * 1024, afterAcks: 5000 },
];

describe('storage under kill -9', () => {
  it('when the writer is SIGKILLed at random moments (also mid-snapshot), then every acknowledged write survives whole and in order', async () => {
    const dir = tempDir();
    let highestAcked = 0;
    for (const round of rounds) {
      const acked = await runAndKill(dir, round);
      expect(acked.length).toBeGreaterThan(0);
      highestAcked = Math.max(highestAcked, ...acked);

      const { all } = await readBack(dir);
      expect(all.length % 3).toBe(0);
      const writes = all.length / 3;
      expect(writes).toBeGreaterThanOrEqual(highestAcked);
      // Entries come back as whole writes (parts 0, 1, 2 together) numbered 1..writes with no gap or repeat.
      const mismatch = all.findIndex(
        (entry, k) => entry.n !== Math.floor(k / 3) + 1 || entry.part !== k % 3 || entry.pad !== 'p'.repeat(200),
      );
      expect(mismatch).toBe(-1);
      // Numbers recovered but never printed were written yet unacknowledged; the next round continues after them.
      highestAcked = writes;
    }
  }, 180_000);
});
