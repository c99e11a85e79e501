// Property: after any mix of votes, retries, replacements, spam flags and unflags through the feedback service, the stored roll-ups equal a recomputation from raw feedback.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { createFeedbackService, type FeedbackService } from '../../src/feedback/feedback.service';
import type { FeedbackInput } from '../../src/feedback/feedback.schema';
import { ELEMENTS, QUICK_VOTES, WENT_BADLY, WENT_WELL } from '../../src/feedback/feedback.types';
import { RollupModel } from '../../src/feedback/rollup.model';
import { ALL_UNITS } from '../../src/shared/scope';
import { findCounters, seedDemoUnits } from '../../src/units';
import type { TestDatabase } from '../helpers/database';
import { connectRollupDatabase, disconnectRollupDatabase, storedVersusRecomputed } from './rollup.helpers';
import { whenVotesWritten } from '../../src/feedback/vote-writer';

let database: TestDatabase;
let tokens: string[];

beforeAll(async () => {
  database = await connectRollupDatabase();
  await seedDemoUnits();
  tokens = (await findCounters(ALL_UNITS, { activeOnly: true })).slice(0, 2).map((counter) => counter.qrToken);
});

afterAll(async () => {
  await disconnectRollupDatabase(database);
});

const level = fc.option(fc.integer({ min: 1, max: 5 }), { nil: null });

const voteArb = fc.record({
  kind: fc.constant('vote' as const),
  counter: fc.integer({ min: 0, max: 1 }),
  device: fc.integer({ min: 0, max: 2 }),
  // Minutes since the previous operation: small steps replace within the window, large ones cross it and the local midnight.
  advance: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 50, max: 900 })),
  quick: fc.constantFrom(...QUICK_VOTES),
  details: fc.option(
    fc.record({
      elements: fc.record(Object.fromEntries(ELEMENTS.map((element) => [element, level])), { requiredKeys: [] }),
      trips: fc.option(fc.constantFrom(1 as const, 2 as const, 3 as const), { nil: undefined }),
      wentWell: fc.subarray([...WENT_WELL]),
      wentBadly: fc.subarray([...WENT_BADLY]),
    }),
    { nil: undefined },
  ),
});
const retryArb = fc.record({ kind: fc.constant('retry' as const) });
const flagArb = fc.record({ kind: fc.constant('flag' as const), pick: fc.nat() });
const unflagArb = fc.record({ kind: fc.constant('unflag' as const), pick: fc.nat() });
const operationArb = fc.oneof({ arbitrary: voteArb, weight: 6 }, { arbitrary: retryArb, weight: 1 }, { arbitrary: flagArb, weight: 2 }, { arbitrary: unflagArb, weight: 2 });

type Operation = typeof operationArb extends fc.Arbitrary<infer T> ? T : never;

async function run(operations: Operation[]): Promise<void> {
  await FeedbackModel.collection.deleteMany({});
  await RollupModel.collection.deleteMany({});
  let clock = new Date('2026-11-20T01:00:00Z');
  const config = loadConfig({ LOG_LEVEL: 'silent', FEEDBACK_REPLACE_WINDOW_MINUTES: '60' });
  const service: FeedbackService = createFeedbackService({ config, now: () => clock });
  const moderator: Actor = { id: 'property-test', username: 'moderator', displayName: 'Moderator', role: 'admin', scope: ALL_UNITS, via: 'session' };
  let last: { input: FeedbackInput; key: string; deviceId: string } | null = null;

  const stored = async () => (await FeedbackModel.find({}, { _id: 1 }).sort({ _id: 1 }).lean()).map((doc) => String(doc._id));
  for (const op of operations) {
    if (op.kind === 'vote') {
      clock = new Date(clock.getTime() + op.advance * 60_000);
      const input: FeedbackInput = {
        qrToken: tokens[op.counter],
        quick: op.quick,
        elements: op.details?.elements ?? {},
        ...(op.details?.trips ? { trips: op.details.trips } : {}),
        wentWell: [...(op.details?.wentWell ?? [])].sort(),
        wentBadly: [...(op.details?.wentBadly ?? [])].sort(),
        lang: 'vi',
      };
      last = { input, key: randomUUID(), deviceId: `device-${op.device}` };
      await service.submitFeedback(input, last.key, { channel: 'qr', deviceId: last.deviceId, ip: '203.0.113.9' });
    } else if (op.kind === 'retry') {
      if (last) await service.submitFeedback(last.input, last.key, { channel: 'qr', deviceId: last.deviceId, ip: '203.0.113.9' });
    } else {
      const ids = await stored();
      if (ids.length === 0) continue;
      const id = ids[op.pick % ids.length];
      if (op.kind === 'flag') await service.flagSpam(moderator, id, 'property test');
      else await service.unflagSpam(moderator, id);
    }
  }
}

describe('roll-ups under a random mix of operations', () => {
  it('when votes, retries, replacements, spam flags and unflags happen in any order, then the stored roll-ups equal a recomputation', async () => {
    const seen = { replaced: 0, spam: 0, days: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(operationArb, { minLength: 1, maxLength: 30 }), async (operations) => {
        await run(operations);
        await whenVotesWritten();
        expect(await storedVersusRecomputed()).toEqual([]);
        expect(await FeedbackModel.countDocuments({ rollup: 'pending' })).toBe(0);
        seen.replaced += await FeedbackModel.countDocuments({ replacedBy: { $exists: true } });
        seen.spam += await FeedbackModel.countDocuments({ spam: { $exists: true } });
        seen.days = Math.max(seen.days, (await RollupModel.distinct('day')).length);
      }),
      { numRuns: 25 },
    );
    // The generated mixes did reach the interesting paths: replacements, spam, and roll-ups over several days.
    expect(seen.replaced).toBeGreaterThan(0);
    expect(seen.spam).toBeGreaterThan(0);
    expect(seen.days).toBeGreaterThan(1);
  });
});
