// Honesty rules over HTTP: rate limits per device and per IP, the replacement window, and the kiosk interval.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { demoCounters, feedbackCount, formKey, newKey, rolledUpCount, type CounterAtOffice } from './support';
import { whenVotesWritten } from '../../src/feedback/vote-writer';

let t: TestApp;
let counters: CounterAtOffice[];
let next = 0;
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;

beforeAll(async () => {
  t = await startTestApp({ FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: '3', FEEDBACK_LIMIT_PER_IP_PER_HOUR: '1000', FEEDBACK_REPLACE_WINDOW_MINUTES: '60', KIOSK_MIN_INTERVAL_SECONDS: '600' });
  counters = await demoCounters();
});

afterAll(() => t.stop());

async function vote(agent: ReturnType<typeof request.agent>, token: string, quick: string, path = 'f') {
  const page = await agent.get(`/${path}/${token}`);
  return agent.post(`/${path}/${token}`).type('form').send({ quick, key: formKey(page.text) });
}

describe('rate limit per device', () => {
  test('when one device sends more votes than allowed in an hour, then 429 with Retry-After and a kind message, and other devices still vote', async () => {
    const device = request.agent(t.app);
    for (let i = 0; i < 3; i += 1) {
      const res = await vote(device, freshCounter().token, 'satisfied');
      expect(res.status).toBe(303);
    }
    const { counter, token } = freshCounter();
    const limited = await vote(device, token, 'satisfied');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.text).toContain('Ông/bà đã gửi nhiều đánh giá trong thời gian ngắn');
    expect(await feedbackCount({ counterId: counter.id })).toBe(0);
    const api = await device.post('/api/v1/feedback').set('Idempotency-Key', newKey()).send({ qrToken: token, quick: 'satisfied' });
    expect(api.status).toBe(429);
    expect(api.headers['retry-after']).toBeDefined();
    expect(api.body.error.code).toBe('too_many_requests');
    const other = await vote(request.agent(t.app), token, 'satisfied');
    expect(other.status).toBe(303);
  });
});

describe('replacement window', () => {
  test('when the same device votes again at the same counter within the window, then the second vote replaces the first', async () => {
    const { counter, token } = freshCounter();
    const device = request.agent(t.app);
    expect((await vote(device, token, 'dissatisfied')).status).toBe(303);
    const second = await vote(device, token, 'very_satisfied');
    expect(second.status).toBe(303);
    expect(second.headers.location).toBe(`/f/${token}/thanks?r=1`);
    const thanks = await device.get(second.headers.location as string);
    expect(thanks.text).toContain('Đánh giá này thay cho đánh giá ông/bà vừa gửi trước đó tại quầy này.');
    await whenVotesWritten();
    const stored = await FeedbackModel.find({ counterId: counter.id }).sort({ createdAt: 1 }).lean();
    expect(stored).toHaveLength(2);
    const [first, latest] = stored;
    expect(String(first?.replacedBy)).toBe(String(latest?._id));
    expect(String(latest?.replaces)).toBe(String(first?._id));
    expect(latest?.replacedBy).toBeUndefined();
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the earlier vote is older than the window, then the new vote adds to it', async () => {
    const { counter, token } = freshCounter();
    const device = request.agent(t.app);
    expect((await vote(device, token, 'satisfied')).status).toBe(303);
    await FeedbackModel.updateMany({ counterId: counter.id }, { $set: { createdAt: new Date(Date.now() - 61 * 60_000) } });
    const second = await vote(device, token, 'satisfied');
    expect(second.headers.location).toBe(`/f/${token}/thanks`);
    const stored = await FeedbackModel.find({ counterId: counter.id }).lean();
    expect(stored).toHaveLength(2);
    expect(stored.every((feedback) => !feedback.replacedBy)).toBe(true);
    expect(await rolledUpCount(counter.id)).toBe(2);
  });

  test('when another device votes at the same counter, or the same device at another counter, then nothing is replaced', async () => {
    const first = freshCounter();
    const second = freshCounter();
    const device = request.agent(t.app);
    await vote(device, first.token, 'satisfied');
    await vote(request.agent(t.app), first.token, 'satisfied');
    await vote(device, second.token, 'satisfied');
    expect(await FeedbackModel.countDocuments({ counterId: { $in: [first.counter.id, second.counter.id] }, replacedBy: { $exists: true } })).toBe(0);
    expect(await rolledUpCount(first.counter.id)).toBe(2);
    expect(await rolledUpCount(second.counter.id)).toBe(1);
  });
});

describe('kiosk', () => {
  test('when a second kiosk vote comes at a counter before the minimum interval, then 429 with a kind message; another counter is not affected', async () => {
    const { counter, token } = freshCounter();
    const tablet = request.agent(t.app);
    expect((await vote(tablet, token, 'satisfied', 'k')).status).toBe(303);
    const tooSoon = await vote(request.agent(t.app), token, 'very_satisfied', 'k');
    expect(tooSoon.status).toBe(429);
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(500);
    expect(tooSoon.text).toMatch(/Xin chờ \d+ giây trước khi gửi đánh giá tiếp theo\./);
    expect(await feedbackCount({ counterId: counter.id })).toBe(1);
    const elsewhere = await vote(tablet, freshCounter().token, 'satisfied', 'k');
    expect(elsewhere.status).toBe(303);
  });

  test('when a kiosk vote is stored, then it carries channel kiosk and no device hash (the tablet is shared)', async () => {
    const { counter, token } = freshCounter();
    await vote(request.agent(t.app), token, 'satisfied', 'k');
    const stored = await FeedbackModel.findOne({ counterId: counter.id }).lean();
    expect(stored?.channel).toBe('kiosk');
    expect(stored?.deviceHash).toBeUndefined();
    expect(stored?.ipHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
