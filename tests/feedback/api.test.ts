// POST /api/v1/feedback: the contract of DESIGN §4, validation, and idempotency (replays, conflicts, concurrent twins).
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { whenVotesWritten } from '../../src/feedback/vote-writer';
import { demoCounters, feedbackCount, newKey, postRaw, rolledUpCount, type CounterAtOffice } from './support';

let t: TestApp;
let counters: CounterAtOffice[];
let next = 0;
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;

beforeAll(async () => {
  t = await startTestApp();
  counters = await demoCounters();
});

afterAll(() => t.stop());

const post = (body: unknown, key: string | null = newKey()) => {
  const req = request(t.app).post('/api/v1/feedback').set('Accept', 'application/json');
  if (key !== null) req.set('Idempotency-Key', key);
  return req.send(body as object);
};

describe('accepting a vote', () => {
  test('when the body has only qrToken and quick, then 201 { id } and the vote is stored with channel api and rolled up', async () => {
    const { counter, token } = freshCounter();
    const res = await post({ qrToken: token, quick: 'satisfied' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['id']);
    expect(res.body.id).toMatch(/^[a-f0-9]{24}$/);
    await whenVotesWritten();
    const stored = await FeedbackModel.findById(res.body.id).lean();
    expect(stored).toMatchObject({ quick: 'satisfied', channel: 'api', lang: 'vi', counterId: expect.anything(), rollup: 'applied' });
    expect(String(stored?.counterId)).toBe(counter.id);
    expect(stored?.deviceHash).toBeUndefined();
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when every optional field is given, then each is stored as sent (chips as a set)', async () => {
    const { token } = freshCounter();
    const res = await post({
      qrToken: token,
      quick: 'dissatisfied',
      elements: { access: 2, procedure: null, staff: 1, result: 3, feedbackHandling: 5 },
      trips: 3,
      wentWell: ['clean'],
      wentBadly: ['longWait', 'extraPapers', 'longWait'],
      comment: 'Phải nộp bản sao công chứng dù đã có bản chính.',
      lang: 'en',
    });
    expect(res.status).toBe(201);
    const stored = await FeedbackModel.findById(res.body.id).lean();
    expect(stored).toMatchObject({ trips: 3, wentWell: ['clean'], wentBadly: ['extraPapers', 'longWait'], lang: 'en' });
    expect(stored?.elements).toEqual({ access: 2, procedure: null, staff: 1, result: 3, feedbackHandling: 5 });
  });

  test('when the web form sends through the API, then the channel header marks it as a QR vote', async () => {
    const { token } = freshCounter();
    const res = await post({ qrToken: token, quick: 'very_satisfied' }).set('X-Feedback-Channel', 'qr');
    expect(res.status).toBe(201);
    expect((await FeedbackModel.findById(res.body.id).lean())?.channel).toBe('qr');
  });

  test('when the token is unknown, then 404 JSON; when the counter is closed or the code replaced, the form gives 410', async () => {
    const res = await post({ qrToken: 'NoSuchTokenAtAnyCounter0', quick: 'satisfied' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('bad input', () => {
  const cases: Array<[string, unknown, string]> = [
    ['quick is missing', { qrToken: 'x'.repeat(24) }, 'quick'],
    ['an element is 0', { qrToken: 'x'.repeat(24), quick: 'satisfied', elements: { staff: 0 } }, 'elements.staff'],
    ['an element is 6', { qrToken: 'x'.repeat(24), quick: 'satisfied', elements: { access: 6 } }, 'elements.access'],
    ['an element is 2.5', { qrToken: 'x'.repeat(24), quick: 'satisfied', elements: { access: 2.5 } }, 'elements.access'],
    ['an element is unknown', { qrToken: 'x'.repeat(24), quick: 'satisfied', elements: { parking: 3 } }, 'elements'],
    ['trips is 4', { qrToken: 'x'.repeat(24), quick: 'satisfied', trips: 4 }, 'trips'],
    ['the comment has 2,001 characters', { qrToken: 'x'.repeat(24), quick: 'satisfied', comment: 'ư'.repeat(2001) }, 'comment'],
    ['a field is unknown', { qrToken: 'x'.repeat(24), quick: 'satisfied', channel: 'hotline' }, '_'],
    ['quick is an operator', { qrToken: 'x'.repeat(24), quick: { $gt: '' } }, 'quick'],
    ['qrToken is an operator', { qrToken: { $ne: null }, quick: 'satisfied' }, 'qrToken'],
    ['trips is a string', { qrToken: 'x'.repeat(24), quick: 'satisfied', trips: '2' }, 'trips'],
    ['wentWell is a string', { qrToken: 'x'.repeat(24), quick: 'satisfied', wentWell: 'fast' }, 'wentWell'],
    ['comment is a number', { qrToken: 'x'.repeat(24), quick: 'satisfied', comment: 42 }, 'comment'],
    ['lang is unknown', { qrToken: 'x'.repeat(24), quick: 'satisfied', lang: 'fr' }, 'lang'],
    ['the body is an array', [{ qrToken: 'x'.repeat(24), quick: 'satisfied' }], '_'],
  ];

  test.each(cases)('when %s, then 400 with a field error and nothing is stored', async (_name, body, field) => {
    const before = await feedbackCount();
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(Object.keys(res.body.error.fields)).toContain(field);
    expect(typeof res.body.error.fields[field]).toBe('string');
    expect(await feedbackCount()).toBe(before);
  });

  test('when the English catalogue is chosen, then field errors are in English', async () => {
    const res = await post({ qrToken: 'x'.repeat(24) }).query({ lang: 'en' });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.quick).toBe('This field is required.');
  });

  test('when the Idempotency-Key header is missing or malformed, then 400 and nothing is stored', async () => {
    const { token } = freshCounter();
    const before = await feedbackCount();
    const missing = await post({ qrToken: token, quick: 'satisfied' }, null);
    expect(missing.status).toBe(400);
    expect(missing.body.error.fields['Idempotency-Key']).toMatch(/Idempotency-Key/);
    const malformed = await post({ qrToken: token, quick: 'satisfied' }, '{"$gt":""}');
    expect(malformed.status).toBe(400);
    expect(await feedbackCount()).toBe(before);
  });

  test('when the JSON is malformed or not UTF-8, then 400 and nothing is stored', async () => {
    const before = await feedbackCount();
    const malformed = await request(t.app).post('/api/v1/feedback').set('Idempotency-Key', newKey()).set('Content-Type', 'application/json').send('{"quick": ');
    expect(malformed.status).toBe(400);
    const body = Buffer.concat([Buffer.from('{"qrToken":"abcdefghijklmnopqrstuvwx","quick":"satisfied","comment":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const invalid = await postRaw(t.app, '/api/v1/feedback', body, { 'Idempotency-Key': newKey(), 'Content-Type': 'application/json' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error.code).toBe('invalid_utf8');
    expect(await feedbackCount()).toBe(before);
  });

  test('when the body is larger than the limit, then 413 and nothing is stored', async () => {
    const before = await feedbackCount();
    const res = await post({ qrToken: 'x'.repeat(24), quick: 'satisfied', comment: 'a'.repeat(40_000) });
    expect(res.status).toBe(413);
    expect(await feedbackCount()).toBe(before);
  });
});

describe('idempotency', () => {
  test('when the same key and body come again, then the same status and body answer and one record exists', async () => {
    const { counter, token } = freshCounter();
    const key = newKey();
    const body = { qrToken: token, quick: 'very_satisfied', wentWell: ['fast', 'friendly'] };
    const first = await post(body, key);
    const second = await post({ ...body, wentWell: ['friendly', 'fast'] }, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(await feedbackCount({ idempotencyKey: key })).toBe(1);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the same key comes with a different body, then 409 and the first vote stays as it was', async () => {
    const { counter, token } = freshCounter();
    const key = newKey();
    const first = await post({ qrToken: token, quick: 'very_satisfied' }, key);
    const second = await post({ qrToken: token, quick: 'dissatisfied' }, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('conflict');
    const stored = await FeedbackModel.find({ idempotencyKey: key }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.quick).toBe('very_satisfied');
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when several requests with one key arrive at once, then one feedback is stored, counted once, and every success names it', async () => {
    const { counter, token } = freshCounter();
    const key = newKey();
    const body = { qrToken: token, quick: 'satisfied', trips: 1 };
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(body, key)));
    const ids = new Set(answers.map((res) => res.body.id as string));
    expect(answers.map((res) => res.status)).toEqual(Array(8).fill(201));
    expect(ids.size).toBe(1);
    expect(await feedbackCount({ idempotencyKey: key })).toBe(1);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the form and then the API use one key with the same vote (an offline retry), then one feedback is stored', async () => {
    const { counter, token } = freshCounter();
    const agent = request.agent(t.app);
    const page = await agent.get(`/f/${token}`);
    const key = /name="key" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const viaApi = await agent.post('/api/v1/feedback').set('Idempotency-Key', key).set('X-Feedback-Channel', 'qr').send({ qrToken: token, quick: 'satisfied', lang: 'vi' });
    const again = await agent.post('/api/v1/feedback').set('Idempotency-Key', key).set('X-Feedback-Channel', 'qr').send({ qrToken: token, quick: 'satisfied', lang: 'vi' });
    expect(viaApi.status).toBe(201);
    expect(again.body).toEqual(viaApi.body);
    expect(await feedbackCount({ counterId: counter.id })).toBe(1);
  });
});
