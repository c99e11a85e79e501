// The form's JavaScript in headless Chromium: "what went wrong" before a dissatisfied vote, and the offline queue.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { startTestApp, type TestApp } from '../helpers/app';
import request from 'supertest';
import { demoCounters, formKey, rolledUpCount, type CounterAtOffice } from './support';

const CHROMIUM = '/usr/bin/chromium';

let t: TestApp;
let server: Server;
let origin: string;
let profileDir: string;
let context: BrowserContext;
let counters: CounterAtOffice[];

jest.setTimeout(90_000);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  t = await startTestApp();
  counters = await demoCounters();
  server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profileDir = await mkdtemp(path.join(tmpdir(), 'thuocdo-feedback-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: 'vi-VN',
  });
});

afterAll(async () => {
  await context?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.stop();
});

async function openForm(target: CounterAtOffice): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const res = await page.goto(`${origin}/f/${target.token}`);
  expect(res?.status()).toBe(200);
  return { page, errors };
}

/** axe-core in the page (through the DevTools protocol, so the CSP stays on): ids of serious or critical violations. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(await readFile(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: { id: string; impact: string | null }[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
  });
}

describe('accessibility', () => {
  test('when the detailed section is open (English), on the kiosk, and on the follow-up page, then axe finds nothing serious', async () => {
    const target = counters[2] as CounterAtOffice;
    const page = await context.newPage();
    await page.goto(`${origin}/f/${target.token}?lang=en`);
    await page.getByText('Detailed rating (optional)').tap();
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${origin}/k/${target.token}?lang=vi`);
    expect(await seriousViolations(page)).toEqual([]);
    const agent = request.agent(t.app);
    const form = await agent.get(`/f/${target.token}`);
    const vote = await agent.post(`/f/${target.token}`).type('form').send({ quick: 'dissatisfied', key: formKey(form.text) });
    expect(vote.headers.location).toMatch(/\/more\?/);
    await page.goto(`${origin}${vote.headers.location as string}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Điều gì chưa tốt?');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });
});

describe('the form with JavaScript', () => {
  test('when "Không hài lòng" is tapped, then the page asks what went wrong first, and the details are stored with the vote', async () => {
    const target = counters[0] as CounterAtOffice;
    const { page, errors } = await openForm(target);
    await page.getByRole('button', { name: 'Không hài lòng', exact: true }).tap();
    await expect(page.getByRole('heading', { name: 'Điều gì chưa tốt?', level: 2 }).isVisible()).resolves.toBe(true);
    expect(page.url()).toBe(`${origin}/f/${target.token}`);
    expect(await FeedbackModel.countDocuments({ counterId: target.counter.id })).toBe(0);
    await page.getByText('Phải chờ lâu').tap();
    await page.getByLabel('Góp ý thêm').fill('Chờ hơn một tiếng');
    await page.getByRole('button', { name: 'Gửi đánh giá' }).tap();
    await page.waitForURL(/\/thanks$/, { timeout: 15_000 });
    const stored = await FeedbackModel.find({ counterId: target.counter.id }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ quick: 'dissatisfied', wentBadly: ['longWait'], comment: 'Chờ hơn một tiếng', channel: 'qr' });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('when the network is down, then the vote is kept on the phone, the citizen is told, and it is sent once when the network returns', async () => {
    const target = counters[1] as CounterAtOffice;
    const { page, errors } = await openForm(target);
    await context.setOffline(true);
    try {
      await page.getByRole('button', { name: 'Rất hài lòng', exact: true }).tap();
      await expect(page.getByRole('status').textContent()).resolves.toContain('Đánh giá của ông/bà đã được lưu trên máy');
      const queued = await page.evaluate(() => JSON.parse(localStorage.getItem('thuocdo.feedback.queue') ?? '[]') as unknown[]);
      expect(queued).toHaveLength(1);
      expect(await FeedbackModel.countDocuments({ counterId: target.counter.id })).toBe(0);
    } finally {
      await context.setOffline(false);
    }
    await page.waitForFunction(() => (localStorage.getItem('thuocdo.feedback.queue') ?? '[]') === '[]', undefined, { timeout: 15_000 });
    await expect(page.getByRole('status').textContent()).resolves.toContain('đã được gửi');
    await page.reload();
    await page.waitForLoadState('networkidle');
    const stored = await FeedbackModel.find({ counterId: target.counter.id }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ quick: 'very_satisfied', channel: 'qr' });
    expect(await rolledUpCount(target.counter.id)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
