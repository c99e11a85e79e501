// Test database: a real MongoDB when MONGODB_URI is set, otherwise an in-memory embedded engine.
import { randomBytes } from 'node:crypto';
import { startEngine, type RunningEngine } from '../../src/engine';

export interface TestDatabase {
  /** Connection string including a database name unique to this test file. */
  uri: string;
  dbName: string;
  /** True when the tests run against a real MongoDB (MONGODB_URI). */
  external: boolean;
  stop(): Promise<void>;
}

function withDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** Starts (or connects to) a database for one test file; call stop() in afterAll. */
export async function startTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const dbName = `${prefix}_${randomBytes(4).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  if (external) {
    return { uri: withDatabase(external, dbName), dbName, external: true, stop: async () => {} };
  }
  const engine: RunningEngine = await startEngine({ dataDir: null });
  return { uri: withDatabase(engine.uri, dbName), dbName, external: false, stop: () => engine.close() };
}
