// The vote thread as the server runs it: votes, replays, conflicts, replacements and refusals cross it intact.
import type { Express } from 'express';
import mongoose from 'mongoose';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { startVoteThread, type VoteThread } from '../../src/feedback/vote-thread';
import { createLogger } from '../../src/shared/logger';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { rebuildRollups } from '../../src/feedback/rollup.service';
import { demoCounters, newKey, rolledUpCount, type CounterAtOffice } from './support';

const LIMIT_PER_IP = 3;
let database: TestDatabase;
let votes: VoteThread;
let app: Express;
let counters: CounterAtOffice[];
let next = 0;
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;
let addresses = 0;
/** Each test's requests come from their own address (behind the one trusted proxy), so the IP limit never crosses tests. */
const freshAddress = () => `203.0.113.${++addresses}`;

beforeAll(async () => {
  database = await startTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://thuocdo.test', TRUST_PROXY: '1', FEEDBACK_LIMIT_PER_IP_PER_HOUR: String(LIMIT_PER_IP) });
  const logger = createLogger('silent');
  await mongoose.connect(database.uri, { serverSelectionTimeoutMS: 5000 });
  await mongoose.connection.syncIndexes();
  votes = await startVoteThread({ uri: database.uri, settings: config.feedback, logger });
  app = createApp({ config, logger, votes });
  counters = await demoCounters();
});

afterAll(async () => {
  await votes.close();
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await database.stop();
});

const post = (body: object, key: string, address: string) =>
  request(app).post('/api/v1/feedback').set('Accept', 'application/json').set('X-Forwarded-For', address).set('Idempotency-Key', key).send(body);

describe('votes written on the vote thread', () => {
  test('when a vote is sent, then it is answered 201 with its id, stored once, marked applied and rolled up', async () => {
    const { counter, token } = freshCounter();
    const res = await post({ qrToken: token, quick: 'very_satisfied' }, newKey(), freshAddress());
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[a-f0-9]{24}$/);
    await votes.drained();
    const stored = await FeedbackModel.findById(res.body.id).lean();
    expect(stored).toMatchObject({ quick: 'very_satisfied', channel: 'api', rollup: 'applied' });
    expect(String(stored?.counterId)).toBe(counter.id);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the same key comes again, then the same body gets the same id and the other body 409, nothing stored twice', async () => {
    const { counter, token } = freshCounter();
    const key = newKey();
    const address = freshAddress();
    const first = await post({ qrToken: token, quick: 'satisfied' }, key, address);
    const again = await post({ qrToken: token, quick: 'satisfied' }, key, address);
    const other = await post({ qrToken: token, quick: 'dissatisfied' }, key, address);
    expect([first.status, again.status, other.status]).toEqual([201, 201, 409]);
    expect(again.body.id).toBe(first.body.id);
    expect(other.body.error.code).toBe('conflict');
    await votes.drained();
    expect(await FeedbackModel.countDocuments({ idempotencyKey: key })).toBe(1);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when one phone votes twice at a counter through the form, then the second replaces the first and one vote counts', async () => {
    const { counter, token } = freshCounter();
    const agent = request.agent(app);
    const address = freshAddress();
    const form = await agent.get(`/f/${token}`).set('X-Forwarded-For', address);
    expect(form.status).toBe(200);
    for (const quick of ['dissatisfied', 'very_satisfied']) {
      const res = await agent.post(`/f/${token}`).set('X-Forwarded-For', address).type('form').send({ quick, key: newKey() });
      expect(res.status).toBe(303);
    }
    await votes.drained();
    const stored = await FeedbackModel.find({ counterId: counter.id }).sort({ createdAt: 1 }).lean();
    expect(stored.map((feedback) => feedback.quick)).toEqual(['dissatisfied', 'very_satisfied']);
    expect(String(stored[0]?.replacedBy)).toBe(String(stored[1]?._id));
    expect(await rolledUpCount(counter.id)).toBe(1);
    expect((await rebuildRollups({ fix: false, pendingOlderThanMs: 0 })).differences).toEqual([]);
  });

  test('when an address is over its hourly limit, then the refusal crosses back as 429 with Retry-After and nothing more is stored', async () => {
    const { counter, token } = freshCounter();
    const address = freshAddress();
    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (let i = 0; i <= LIMIT_PER_IP; i += 1) {
      const res = await post({ qrToken: token, quick: 'satisfied' }, newKey(), address);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses).toEqual([...Array.from({ length: LIMIT_PER_IP }, () => 201), 429]);
    expect(refused?.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused?.body.error.code).toBe('too_many_requests');
    await votes.drained();
    expect(await FeedbackModel.countDocuments({ counterId: counter.id })).toBe(LIMIT_PER_IP);
  });

  test('when many votes arrive at once, then each gets its own answer and all are counted once drained', async () => {
    const { counter, token } = freshCounter();
    // More than one message's and one batch's worth, from addresses of their own.
    const sent = await Promise.all(Array.from({ length: 90 }, () => post({ qrToken: token, quick: 'satisfied' }, newKey(), freshAddress())));
    expect(sent.every((res) => res.status === 201)).toBe(true);
    expect(new Set(sent.map((res) => res.body.id)).size).toBe(90);
    await votes.drained();
    expect(await FeedbackModel.countDocuments({ counterId: counter.id, rollup: 'applied' })).toBe(90);
    expect(await rolledUpCount(counter.id)).toBe(90);
  });
});

describe('closing the vote thread', () => {
  test('when it is closed with votes on their way, then they are all written first, and a vote after that is answered 503', async () => {
    const { counter, token } = freshCounter();
    const config = loadConfig({ LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://thuocdo.test' });
    const logger = createLogger('silent');
    const own = await startVoteThread({ uri: database.uri, settings: config.feedback, logger });
    const ownApp = createApp({ config, logger, votes: own });
    const sent = await Promise.all(Array.from({ length: 20 }, () => request(ownApp).post('/api/v1/feedback').set('Idempotency-Key', newKey()).send({ qrToken: token, quick: 'satisfied' })));
    expect(sent.every((res) => res.status === 201)).toBe(true);
    await own.close();
    expect(await FeedbackModel.countDocuments({ counterId: counter.id, rollup: 'applied' })).toBe(20);
    const late = await request(ownApp).post('/api/v1/feedback').set('Accept', 'application/json').set('Idempotency-Key', newKey()).send({ qrToken: token, quick: 'satisfied' });
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toBe('5');
    expect(await FeedbackModel.countDocuments({ counterId: counter.id })).toBe(20);
  });
});
