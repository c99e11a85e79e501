// Browser: a citizen's phone follows a counter's QR code, votes with one tap, sees the thanks page; the vote is in today's roll-up; axe finds no serious issue.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { localDayOf } from '../../src/feedback/feedback.types';
import { RollupModel } from '../../src/feedback/rollup.model';
import { ALL_UNITS } from '../../src/shared/scope';
import { findCounters, seedDemoUnits, type Counter } from '../../src/units';
import { startTestApp, type TestApp } from '../helpers/app';
import { signIn } from '../helpers/agents';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

let testApp: TestApp;
let server: Server;
let origin: string;
let profileDir: string;
let context: BrowserContext;
let counter: Counter;

jest.setTimeout(180_000);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium); .ci/run does this`);
  }
  testApp = await startTestApp();
  await seedDemoUnits();
  [counter] = await findCounters(ALL_UNITS, { activeOnly: true });
  server = testApp.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profileDir = await mkdtemp(path.join(tmpdir(), 'thuocdo-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
});

afterAll(async () => {
  await context?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await testApp?.stop();
});

/** The URL a phone camera reads from the counter's QR image, as an admin downloads it for the poster. */
async function scanCounterQr(): Promise<string> {
  const { agent } = await signIn(testApp.app, { role: 'admin' });
  const response = await agent.get(`/admin/counters/${counter.id}/qr.png`).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
  expect(response.status).toBe(200);
  const png = PNG.sync.read(response.body as Buffer);
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!code) throw new Error('the QR image did not decode');
  return code.data;
}

/** Runs axe-core in the page (through the DevTools protocol, so the page's CSP stays on) and returns serious or critical violations. */
async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const source = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

describe('citizen feedback on a phone', () => {
  it('when a citizen follows the QR code and taps "Hài lòng", then the thanks page shows and today\'s roll-up counts the vote once', async () => {
    const scanned = new URL(await scanCounterQr());
    expect(scanned.pathname).toBe(`/f/${counter.qrToken}`);
    const formUrl = `${origin}${scanned.pathname}${scanned.search}`;

    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const form = await page.goto(formUrl);
    expect(form?.status()).toBe(200);
    await expect(page.getByText(counter.label).first().isVisible()).resolves.toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Hài lòng', exact: true }).tap();
    await page.waitForURL(/\/thanks/, { timeout: 15_000 });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Cảm ơn ông/bà đã đánh giá!');
    expect(await seriousViolations(page)).toEqual([]);

    const rollup = await RollupModel.findOne({ counterId: counter.id, day: localDayOf(new Date()) }).lean();
    expect(rollup).toMatchObject({ count: 1, quick: { satisfied: 1 } });
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
