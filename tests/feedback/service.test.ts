// The feedback service with an injected clock: window boundaries, kiosk votes, spam and follow-up against roll-ups, privacy.
import { startTestApp, type TestApp } from '../helpers/app';
import { createFeedbackService } from '../../src/feedback/feedback.service';
import mongoose, { Types } from 'mongoose';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { markRollupApplied, setSpamFlag } from '../../src/feedback/feedback.repository';
import { rebuildRollups } from '../../src/feedback/rollup.service';
import { ALL_UNITS } from '../../src/shared/scope';
import { demoCounters, newKey, rolledUpCount, type CounterAtOffice, voteInput as input } from './support';
import { whenVotesWritten } from '../../src/feedback/vote-writer';

let t: TestApp;
let counters: CounterAtOffice[];
let next = 0;
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;
let clock = new Date('2026-03-02T02:00:00Z');
const admin: Actor = { id: '64b000000000000000000009', username: 'test-admin', displayName: 'Admin', role: 'admin', scope: ALL_UNITS, via: 'token' };

beforeAll(async () => {
  t = await startTestApp({ FEEDBACK_REPLACE_WINDOW_MINUTES: '60' });
  counters = await demoCounters();
});

afterAll(() => t.stop());

const service = () => createFeedbackService({ config: t.config, now: () => clock });
const minutes = (n: number) => {
  clock = new Date(clock.getTime() + n * 60_000);
};
async function rollupsMatchRawFeedback(): Promise<void> {
  const rebuilt = await rebuildRollups({ fix: false, pendingOlderThanMs: 0 });
  expect(rebuilt.differences).toEqual([]);
}

describe('replacement window on the clock', () => {
  test('when the second vote comes 59 minutes later, then it replaces; 61 minutes after that one, then it adds', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    const first = await fb.submitFeedback(input(token, { quick: 'dissatisfied', wentBadly: ['longWait'] }), newKey(), { channel: 'qr', deviceId: 'device-one', ip: '203.0.113.9' });
    minutes(59);
    const second = await fb.submitFeedback(input(token, { quick: 'satisfied' }), newKey(), { channel: 'qr', deviceId: 'device-one', ip: '203.0.113.9' });
    expect(second.replaced).toBe(true);
    expect(String((await FeedbackModel.findById(first.id).lean())?.replacedBy)).toBe(second.id);
    minutes(61);
    const third = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'device-one', ip: '203.0.113.9' });
    expect(third.replaced).toBe(false);
    expect(await rolledUpCount(counter.id)).toBe(2);
    await rollupsMatchRawFeedback();
  });

  test('when the local day changes between the two votes, then the old day loses one and the new day gains one', async () => {
    const { counter, token } = freshCounter();
    clock = new Date('2026-03-02T16:50:00Z');
    const fb = service();
    const first = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'night-owl' });
    minutes(20);
    await fb.submitFeedback(input(token, { quick: 'very_satisfied' }), newKey(), { channel: 'qr', deviceId: 'night-owl' });
    const stored = await FeedbackModel.find({ counterId: counter.id }).sort({ createdAt: 1 }).lean();
    expect(stored.map((feedback) => feedback.localDay)).toEqual(['2026-03-02', '2026-03-03']);
    expect(String(stored[0]?._id)).toBe(first.id);
    await rollupsMatchRawFeedback();
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when one device sends several different votes at once after an earlier one, then exactly one of them counts', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    await fb.submitFeedback(input(token, { quick: 'dissatisfied', wentBadly: ['longWait'] }), newKey(), { channel: 'qr', deviceId: 'eager-device' });
    minutes(1);
    const quick = ['very_satisfied', 'satisfied', 'dissatisfied', 'satisfied', 'very_satisfied', 'satisfied'] as const;
    const results = await Promise.all(quick.map((vote) => fb.submitFeedback(input(token, { quick: vote }), newKey(), { channel: 'qr', deviceId: 'eager-device' })));
    expect(new Set(results.map((result) => result.id)).size).toBe(6);
    const counted = await FeedbackModel.find({ counterId: counter.id, replacedBy: { $exists: false } }).lean();
    expect(counted).toHaveLength(1);
    await whenVotesWritten();
    expect(await FeedbackModel.countDocuments({ counterId: counter.id, rollup: 'pending' })).toBe(0);
    expect(await rolledUpCount(counter.id)).toBe(1);
    await rollupsMatchRawFeedback();
  });

  test('when kiosk votes share one tablet, then none replaces another', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    for (let i = 0; i < 3; i += 1) {
      await fb.submitFeedback(input(token), newKey(), { channel: 'kiosk', deviceId: 'the-tablet' });
      minutes(1);
    }
    expect(await FeedbackModel.countDocuments({ counterId: counter.id, replacedBy: { $exists: true } })).toBe(0);
    expect(await rolledUpCount(counter.id)).toBe(3);
  });

  test('when the earlier vote was flagged as spam, then a new vote from the device does not replace it and counts once', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    const first = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'device-two' });
    await fb.flagSpam(admin, first.id, 'burst');
    minutes(5);
    const second = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'device-two' });
    expect(second.replaced).toBe(false);
    expect(await rolledUpCount(counter.id)).toBe(1);
    await fb.unflagSpam(admin, first.id);
    expect(await rolledUpCount(counter.id)).toBe(2);
    await rollupsMatchRawFeedback();
  });

  test('when a replaced vote is unflagged or gets follow-up details, then it still does not count', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    const first = await fb.submitFeedback(input(token, { quick: 'dissatisfied' }), newKey(), { channel: 'qr', deviceId: 'device-three' });
    expect(first.followUp).toBeDefined();
    await fb.flagSpam(admin, first.id, 'test');
    await fb.unflagSpam(admin, first.id);
    minutes(2);
    await fb.submitFeedback(input(token, { quick: 'satisfied' }), newKey(), { channel: 'qr', deviceId: 'device-three' });
    await fb.addFollowUpDetails(first.id, first.followUp ?? '', { wentBadly: ['rudeAttitude'] });
    await fb.flagSpam(admin, first.id, 'test');
    await fb.unflagSpam(admin, first.id);
    expect(await rolledUpCount(counter.id)).toBe(1);
    await rollupsMatchRawFeedback();
  });
});

describe('pending changes of old votes', () => {
  test('when a week-old vote is flagged, replaced or given details, then the moment it became pending is recorded (reconciliation waits for it)', async () => {
    const { token } = freshCounter();
    const fb = service();
    clock = new Date('2026-02-01T03:00:00Z');
    const old = await fb.submitFeedback(input(token, { quick: 'dissatisfied' }), newKey(), { channel: 'qr', deviceId: 'old-phone' });
    const pendingAt = async () => (await FeedbackModel.findById(old.id).lean())?.rollupPendingAt?.getTime() ?? 0;
    const startedAt = Date.now();
    await fb.flagSpam(admin, old.id, 'test');
    expect(await pendingAt()).toBeGreaterThanOrEqual(startedAt);
    await FeedbackModel.updateOne({ _id: old.id }, { $unset: { rollupPendingAt: 1 } });
    await fb.unflagSpam(admin, old.id);
    expect(await pendingAt()).toBeGreaterThanOrEqual(startedAt);
    await FeedbackModel.updateOne({ _id: old.id }, { $unset: { rollupPendingAt: 1 } });
    minutes(10);
    await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'old-phone' });
    expect(await pendingAt()).toBeGreaterThanOrEqual(startedAt);
    await rollupsMatchRawFeedback();
  });
});

describe('applied marks', () => {
  test('when another change started on a vote after this one, then this one does not mark it applied (the later one, or reconciliation, does)', async () => {
    const { token } = freshCounter();
    const vote = await service().submitFeedback(input(token), newKey(), { channel: 'api' });
    const id = new Types.ObjectId(vote.id);
    const flaggedAt = new Date();
    await setSpamFlag(vote.id, ALL_UNITS, { reason: 'test', at: flaggedAt }, flaggedAt);
    const laterChange = new Date(flaggedAt.getTime() + 5);
    await FeedbackModel.updateOne({ _id: id }, { $set: { rollupPendingAt: laterChange } });
    await markRollupApplied(id, flaggedAt);
    expect((await FeedbackModel.findById(id).lean())?.rollup).toBe('pending');
    await markRollupApplied(id, laterChange);
    expect((await FeedbackModel.findById(id).lean())?.rollup).toBe('applied');
  });
});

describe('privacy', () => {
  test('when a vote is stored, then neither the raw device id nor the raw IP appears in it, and equal inputs hash equally', async () => {
    const { token } = freshCounter();
    const fb = service();
    const a = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'raw-device-id-123', ip: '198.51.100.77' });
    minutes(120);
    const b = await fb.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: 'raw-device-id-123', ip: '198.51.100.77' });
    const [first, second] = await Promise.all([FeedbackModel.findById(a.id).lean(), FeedbackModel.findById(b.id).lean()]);
    const json = JSON.stringify([first, second]);
    expect(json).not.toContain('raw-device-id-123');
    expect(json).not.toContain('198.51.100.77');
    expect(first?.deviceHash).toBe(second?.deviceHash);
    expect(first?.ipHash).toBe(second?.ipHash);
    expect(first?.deviceHash).not.toBe(first?.ipHash);
  });
});

describe('counter look-up', () => {
  /** The queries on the counters collection while `run` runs (Mongoose's debug hook sees every one). */
  async function counterQueries(run: () => Promise<unknown>): Promise<number> {
    let queries = 0;
    mongoose.set('debug', (collection: string) => {
      if (collection === 'counters') queries += 1;
    });
    try {
      await run();
    } finally {
      mongoose.set('debug', false);
    }
    return queries;
  }

  test('when many votes for one counter arrive at once, then its token is looked up once and every vote is stored', async () => {
    const { counter, token } = freshCounter();
    const fb = service();
    const before = await FeedbackModel.countDocuments({ counterId: counter.id });
    const queries = await counterQueries(() => Promise.all(Array.from({ length: 20 }, () => fb.submitFeedback(input(token), newKey(), { channel: 'api' }))));
    expect(queries).toBe(1);
    expect(await FeedbackModel.countDocuments({ counterId: counter.id })).toBe(before + 20);
  });

  test('when votes come at once with an unknown token, then each gets the 404 and the token is asked again next time', async () => {
    const fb = service();
    const attempts = Array.from({ length: 5 }, () => fb.submitFeedback(input('no-such-token-anywhere'), newKey(), { channel: 'api' }).catch((error: unknown) => error));
    for (const outcome of await Promise.all(attempts)) expect(outcome).toMatchObject({ status: 404 });
    const again = await counterQueries(() => fb.submitFeedback(input('no-such-token-anywhere'), newKey(), { channel: 'api' }).catch(() => undefined));
    expect(again).toBeGreaterThan(0);
  });
});
