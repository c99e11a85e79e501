// Roll-up test helpers: a database per test file, raw feedback factories, and the stored-versus-recomputed comparison.
import { randomUUID } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { FeedbackModel, type FeedbackDocument } from '../../src/feedback/feedback.model';
import { RollupModel } from '../../src/feedback/rollup.model';
import { diffCounts, recomputeRollups, type RollupDifference } from '../../src/feedback/rollup.service';
import { startTestDatabase, type TestDatabase } from '../helpers/database';

export async function connectRollupDatabase(): Promise<TestDatabase> {
  const database = await startTestDatabase('rollup');
  await mongoose.connect(database.uri, { serverSelectionTimeoutMS: 5000 });
  await FeedbackModel.syncIndexes();
  await RollupModel.syncIndexes();
  return database;
}

export async function disconnectRollupDatabase(database: TestDatabase): Promise<void> {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await database.stop();
}

export interface TestCounter {
  counterId: Types.ObjectId;
  officeId: Types.ObjectId;
  unitCode: string;
  unitPath: string[];
}

export function makeCounter(unitCode = '09817', unitPath = ['01', unitCode]): TestCounter {
  return { counterId: new Types.ObjectId(), officeId: new Types.ObjectId(), unitCode, unitPath };
}

/** A plain feedback record for a counter (not stored). */
export function makeFeedback(counter: TestCounter, overrides: Partial<FeedbackDocument> = {}): FeedbackDocument {
  return {
    _id: new Types.ObjectId(),
    ...counter,
    localDay: '2026-11-20',
    createdAt: new Date('2026-11-20T02:00:00Z'),
    channel: 'qr',
    lang: 'vi',
    quick: 'satisfied',
    elements: {},
    wentWell: [],
    wentBadly: [],
    idempotencyKey: randomUUID(),
    bodyHash: 'x',
    rollup: 'pending',
    ...overrides,
  };
}

export async function insertRaw(feedback: FeedbackDocument): Promise<void> {
  await FeedbackModel.collection.insertOne(feedback);
}

/** Every difference between the stored roll-ups and a recomputation from raw feedback. */
export async function storedVersusRecomputed(): Promise<RollupDifference[]> {
  const recomputed = await recomputeRollups();
  const stored = await RollupModel.find().lean();
  const keyOf = (r: { counterId: Types.ObjectId; day: string }) => `${String(r.counterId)}|${r.day}`;
  const byKey = new Map(recomputed.map((r) => [keyOf(r), r]));
  const differences: RollupDifference[] = [];
  for (const s of stored) {
    differences.push(...diffCounts(s, s, byKey.get(keyOf(s)) ?? null));
    byKey.delete(keyOf(s));
  }
  for (const r of byKey.values()) differences.push(...diffCounts(r, null, r));
  return differences;
}
