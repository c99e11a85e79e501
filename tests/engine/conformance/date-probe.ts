// Child-process probe: evaluates the date cases under this process's TZ against a fresh engine (or MONGODB_URI).
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startEngine } from '../../../src/engine';
import { runDateCases } from './date-cases';

async function main(): Promise<void> {
  const externalUri = process.env.MONGODB_URI;
  const engine = externalUri ? null : await startEngine({ dataDir: null });
  const client = new MongoClient(externalUri ?? engine?.uri ?? '');
  const dbName = `conf_tzprobe_${randomBytes(4).toString('hex')}`;
  try {
    await client.connect();
    const db = client.db(dbName);
    const results = await runDateCases(db, 'instants');
    await db.dropDatabase();
    process.stdout.write(`RESULT ${JSON.stringify({ hostTz: process.env.TZ, offsetMinutes: new Date(2024, 0, 1).getTimezoneOffset(), results })}\n`);
  } finally {
    await client.close();
    await engine?.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
