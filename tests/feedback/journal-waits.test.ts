// Which writes of a vote wait for the journal: an answered vote is durable, the writes before it need not wait.
import type { CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import { createRateGuards } from '../../src/feedback/abuse';
import { createFeedbackService, type FeedbackService } from '../../src/feedback/feedback.service';
import { whenVotesWritten } from '../../src/feedback/vote-writer';
import { loadConfig } from '../../src/config';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { demoCounters, newKey, voteInput, type CounterAtOffice } from './support';

const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);

interface Write {
  command: string;
  collection: string;
  /** False when the write is answered without waiting for the journal. */
  waitsForJournal: boolean;
  /** The write concern's `w`, when the write gives one. */
  w?: unknown;
}

let database: TestDatabase;
let service: FeedbackService;
let counter: CounterAtOffice;
let writes: Write[] = [];

function record(event: CommandStartedEvent): void {
  if (!WRITES.has(event.commandName)) return;
  const concern = event.command.writeConcern as { j?: unknown; w?: unknown } | undefined;
  writes.push({
    command: event.commandName,
    collection: String(event.command[event.commandName]),
    waitsForJournal: concern?.j !== false,
    ...(concern?.w !== undefined ? { w: concern.w } : {}),
  });
}

beforeAll(async () => {
  database = await startTestDatabase();
  await mongoose.connect(database.uri, { serverSelectionTimeoutMS: 5000, monitorCommands: true });
  await mongoose.connection.syncIndexes();
  mongoose.connection.getClient().on('commandStarted', record);
  const config = loadConfig({ LOG_LEVEL: 'silent', FEEDBACK_REPLACE_WINDOW_MINUTES: '10' });
  service = createFeedbackService({ config, guards: createRateGuards(config.feedback) });
  [counter] = (await demoCounters()) as [CounterAtOffice];
  // The first vote resolves the counter (and creates the limiters' indexes): only the next one is looked at.
  await service.submitFeedback(voteInput(counter.token), newKey(), { channel: 'qr', deviceId: 'AAAAAAAAAAAAAAAAAAAAAA', ip: '10.1.2.3' });
  await whenVotesWritten();
});

afterAll(async () => {
  mongoose.connection.getClient().off('commandStarted', record);
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await database.stop();
});

test('when a vote is answered, then its roll-up increment waited for the journal after its insert and charges, which did not wait', async () => {
  writes = [];
  await service.submitFeedback(voteInput(counter.token), newKey(), { channel: 'qr', deviceId: 'BBBBBBBBBBBBBBBBBBBBBB', ip: '10.1.2.3' });
  const beforeAnswer = [...writes];
  const last = beforeAnswer.at(-1);
  // Majority-acknowledged: journaled on any deployment, a standalone mongod included.
  expect(last).toEqual({ command: 'update', collection: 'feedback_rollups', waitsForJournal: true, w: 'majority' });
  // The journal is flushed in order: the roll-up's wait makes every earlier write durable too.
  expect(beforeAnswer.slice(0, -1)).toEqual(
    expect.arrayContaining([
      { command: 'update', collection: 'hourly_limits', waitsForJournal: false, w: 1 },
      { command: 'insert', collection: 'feedback', waitsForJournal: false, w: 1 },
    ]),
  );
  expect(beforeAnswer.filter((write) => write.collection === 'feedback_rollups')).toHaveLength(1);
});

test("when a vote replaces the device's earlier one, then the replacement and its decrement wait for the journal before the answer", async () => {
  const deviceId = 'CCCCCCCCCCCCCCCCCCCCCC';
  await service.submitFeedback(voteInput(counter.token), newKey(), { channel: 'qr', deviceId, ip: '10.1.2.3' });
  await whenVotesWritten();
  writes = [];
  const result = await service.submitFeedback(voteInput(counter.token, { quick: 'dissatisfied' }), newKey(), { channel: 'qr', deviceId, ip: '10.1.2.3' });
  expect(result.replaced).toBe(true);
  const beforeAnswer = [...writes];
  expect(beforeAnswer.filter((write) => write.waitsForJournal).map((write) => `${write.command} ${write.collection}`).sort()).toEqual([
    'findAndModify feedback',
    'update feedback_rollups',
    'update feedback_rollups',
  ]);
  expect(beforeAnswer.at(-1)).toEqual({ command: 'update', collection: 'feedback_rollups', waitsForJournal: true, w: 'majority' });
});

test("when a vote's 'applied' marks are written after its answer, then they do not wait for the journal", async () => {
  writes = [];
  await service.submitFeedback(voteInput(counter.token), newKey(), { channel: 'qr', deviceId: 'DDDDDDDDDDDDDDDDDDDDDD', ip: '10.1.2.3' });
  const answered = writes.length;
  await whenVotesWritten();
  expect(writes.slice(answered)).toEqual([{ command: 'update', collection: 'feedback', waitsForJournal: false, w: 1 }]);
});
