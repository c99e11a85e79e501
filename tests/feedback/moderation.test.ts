// Spam moderation: flag and unflag through the API and the admin page, scope, audit, and roll-ups following the flag.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearerToken, signIn, type SignedIn } from '../helpers/agents';
import { AuditEntryModel } from '../../src/audit/audit.model';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { demoCounters, newKey, rolledUpCount, type CounterAtOffice } from './support';

let t: TestApp;
let counters: CounterAtOffice[];
let odienCounter: CounterAtOffice;
let otherCounter: CounterAtOffice;
let odien: SignedIn;
let hotline: SignedIn;

const O_DIEN = '09817';

beforeAll(async () => {
  t = await startTestApp();
  counters = await demoCounters();
  odienCounter = counters.find((c) => c.counter.unitPath.includes(O_DIEN)) as CounterAtOffice;
  otherCounter = counters.find((c) => !c.counter.unitPath.includes(O_DIEN)) as CounterAtOffice;
  odien = await signIn(t.app, { role: 'official', scope: [O_DIEN] });
  hotline = await signIn(t.app, { role: 'hotline', scope: ['01'] });
});

afterAll(() => t.stop());

async function voteAt(target: CounterAtOffice, quick = 'very_satisfied'): Promise<string> {
  const res = await request(t.app).post('/api/v1/feedback').set('Idempotency-Key', newKey()).send({ qrToken: target.token, quick, comment: 'Góp ý <b>thử</b>' });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('flagging spam through the API', () => {
  test('when an official flags a vote in scope, then it leaves the roll-up, the flag keeps its reason, and the action is audited; unflagging counts it again', async () => {
    const id = await voteAt(odienCounter);
    const before = await rolledUpCount(odienCounter.counter.id);
    const flag = await odien.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf).send({ reason: 'burst' });
    expect(flag.status).toBe(204);
    const stored = await FeedbackModel.findById(id).lean();
    expect(stored?.spam).toMatchObject({ reason: 'burst', by: odien.user.id });
    expect(await rolledUpCount(odienCounter.counter.id)).toBe(before - 1);
    const again = await odien.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf).send({ reason: 'burst' });
    expect(again.status).toBe(204);
    expect(await rolledUpCount(odienCounter.counter.id)).toBe(before - 1);
    expect(await AuditEntryModel.countDocuments({ action: 'feedback.spam.flag', targetId: id })).toBe(1);
    const unflag = await odien.agent.delete(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf);
    expect(unflag.status).toBe(204);
    expect((await FeedbackModel.findById(id).lean())?.spam).toBeUndefined();
    expect(await rolledUpCount(odienCounter.counter.id)).toBe(before);
    expect(await AuditEntryModel.countDocuments({ action: 'feedback.spam.unflag', targetId: id })).toBe(1);
  });

  test('when the vote lies outside the official\'s scope, then 404 and nothing changes', async () => {
    const id = await voteAt(otherCounter);
    const res = await odien.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf).send({ reason: 'burst' });
    expect(res.status).toBe(404);
    expect((await FeedbackModel.findById(id).lean())?.spam).toBeUndefined();
  });

  test('when anonymous, then 401; when the role may not moderate (hotline), then 403', async () => {
    const id = await voteAt(odienCounter);
    expect((await request(t.app).post(`/api/v1/feedback/${id}/spam`).send({ reason: 'burst' })).status).toBe(401);
    const res = await hotline.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', hotline.csrf).send({ reason: 'burst' });
    expect(res.status).toBe(403);
  });

  test('when a personal API token of an official is used, then flagging works without CSRF', async () => {
    const { token } = await bearerToken({ role: 'official', scope: [O_DIEN] });
    const id = await voteAt(odienCounter);
    const res = await request(t.app).post(`/api/v1/feedback/${id}/spam`).set('Authorization', `Bearer ${token}`).send({ reason: 'test' });
    expect(res.status).toBe(204);
  });

  test('when the reason is missing or the body has unknown fields, then 400', async () => {
    const id = await voteAt(odienCounter);
    const missing = await odien.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf).send({});
    expect(missing.status).toBe(400);
    const extra = await odien.agent.post(`/api/v1/feedback/${id}/spam`).set('x-csrf-token', odien.csrf).send({ reason: 'x', quick: 'satisfied' });
    expect(extra.status).toBe(400);
  });
});

describe('the moderation page', () => {
  test('when an official opens it, then only feedback of their scope is listed, comments escaped, with flag buttons that work', async () => {
    const mine = await voteAt(odienCounter, 'dissatisfied');
    const theirs = await voteAt(otherCounter);
    const page = await odien.agent.get('/admin/feedback');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Kiểm duyệt đánh giá');
    expect(page.text).toContain(`/admin/feedback/${mine}/spam`);
    expect(page.text).not.toContain(`/admin/feedback/${theirs}/spam`);
    expect(page.text).toContain('Góp ý &lt;b&gt;thử&lt;/b&gt;');
    const flag = await odien.agent.post(`/admin/feedback/${mine}/spam`).type('form').send({ _csrf: odien.csrf, reason: 'abusive' });
    expect(flag.status).toBe(303);
    expect((await FeedbackModel.findById(mine).lean())?.spam?.reason).toBe('abusive');
    const spamOnly = await odien.agent.get('/admin/feedback?spam=only');
    expect(spamOnly.text).toContain(`/admin/feedback/${mine}/unspam`);
    const unflag = await odien.agent.post(`/admin/feedback/${mine}/unspam`).type('form').send({ _csrf: odien.csrf });
    expect(unflag.status).toBe(303);
    expect((await FeedbackModel.findById(mine).lean())?.spam).toBeUndefined();
  });

  test('when the CSRF token is missing, then 403 and the vote is not flagged', async () => {
    const id = await voteAt(odienCounter);
    const res = await odien.agent.post(`/admin/feedback/${id}/spam`).type('form').send({ reason: 'abusive' });
    expect(res.status).toBe(403);
    expect((await FeedbackModel.findById(id).lean())?.spam).toBeUndefined();
  });

  test('when anonymous, then the login page; when hotline, then 403', async () => {
    const anonymous = await request(t.app).get('/admin/feedback');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login\?next=/);
    expect((await hotline.agent.get('/admin/feedback')).status).toBe(403);
  });
});
