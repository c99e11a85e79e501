// Votes written in batches answer exactly as if written one by one: idempotency, rate limits and kiosk interval.
import { Writable } from 'node:stream';
import { startTestApp, type TestApp } from '../helpers/app';
import { createRateGuards, type RateGuards } from '../../src/feedback/abuse';
import { Types } from 'mongoose';
import { LimitWindowModel } from '../../src/feedback/hourly-limits';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { createFeedbackService, type FeedbackService, type SubmitResult } from '../../src/feedback/feedback.service';
import { rebuildRollups } from '../../src/feedback/rollup.service';
import { MAX_IN_FLIGHT, whenVotesWritten } from '../../src/feedback/vote-writer';
import { AppError } from '../../src/shared/errors';
import { createLogger } from '../../src/shared/logger';
import { demoCounters, feedbackCount, newKey, rolledUpCount, type CounterAtOffice, voteInput as input } from './support';

let t: TestApp;
let counters: CounterAtOffice[];
let next = 0;
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;
let service: FeedbackService;

beforeAll(async () => {
  t = await startTestApp({ FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: '3', FEEDBACK_LIMIT_PER_IP_PER_HOUR: '1000', FEEDBACK_REPLACE_WINDOW_MINUTES: '0', KIOSK_MIN_INTERVAL_SECONDS: '600' });
  counters = await demoCounters();
  service = createFeedbackService({ config: t.config, guards: createRateGuards(t.config.feedback) });
});

afterAll(() => t.stop());

/** Each outcome as the HTTP layer would see it: the result, or the error's status and message key. */
async function outcomes(submissions: Promise<SubmitResult>[]): Promise<(SubmitResult | { status: number; messageKey: string })[]> {
  const settled = await Promise.allSettled(submissions);
  return settled.map((outcome) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    if (outcome.reason instanceof AppError) return { status: outcome.reason.status, messageKey: outcome.reason.messageKey };
    throw outcome.reason;
  });
}

/**
 * A counter whose QR token the service has just resolved (one vote cast), so that votes submitted together reach the
 * writer in the same turn of the event loop, thus the same batch.
 */
async function warmCounter(): Promise<CounterAtOffice> {
  const target = freshCounter();
  await service.submitFeedback(input(target.token), newKey(), { channel: 'api' });
  return target;
}

async function rollupsMatchRawFeedback(): Promise<void> {
  await whenVotesWritten();
  expect((await rebuildRollups({ fix: false, pendingOlderThanMs: 0 })).differences).toEqual([]);
}

describe('idempotency within a batch', () => {
  test('when the same key and body arrive five times at once, then one vote is stored and all five get its id', async () => {
    const { counter, token } = await warmCounter();
    const key = newKey();
    const results = await outcomes(Array.from({ length: 5 }, (_, i) => service.submitFeedback(input(token), key, { channel: 'api', ip: `10.0.0.${i}` })));
    const ids = results.map((result) => ('id' in result ? result.id : 'error'));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).not.toBe('error');
    expect(results.filter((result) => 'created' in result && result.created)).toHaveLength(1);
    expect(await feedbackCount({ counterId: counter.id })).toBe(2);
    expect(await rolledUpCount(counter.id)).toBe(2);
  });

  test('when one key comes at once with different bodies, then the first body is stored and the others get 409', async () => {
    const { counter, token } = await warmCounter();
    const key = newKey();
    const votes = ['very_satisfied', 'dissatisfied', 'satisfied'] as const;
    const results = await outcomes(votes.map((quick) => service.submitFeedback(input(token, { quick }), key, { channel: 'api' })));
    expect(results[0]).toMatchObject({ created: true });
    expect(results.slice(1)).toEqual([
      { status: 409, messageKey: 'feedback.errors.keyReused' },
      { status: 409, messageKey: 'feedback.errors.keyReused' },
    ]);
    expect(await feedbackCount({ counterId: counter.id, quick: 'very_satisfied' })).toBe(1);
    expect(await feedbackCount({ counterId: counter.id })).toBe(2);
  });
});

describe('rate limits charged per batch', () => {
  test('when one device sends five votes at once with a limit of three, then the first three are stored and two get 429', async () => {
    const device = `batch-device-${newKey()}`;
    const targets = Array.from({ length: 5 }, () => freshCounter());
    const results = await outcomes(targets.map(({ token }) => service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device })));
    expect(results.slice(0, 3).every((result) => 'created' in result && result.created)).toBe(true);
    expect(results.slice(3)).toEqual([
      { status: 429, messageKey: 'feedback.errors.rateLimited' },
      { status: 429, messageKey: 'feedback.errors.rateLimited' },
    ]);
    const stored = await Promise.all(targets.map(({ counter }) => feedbackCount({ counterId: counter.id })));
    expect(stored.reduce((sum, count) => sum + count, 0)).toBe(3);
    await rollupsMatchRawFeedback();
  });

  test('when a device over its limit replays a stored vote, then it gets the stored answer, not 429', async () => {
    const device = `replaying-device-${newKey()}`;
    const key = newKey();
    const { token } = freshCounter();
    const first = await service.submitFeedback(input(token), key, { channel: 'qr', deviceId: device });
    await outcomes([0, 1, 2].map(() => service.submitFeedback(input(freshCounter().token), newKey(), { channel: 'qr', deviceId: device })));
    const [replay, fresh] = await outcomes([
      service.submitFeedback(input(token), key, { channel: 'qr', deviceId: device }),
      service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device }),
    ]);
    expect(replay).toEqual({ ...first, created: false });
    expect(fresh).toEqual({ status: 429, messageKey: 'feedback.errors.rateLimited' });
  });

  test('when a replay and a fresh vote of a device one vote short of its limit come together, then the replay is not charged and the fresh vote takes the last place', async () => {
    const device = `edge-device-${newKey()}`;
    const key = newKey();
    const { token } = await warmCounter();
    const first = await service.submitFeedback(input(token), key, { channel: 'qr', deviceId: device, ip: '10.4.0.1' });
    await service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device, ip: '10.4.0.1' });
    const [replay, fresh] = await outcomes([
      service.submitFeedback(input(token), key, { channel: 'qr', deviceId: device, ip: '10.4.0.1' }),
      service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device, ip: '10.4.0.1' }),
    ]);
    expect(replay).toMatchObject({ id: first.id, created: false });
    expect(fresh).toMatchObject({ created: true });
    const windows = await LimitWindowModel.find({}).lean();
    const deviceHash = (await FeedbackModel.findById(first.id).lean())?.deviceHash;
    expect(windows.filter((window) => window._id.startsWith(`device:${deviceHash}:`)).map((window) => window.points)).toEqual([3]);
    expect(await service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device, ip: '10.4.0.1' }).catch((error: AppError) => error.status)).toBe(429);
  });

  test('when three kiosk votes reach one counter at once, then one is stored and two are told to wait; another counter is not affected', async () => {
    const { counter, token } = freshCounter();
    const other = freshCounter();
    const results = await outcomes([
      ...[0, 1, 2].map(() => service.submitFeedback(input(token), newKey(), { channel: 'kiosk', ip: '10.1.1.1' })),
      service.submitFeedback(input(other.token), newKey(), { channel: 'kiosk', ip: '10.1.1.1' }),
    ]);
    expect(results.filter((result) => 'created' in result)).toHaveLength(2);
    expect(results.filter((result) => 'status' in result)).toEqual([
      { status: 429, messageKey: 'feedback.errors.kioskTooSoon' },
      { status: 429, messageKey: 'feedback.errors.kioskTooSoon' },
    ]);
    expect(await feedbackCount({ counterId: counter.id })).toBe(1);
    expect(await feedbackCount({ counterId: other.counter.id })).toBe(1);
  });
});

describe('arrival order under load', () => {
  test('when one key comes twice with different bodies among many other votes, then the first body is stored and the second gets 409, every time', async () => {
    const { counter, token } = await warmCounter();
    for (let round = 0; round < 5; round += 1) {
      const key = newKey();
      // Other citizens' phones: their batch has one device charge each, so a batch of the second vote alone would
      // be faster, were it allowed to run beside the first one's.
      const others = Array.from({ length: 60 }, () => service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: `phone-${newKey()}` }));
      const first = service.submitFeedback(input(token, { quick: 'very_satisfied' }), key, { channel: 'api' });
      const second = service.submitFeedback(input(token, { quick: 'dissatisfied', wentBadly: ['longWait'] }), key, { channel: 'api' });
      const [firstResult, secondResult] = await outcomes([first, second]);
      await Promise.all(others);
      expect(firstResult).toMatchObject({ created: true });
      expect(secondResult).toEqual({ status: 409, messageKey: 'feedback.errors.keyReused' });
      expect(await FeedbackModel.findOne({ idempotencyKey: key }).lean()).toMatchObject({ quick: 'very_satisfied' });
    }
    await whenVotesWritten();
    expect(await FeedbackModel.countDocuments({ counterId: counter.id, rollup: 'pending' })).toBe(0);
  });

  test('when a vote that replaces another is replayed at once, then the replay tells the same (replaced), after the original is done', async () => {
    let clock = new Date('2026-05-04T01:00:00Z');
    const timed = createFeedbackService({ config: { ...t.config, feedback: { ...t.config.feedback, replaceWindowMinutes: 60 } }, now: () => clock });
    const device = `replaying-${newKey()}`;
    const { token } = freshCounter();
    await timed.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device });
    clock = new Date('2026-05-04T01:05:00Z');
    const key = newKey();
    const results = await outcomes([0, 1, 2].map(() => timed.submitFeedback(input(token, { quick: 'very_satisfied' }), key, { channel: 'qr', deviceId: device })));
    expect(results.map((result) => ('replaced' in result ? result.replaced : 'error'))).toEqual([true, true, true]);
    expect(results.filter((result) => 'created' in result && result.created)).toHaveLength(1);
  });

  test('when a kiosk vote is replayed from its offline queue after the interval, then the next citizen is not told to wait', async () => {
    const kioskService = createFeedbackService({
      config: { ...t.config, feedback: { ...t.config.feedback, kioskMinIntervalSeconds: 1 } },
      guards: createRateGuards({ ...t.config.feedback, kioskMinIntervalSeconds: 1 }),
    });
    const { token } = freshCounter();
    const key = newKey();
    const first = await kioskService.submitFeedback(input(token), key, { channel: 'kiosk', ip: '10.3.0.1' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [replay, next] = await outcomes([
      kioskService.submitFeedback(input(token), key, { channel: 'kiosk', ip: '10.3.0.1' }),
      kioskService.submitFeedback(input(token, { quick: 'very_satisfied' }), newKey(), { channel: 'kiosk', ip: '10.3.0.1' }),
    ]);
    expect(replay).toEqual({ ...first, created: false });
    expect(next).toMatchObject({ created: true });
  });
});

describe('a database failure during a batch', () => {
  test('when the insert fails, then every vote of the batch gets the error (none hangs), and the next votes are written', async () => {
    const { counter, token } = await warmCounter();
    const failure = jest.spyOn(FeedbackModel.collection, 'insertMany').mockRejectedValueOnce(new Error('connection lost'));
    try {
      const results = await Promise.allSettled([0, 1, 2].map(() => service.submitFeedback(input(token), newKey(), { channel: 'api' })));
      expect(results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'stored'))).toEqual(['connection lost', 'connection lost', 'connection lost']);
    } finally {
      failure.mockRestore();
    }
    expect(await service.submitFeedback(input(token), newKey(), { channel: 'api' })).toMatchObject({ created: true });
    expect(await feedbackCount({ counterId: counter.id })).toBe(2);
  });
});

describe('a database that does not answer', () => {
  test('when batches hang past the deadline, then their votes and the one queued behind them are answered 503; the queued one is never written, the others are once the database answers', async () => {
    const { counter, token } = await warmCounter();
    let answer: () => void = () => {};
    const hung = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let holding = false;
    const guards: RateGuards = {
      async charge(charges) {
        if (holding) await hung;
        return { refusals: charges.map(() => null), refund: async () => {} };
      },
    };
    const slow = createFeedbackService({ config: t.config, guards, voteDeadlineMs: 200 });
    // A first vote while the database answers: the service knows the counter from then on.
    await slow.submitFeedback(input(token), newKey(), { channel: 'api' });
    holding = true;
    const before = await feedbackCount({ counterId: counter.id });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // One vote per turn of the event loop: as many batches in flight as a writer runs; the last vote queues.
    const keys = Array.from({ length: MAX_IN_FLIGHT + 1 }, () => newKey());
    const submissions: Promise<SubmitResult>[] = [];
    for (const key of keys) {
      submissions.push(slow.submitFeedback(input(token), key, { channel: 'api' }));
      for (let i = 0; i < 5; i += 1) await turn();
    }
    expect(await outcomes(submissions)).toEqual(keys.map(() => ({ status: 503, messageKey: 'feedback.errors.notSavedYet' })));
    answer();
    await whenVotesWritten();
    expect(await feedbackCount({ counterId: counter.id })).toBe(before + MAX_IN_FLIGHT);
    // Sent again with their keys: the stored ones are replays, the dropped one is stored now.
    const retries = await outcomes(keys.map((key) => slow.submitFeedback(input(token), key, { channel: 'api' })));
    expect(retries.map((retry) => ('created' in retry ? retry.created : retry.status))).toEqual([...keys.slice(1).map(() => false), true]);
    expect(await feedbackCount({ counterId: counter.id })).toBe(before + keys.length);
    await rollupsMatchRawFeedback();
  });
});

describe('charges given back', () => {
  function loggedLines(): { lines: string[]; destination: Writable } {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, destination };
  }

  test('when giving the charge back fails, then the replay gets its answer, the other vote is charged again and written, and the failure is logged', async () => {
    const real = createRateGuards(t.config.feedback);
    const guards: RateGuards = {
      async charge(charges) {
        const charged = await real.charge(charges);
        return { ...charged, refund: () => Promise.reject(new Error('refund lost')) };
      },
    };
    const { lines, destination } = loggedLines();
    const failing = createFeedbackService({ config: t.config, guards, logger: createLogger('warn', destination) });
    const { token } = freshCounter();
    const key = newKey();
    const first = await failing.submitFeedback(input(token), key, { channel: 'qr', deviceId: `refund-${newKey()}` });
    const [replay, fresh] = await outcomes([
      failing.submitFeedback(input(token), key, { channel: 'qr', deviceId: `refund-${newKey()}` }),
      failing.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: `refund-${newKey()}` }),
    ]);
    expect(replay).toMatchObject({ id: first.id, created: false });
    expect(fresh).toMatchObject({ created: true });
    expect(lines.join('')).toContain('a rate-limit charge could not be given back');
  });

  test('when the look-up fails, then every vote of the batch gets the error and the charge is given back', async () => {
    const { token } = await warmCounter();
    const device = `lookup-${newKey()}`;
    const failure = jest.spyOn(FeedbackModel, 'find').mockImplementationOnce(() => {
      throw new Error('connection lost');
    });
    try {
      const results = await Promise.allSettled([0, 1].map(() => service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device })));
      expect(results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'stored'))).toEqual(['connection lost', 'connection lost']);
    } finally {
      failure.mockRestore();
    }
    // The failed batch's two points were given back: the device still has its whole limit (three an hour).
    const accepted = await outcomes([0, 1, 2, 3].map(() => service.submitFeedback(input(token), newKey(), { channel: 'qr', deviceId: device })));
    expect(accepted.map((result) => ('created' in result ? 'stored' : result.status))).toEqual(['stored', 'stored', 'stored', 429]);
  });
});

describe('the applied marks, written after the answer', () => {
  test('when the marks cannot be written, then the votes are answered and counted, stay pending for reconciliation, and the failure is logged', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = createFeedbackService({ config: t.config, guards: createRateGuards(t.config.feedback), logger: createLogger('warn', destination) });
    const { counter, token } = freshCounter();
    const failure = jest.spyOn(FeedbackModel.collection, 'bulkWrite').mockRejectedValueOnce(new Error('connection lost'));
    try {
      const result = await logged.submitFeedback(input(token), newKey(), { channel: 'api' });
      expect(result).toMatchObject({ created: true });
      await whenVotesWritten();
    } finally {
      failure.mockRestore();
    }
    expect((await FeedbackModel.find({ counterId: counter.id }).lean()).map((feedback) => feedback.rollup)).toEqual(['pending']);
    expect(await rolledUpCount(counter.id)).toBe(1);
    expect(lines.join('')).toContain("votes answered but not marked 'applied'");
  });

  test('when a vote is replaced while its marks are still being written, then both end applied and counted once', async () => {
    const windowed = createFeedbackService({
      config: { ...t.config, feedback: { ...t.config.feedback, replaceWindowMinutes: 30 } },
      guards: createRateGuards(t.config.feedback),
    });
    const { counter, token } = freshCounter();
    const device = `slow-marks-${newKey()}`;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bulkWrite = FeedbackModel.collection.bulkWrite.bind(FeedbackModel.collection);
    const held = jest.spyOn(FeedbackModel.collection, 'bulkWrite').mockImplementationOnce(async (...args) => {
      await gate;
      return bulkWrite(...args);
    });
    try {
      const first = await windowed.submitFeedback(input(token, { quick: 'dissatisfied', wentBadly: ['longWait'] }), newKey(), { channel: 'qr', deviceId: device });
      const second = await windowed.submitFeedback(input(token, { quick: 'very_satisfied' }), newKey(), { channel: 'qr', deviceId: device });
      expect(second).toMatchObject({ created: true, replaced: true });
      release();
      await whenVotesWritten();
      const stored = await FeedbackModel.find({ counterId: counter.id }).sort({ createdAt: 1, _id: 1 }).lean();
      expect(stored.map((feedback) => [String(feedback._id), feedback.rollup])).toEqual([
        [first.id, 'applied'],
        [second.id, 'applied'],
      ]);
      expect(String(stored[0]?.replacedBy)).toBe(second.id);
    } finally {
      release();
      held.mockRestore();
    }
    expect(await rolledUpCount(counter.id)).toBe(1);
    await rollupsMatchRawFeedback();
  });
});

describe('stored documents', () => {
  test('when votes with every optional answer are written (without Mongoose hydration), then each stored document has the types the schema gives', async () => {
    const { counter, token } = freshCounter();
    await outcomes([
      service.submitFeedback(
        input(token, { quick: 'very_satisfied', elements: { access: 5, procedure: 4, staff: null, result: 3, feedbackHandling: 1 }, trips: 2, wentWell: ['fast', 'friendly'], comment: 'Cán bộ nhiệt tình' }),
        newKey(),
        { channel: 'qr', deviceId: `schema-${newKey()}`, ip: '10.2.0.1' },
      ),
      service.submitFeedback(input(token, { quick: 'dissatisfied', wentBadly: ['longWait'] }), newKey(), { channel: 'kiosk', ip: '10.2.0.2' }),
    ]);
    await whenVotesWritten();
    const stored = await FeedbackModel.find({ counterId: counter.id }).lean().exec();
    expect(stored).toHaveLength(2);
    for (const feedback of stored) {
      // What the driver stored equals what Mongoose would have stored for the same document (types included).
      const cast = new FeedbackModel(feedback).toObject({ minimize: false });
      expect(feedback).toEqual(cast);
      expect(feedback._id).toBeInstanceOf(Types.ObjectId);
      expect(feedback.counterId).toBeInstanceOf(Types.ObjectId);
      expect(feedback.officeId).toBeInstanceOf(Types.ObjectId);
      expect(feedback.createdAt).toBeInstanceOf(Date);
    }
    expect(stored.map((feedback) => feedback.rollup)).toEqual(['applied', 'applied']);
  });
});

describe('many votes at once', () => {
  test('when 300 votes for a few counters arrive together (more than one batch), then each is stored once and the roll-ups equal a recomputation', async () => {
    const targets = [await warmCounter(), await warmCounter(), await warmCounter()];
    const before = await Promise.all(targets.map(({ counter }) => rolledUpCount(counter.id)));
    const quick = ['very_satisfied', 'satisfied', 'dissatisfied'] as const;
    const results = await outcomes(
      Array.from({ length: 300 }, (_, i) =>
        service.submitFeedback(input((targets[i % 3] as CounterAtOffice).token, { quick: quick[i % 3], wentBadly: i % 3 === 2 ? ['longWait'] : [] }), newKey(), { channel: 'api' }),
      ),
    );
    expect(new Set(results.map((result) => ('id' in result ? result.id : 'error'))).size).toBe(300);
    const after = await Promise.all(targets.map(({ counter }) => rolledUpCount(counter.id)));
    expect(after.map((count, i) => count - (before[i] as number))).toEqual([100, 100, 100]);
    await rollupsMatchRawFeedback();
  });
});
