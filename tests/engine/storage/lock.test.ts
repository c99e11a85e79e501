// Storage lock: one process per data directory; stale locks from dead processes are taken over.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openStorage } from '../../../src/engine/storage';
import { killAndWait, recordingLogger, spawnFixture, tempDir, waitForOutput } from './helpers';

describe('storage lock', () => {
  it('when another live process holds the directory, then open rejects naming that process; once it dies the lock is taken over', async () => {
    const dir = tempDir();
    const child = spawnFixture('lock-holder.ts', [dir]);
    try {
      await waitForOutput(child, (out) => out.includes('ready'));
      await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(
        `data directory ${dir} is in use by process ${child.pid}`,
      );
    } finally {
      await killAndWait(child);
    }
    const logger = recordingLogger();
    const storage = await openStorage({ dir, snapshotSource: () => [], logger });
    expect(logger.warnings).toEqual([expect.stringMatching(/stale/)]);
    expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    await storage.close();
  });

  it('when the lock file names a dead process, then open takes it over with a warning and close releases it', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.writeFileSync(path.join(dir, 'LOCK'), `${dead}\n`);
    const logger = recordingLogger();
    const storage = await openStorage({ dir, snapshotSource: () => [], logger });
    expect(logger.warnings).toHaveLength(1);
    await storage.close();
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
  });

  it('when the same process opens a directory twice, then the second open rejects until the first is closed', async () => {
    const dir = tempDir();
    const first = await openStorage({ dir, snapshotSource: () => [] });
    await expect(openStorage({ dir, snapshotSource: () => [] })).rejects.toThrow(/is in use by process/);
    await first.close();
    const second = await openStorage({ dir, snapshotSource: () => [] });
    await second.close();
  });
});
