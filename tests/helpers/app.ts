// Test app: createApp() on a fresh database per test file, with a silent logger and test configuration.
import mongoose from 'mongoose';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/shared/logger';
import { startTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  app: Express;
  config: Config;
  logger: Logger;
  database: TestDatabase;
  stop(): Promise<void>;
}

/** Builds the app against its own database; pass env overrides to change configuration. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await startTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://thuocdo.test', ...env });
  const logger = createLogger('silent');
  await mongoose.connect(database.uri, { serverSelectionTimeoutMS: 5000 });
  await mongoose.connection.syncIndexes();
  const app = createApp({ config, logger });
  return {
    app,
    config,
    logger,
    database,
    async stop() {
      await mongoose.connection.dropDatabase().catch(() => undefined);
      await mongoose.disconnect();
      await database.stop();
    },
  };
}
