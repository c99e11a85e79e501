// Child-process probe: evaluates the date cases under this process's TZ against a fresh engine (or MONGODB_URI).
import { MongoClient } from 'mongodb';
import { startTestDatabase } from '../../helpers/database';
import { runDateCases } from './date-cases';

async function main(): Promise<void> {
  const database = await startTestDatabase('conf_tzprobe');
  const client = new MongoClient(database.uri);
  try {
    await client.connect();
    const db = client.db(database.dbName);
    const results = await runDateCases(db, 'instants');
    await db.dropDatabase();
    process.stdout.write(`RESULT ${JSON.stringify({ hostTz: process.env.TZ, offsetMinutes: new Date(2024, 0, 1).getTimezoneOffset(), results })}\n`);
  } finally {
    await client.close();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
