// Child-process probe for the CRUD spec runner: prints the server's version and topology as one JSON line.
import { MongoClient } from 'mongodb';
import { startTestDatabase } from '../../helpers/database';

async function main(): Promise<void> {
  const database = await startTestDatabase('crud_spec_info');
  const client = new MongoClient(database.uri, { serverSelectionTimeoutMS: 10000 });
  try {
    await client.connect();
    const admin = client.db('admin');
    const info = await admin.command({ buildInfo: 1 });
    const hello = await admin.command({ hello: 1 });
    const topology = hello.msg === 'isdbgrid' ? 'sharded' : hello.setName !== undefined ? 'replicaset' : 'single';
    process.stdout.write(`${JSON.stringify({ version: String(info.version), topology })}\n`);
  } finally {
    await client.close();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
