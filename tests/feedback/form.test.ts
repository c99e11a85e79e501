// The citizen form: rendering in both languages, unknown and replaced codes, submission, validation, follow-up, page size.
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { rotateCounterToken } from '../../src/units/units.service';
import { ALL_UNITS } from '../../src/shared/scope';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { whenVotesWritten } from '../../src/feedback/vote-writer';
import { demoCounters, feedbackCount, formKey, postRaw, rolledUpCount, type CounterAtOffice } from './support';

let t: TestApp;
let counters: CounterAtOffice[];
let next = 0;
/** Each test votes at its own counter, so replacement windows and counts never cross tests. */
const freshCounter = () => counters[next++ % counters.length] as CounterAtOffice;

const admin: Actor = { id: '64b000000000000000000001', username: 'test-admin', displayName: 'Test admin', role: 'admin', scope: ALL_UNITS, via: 'session' };

beforeAll(async () => {
  t = await startTestApp();
  counters = await demoCounters();
});

afterAll(() => t.stop());

/** Loads the form with a fresh browser (its own device cookie) and returns the agent and the form's key. */
async function openForm(token: string, path = 'f') {
  const agent = request.agent(t.app);
  const page = await agent.get(`/${path}/${token}`);
  expect(page.status).toBe(200);
  return { agent, key: formKey(page.text), page };
}

describe('the form page', () => {
  test('when opened, then it shows the office and the counter in Vietnamese with the three quick votes as submit buttons', async () => {
    const { counter, officeName, token } = freshCounter();
    const res = await request(t.app).get(`/f/${token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('<html lang="vi">');
    expect(res.text).toContain(escapeHtml(officeName));
    expect(res.text).toContain(escapeHtml(counter.label));
    for (const [value, label] of [['very_satisfied', 'Rất hài lòng'], ['satisfied', 'Hài lòng'], ['dissatisfied', 'Không hài lòng']]) {
      expect(res.text).toMatch(new RegExp(`<button type="submit" name="quick" value="${value}"[^>]*>.*${label}</button>`));
    }
    expect(res.text).toContain('Không áp dụng');
    expect(res.text).toMatch(/<fieldset class="fb-scale"><legend>Công chức trực tiếp giải quyết<\/legend>/);
    expect(res.text).toContain('name="website"');
    expect(String(res.headers['set-cookie'])).toMatch(/tdd=[A-Za-z0-9_-]{22}; Max-Age=31536000; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax/);
  });

  test('when opened with ?lang=en, then it is in English and still names the office and counter', async () => {
    const { counter, officeName, token } = freshCounter();
    const res = await request(t.app).get(`/f/${token}?lang=en`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('Were you satisfied with the service at this counter?');
    expect(res.text).toContain('Very satisfied');
    expect(res.text).toContain('Not applicable');
    expect(res.text).toContain(escapeHtml(officeName));
    expect(res.text).toContain(escapeHtml(counter.label));
  });

  test('when two pages are rendered, then each carries its own idempotency key', async () => {
    const { token } = freshCounter();
    const a = await request(t.app).get(`/f/${token}`);
    const b = await request(t.app).get(`/f/${token}`);
    expect(formKey(a.text)).not.toBe(formKey(b.text));
  });

  test('when the token is unknown, then a friendly 404 page answers', async () => {
    const res = await request(t.app).get('/f/NoSuchTokenAtAnyCounter0');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Không tìm thấy quầy ứng với mã QR này');
  });

  test('when the token was rotated, then the old code answers 410 "this code was replaced", and voting with it stores nothing', async () => {
    const { counter } = freshCounter();
    const oldToken = counter.qrToken;
    await rotateCounterToken({ actor: admin }, counter.id);
    const res = await request(t.app).get(`/f/${oldToken}`);
    expect(res.status).toBe(410);
    expect(res.text).toContain('Mã QR này đã được thay thế bằng mã mới');
    const en = await request(t.app).get(`/f/${oldToken}?lang=en`);
    expect(en.text).toContain('This QR code has been replaced');
    const before = await feedbackCount();
    const vote = await request(t.app).post(`/f/${oldToken}`).type('form').send({ quick: 'satisfied', key: 'key-for-rotated-token' });
    expect(vote.status).toBe(410);
    expect(await feedbackCount()).toBe(before);
  });

  test('when measured with gzip on the wire, then HTML, CSS and JS together stay under 30 KB and nothing is third-party', async () => {
    const { token } = freshCounter();
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await fetchRaw(`${base}/f/${token}`);
      expect(page.status).toBe(200);
      expect(page.encoding).toBe('gzip');
      const html = gunzipSync(page.body).toString('utf8');
      const assets = [...html.matchAll(/(?:href|src)="([^"]+\.(?:css|js)[^"]*)"/g)].map((match) => match[1] ?? '');
      expect(assets.every((url) => url.startsWith('/static/'))).toBe(true);
      expect(assets.filter((url) => /feedback\.(js|css)/.test(url))).toHaveLength(2);
      let total = page.body.length;
      for (const url of assets) {
        const asset = await fetchRaw(`${base}${url}`);
        expect(asset.status).toBe(200);
        expect(asset.encoding).toBe('gzip');
        total += asset.body.length;
      }
      process.stdout.write(`feedback form transferred (gzip, HTML ${page.body.length} B + ${assets.length} assets): ${total} bytes\n`);
      expect(total).toBeLessThan(30 * 1024);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('voting through the form', () => {
  test('when the citizen taps a quick vote, then 303 to the thank-you page and one feedback is stored and rolled up', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ quick: 'very_satisfied', key });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/f/${token}/thanks`);
    const thanks = await agent.get(res.headers.location as string);
    expect(thanks.status).toBe(200);
    expect(thanks.text).toContain('Cảm ơn ông/bà đã đánh giá!');
    await whenVotesWritten();
    const stored = await FeedbackModel.find({ counterId: counter.id }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ quick: 'very_satisfied', channel: 'qr', lang: 'vi', unitCode: counter.unitCode, rollup: 'applied' });
    expect(stored[0]?.unitPath).toEqual(counter.unitPath);
    expect(stored[0]?.localDay).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(stored[0]?.deviceHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stored[0]?.ipHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the details are filled, then elements, trips, chips and comment are stored as parsed values', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent
      .post(`/f/${token}`)
      .type('form')
      .send(
        `quick=satisfied&key=${key}&el_access=5&el_procedure=na&el_staff=4&el_result=&trips=2&wentWell=fast&wentWell=friendly&wentBadly=longWait&comment=${encodeURIComponent(' Cán bộ rất tận tình ')}`,
      );
    expect(res.status).toBe(303);
    const stored = await FeedbackModel.findOne({ counterId: counter.id }).lean();
    expect(stored).toMatchObject({ quick: 'satisfied', trips: 2, wentWell: ['fast', 'friendly'], wentBadly: ['longWait'], comment: 'Cán bộ rất tận tình' });
    expect(stored?.elements).toEqual({ access: 5, procedure: null, staff: 4 });
  });

  test('when the same form is posted twice (double tap or browser retry), then one feedback is stored and both answer the same', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const first = await agent.post(`/f/${token}`).type('form').send({ quick: 'satisfied', key });
    const second = await agent.post(`/f/${token}`).type('form').send({ quick: 'satisfied', key });
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.headers.location).toBe(first.headers.location);
    expect(await feedbackCount({ counterId: counter.id })).toBe(1);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the same form is posted several times at once, then one feedback is stored and counted once', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const answers = await Promise.all(Array.from({ length: 5 }, () => agent.post(`/f/${token}`).type('form').send({ quick: 'very_satisfied', key })));
    expect(answers.map((res) => res.status)).toEqual(Array(5).fill(303));
    expect(await feedbackCount({ counterId: counter.id })).toBe(1);
    expect(await rolledUpCount(counter.id)).toBe(1);
  });

  test('when the kiosk form is used, then the vote is stored with channel kiosk and its thank-you page returns to a fresh form', async () => {
    const { counter, token } = freshCounter();
    const { agent, key, page } = await openForm(token, 'k');
    expect(page.text).toContain('class="fb-page kiosk"');
    expect(page.text).not.toContain('data-api=');
    const res = await agent.post(`/k/${token}`).type('form').send({ quick: 'satisfied', key });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/k/${token}/thanks`);
    const thanks = await agent.get(`/k/${token}/thanks`);
    expect(thanks.text).toContain(`<meta http-equiv="refresh" content="6;url=/k/${token}">`);
    expect(await FeedbackModel.findOne({ counterId: counter.id }).lean()).toMatchObject({ channel: 'kiosk' });
  });
});

describe('bad form input', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['the quick vote is missing', {}, 'quick'],
    ['the quick vote is not one of the three', { quick: 'meh' }, 'quick'],
    ['an element is 0', { quick: 'satisfied', el_staff: '0' }, 'el_staff'],
    ['an element is 6', { quick: 'satisfied', el_result: '6' }, 'el_result'],
    ['trips is 4', { quick: 'satisfied', trips: '4' }, 'trips'],
    ['a chip is not in the list', { quick: 'satisfied', wentWell: 'bribe' }, 'wentWell'],
    ['the comment is longer than 2,000 characters', { quick: 'satisfied', comment: 'ă'.repeat(2001) }, 'comment'],
    ['a field is unknown', { quick: 'satisfied', isAdmin: 'true' }, '_'],
  ];

  test.each(cases)('when %s, then 400 with the form and the field error, and nothing is stored', async (_name, fields, field) => {
    const { counter, officeName, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ key, ...fields });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Dữ liệu gửi lên chưa hợp lệ');
    expect(res.text).toContain(escapeHtml(officeName));
    expect(res.text).toContain(`name="key" value="${key}"`);
    if (field !== '_') expect(res.text).toMatch(field === 'comment' ? /id="fb-comment-error"/ : /class="field-error"/);
    expect(await feedbackCount({ counterId: counter.id })).toBe(0);
  });

  test('when the form comes back with an error, then the choices made are still checked', async () => {
    const { token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send(`key=${key}&el_staff=4&wentBadly=longWait&trips=9`);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="el_staff-4" name="el_staff" value="4" checked/);
    expect(res.text).toMatch(/id="wb-longWait" name="wentBadly" value="longWait" checked/);
    expect(res.text).toMatch(/<details class="fb-more" open>/);
  });

  test('when the body is not valid UTF-8, then 400 and nothing is stored', async () => {
    const { counter, token } = freshCounter();
    const { key } = await openForm(token);
    const body = Buffer.concat([Buffer.from(`quick=satisfied&key=${key}&comment=`), Buffer.from([0xc3, 0x28, 0xff])]);
    const res = await postRaw(t.app, `/f/${token}`, body, { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: 'tdd=AAAAAAAAAAAAAAAAAAAAAA' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Nội dung gửi lên không phải UTF-8 hợp lệ.');
    expect(await feedbackCount({ counterId: counter.id })).toBe(0);
  });
});

describe('honeypot', () => {
  test('when the hidden field is filled, then the answer looks like success but no vote is stored or counted', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ quick: 'very_satisfied', key, website: 'http://spam.example' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/f/${token}/thanks`);
    expect(await feedbackCount({ counterId: counter.id })).toBe(0);
    expect(await rolledUpCount(counter.id)).toBe(0);
  });
});

describe('dissatisfied without details', () => {
  test('when posted without chips or comment, then the vote is stored and a follow-up page asks what went wrong; its answer updates the same feedback', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ quick: 'dissatisfied', key });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^/f/${token}/more\\?id=[a-f0-9]{24}&sig=`));
    const stored = await FeedbackModel.find({ counterId: counter.id }).lean();
    expect(stored).toHaveLength(1);
    const followUp = await agent.get(res.headers.location as string);
    expect(followUp.status).toBe(200);
    expect(followUp.text).toContain('Điều gì chưa tốt?');
    expect(followUp.text).toContain('Phải chờ lâu');
    const id = /name="id" value="([a-f0-9]{24})"/.exec(followUp.text)?.[1];
    const sig = /name="sig" value="([^"]+)"/.exec(followUp.text)?.[1];
    expect(id).toBe(String(stored[0]?._id));
    const details = await agent.post(`/f/${token}/more`).type('form').send(`id=${id}&sig=${sig}&wentBadly=longWait&wentBadly=extraPapers&comment=Ch%E1%BB%9D+2+ti%E1%BA%BFng`);
    expect(details.status).toBe(303);
    expect(details.headers.location).toBe(`/f/${token}/thanks`);
    const updated = await FeedbackModel.find({ counterId: counter.id }).lean();
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ quick: 'dissatisfied', wentBadly: ['extraPapers', 'longWait'], comment: 'Chờ 2 tiếng', rollup: 'applied' });
    expect(await rolledUpCount(counter.id)).toBe(1);
    const again = await agent.post(`/f/${token}/more`).type('form').send(`id=${id}&sig=${sig}&wentBadly=rudeAttitude`);
    expect(again.status).toBe(303);
    expect((await FeedbackModel.findById(id).lean())?.wentBadly).toEqual(['extraPapers', 'longWait']);
  });

  test('when the follow-up signature is forged, then nothing changes', async () => {
    const { counter, token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ quick: 'dissatisfied', key });
    const id = new URL(res.headers.location as string, 'http://x').searchParams.get('id') ?? '';
    const forged = `${Date.now() + 3600_000}.${'A'.repeat(43)}`;
    const page = await agent.get(`/f/${token}/more?id=${id}&sig=${encodeURIComponent(forged)}`);
    expect(page.status).toBe(303);
    const post = await agent.post(`/f/${token}/more`).type('form').send({ id, sig: forged, wentBadly: 'rudeAttitude' });
    expect(post.status).toBe(403);
    expect((await FeedbackModel.findOne({ counterId: counter.id }).lean())?.wentBadly).toEqual([]);
  });

  test('when the citizen already chose what went wrong, then no follow-up page is needed', async () => {
    const { token } = freshCounter();
    const { agent, key } = await openForm(token);
    const res = await agent.post(`/f/${token}`).type('form').send({ quick: 'dissatisfied', key, wentBadly: 'longWait' });
    expect(res.headers.location).toBe(`/f/${token}/thanks`);
  });
});

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** GET with Accept-Encoding: gzip, returning the bytes as transferred (not decompressed). */
function fetchRaw(url: string): Promise<{ status: number; encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
