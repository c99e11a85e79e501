// The engine on its own worker thread (as the server runs it): durable across restarts, logs reach the app, a locked
// data directory is refused.
import { MongoClient } from 'mongodb';
import { startEngineThread, type EngineLogger } from '../../../src/engine';
import { tempDir } from '../storage/helpers';

const maybe = process.env.MONGODB_URI ? describe.skip : describe;

function recordingLogger(): EngineLogger & { lines: { level: string; fields: object; message?: string }[] } {
  const lines: { level: string; fields: object; message?: string }[] = [];
  const at = (level: string) => (fields: object, message?: string) => lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

maybe('engine thread', () => {
  test('when documents are written through the thread and it is restarted, then they are there, and its log lines reach the logger', async () => {
    const dir = tempDir();
    const logger = recordingLogger();
    const engine = await startEngineThread({ dataDir: dir, logger });
    const client = await new MongoClient(engine.uri).connect();
    await client.db('t').collection('votes').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, quick: i % 3 === 0 ? 'dissatisfied' : 'satisfied' })) as never[]);
    await client.close();
    await engine.close();
    expect(logger.lines).toContainEqual({ level: 'info', fields: { dir }, message: 'storage closed' });

    const again = await startEngineThread({ dataDir: dir, logger });
    const client2 = await new MongoClient(again.uri).connect();
    try {
      expect(await client2.db('t').collection('votes').countDocuments({ quick: 'dissatisfied' })).toBe(17);
      expect(logger.lines.some((line) => line.message === 'recovered data directory')).toBe(true);
    } finally {
      await client2.close();
      await again.close();
    }
  });

  test('when the data directory is already in use, then the second thread refuses to start with the reason', async () => {
    const dir = tempDir();
    const engine = await startEngineThread({ dataDir: dir });
    try {
      await expect(startEngineThread({ dataDir: dir })).rejects.toThrow(/lock|in use/i);
    } finally {
      await engine.close();
    }
  });

  test('when closed twice, then the second close resolves too', async () => {
    const engine = await startEngineThread({ dataDir: null });
    await engine.close();
    await expect(engine.close()).resolves.toBeUndefined();
  });
});
