// QR images and posters: the PNG decodes to the form URL, the PDF has one page per counter with its Vietnamese text, all scoped.
import { execFile } from 'node:child_process';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { Response as AgentResponse } from 'superagent';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { signIn, type SignedIn } from '../helpers/agents';
import { seedDemoUnits } from '../../src/units';
import { CounterModel, OfficeModel } from '../../src/units/units.model';

/** Rendering and reading PDFs and PNGs is CPU-bound; a busy CI machine needs room (no test asserts timing). */
jest.setTimeout(120_000);

let t: TestApp;
let odien: SignedIn;
let hotline: SignedIn;

beforeAll(async () => {
  t = await startTestApp();
  await seedDemoUnits();
  odien = await signIn(t.app, { role: 'official', scope: ['09817'] });
  hotline = await signIn(t.app, { role: 'hotline', scope: ['01'] });
});

afterAll(() => t.stop());

function decodePng(buffer: Buffer): string | null {
  const png = PNG.sync.read(buffer);
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

/** Binary response bodies as Buffers (supertest only buffers text and JSON by default). */
function binary(res: AgentResponse, callback: (error: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** Page texts (pdf-parse) and the QR code read from a rendering of page 1, from a separate Node process. */
function pdfText(pdf: Buffer): Promise<{ pages: string[]; firstPageQr: string | null }> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'pdf-inspect.ts')], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as { pages: string[]; firstPageQr: string | null });
    });
    child.stdin?.end(pdf);
  });
}

describe('GET /admin/counters/:id/qr.png and .svg', () => {
  test('when an official asks for their counter, then the PNG decodes to the absolute form URL and is private', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09817' }).lean();
    const res = await odien.agent.get(`/admin/counters/${String(counter?._id)}/qr.png`).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['cache-control']).toContain('private');
    expect(decodePng(res.body as Buffer)).toBe(`http://thuocdo.test/f/${counter?.qrToken}`);
  });

  test('when the token is rotated, then the image follows the new token', async () => {
    const counter = await CounterModel.findOne({ seedKey: 'demo-counter-09817-2' }).lean();
    const id = String(counter?._id);
    await odien.agent.post(`/admin/counters/${id}/rotate-token`).type('form').send({ _csrf: odien.csrf }).expect(303);
    const rotated = await CounterModel.findById(id).lean();
    const res = await odien.agent.get(`/admin/counters/${id}/qr.png`).buffer(true).parse(binary);
    expect(decodePng(res.body as Buffer)).toBe(`http://thuocdo.test/f/${rotated?.qrToken}`);
    expect(rotated?.qrToken).not.toBe(counter?.qrToken);
  });

  test('when the SVG is asked for, then it is an SVG image of a QR code', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09817' }).lean();
    const res = await odien.agent.get(`/admin/counters/${String(counter?._id)}/qr.svg`).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('image/svg+xml');
    expect(res.headers['cache-control']).toContain('private');
    expect((res.body as Buffer).toString('utf8')).toMatch(/^<svg[^>]*viewBox="0 0 \d+ \d+"/);
  });

  test('when the counter is in another commune, then 404', async () => {
    const other = await CounterModel.findOne({ unitCode: '09784' }).lean();
    expect((await odien.agent.get(`/admin/counters/${String(other?._id)}/qr.png`)).status).toBe(404);
    expect((await odien.agent.get(`/admin/counters/${String(other?._id)}/qr.svg`)).status).toBe(404);
  });

  test('when anonymous, then no image (sign-in page); when without the print permission, then 403', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09817' }).lean();
    const anonymous = await request(t.app).get(`/admin/counters/${String(counter?._id)}/qr.png`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login/);
    expect((await hotline.agent.get(`/admin/counters/${String(counter?._id)}/qr.png`)).status).toBe(403);
  });
});

describe('GET /admin/units/:code/posters.pdf', () => {
  test('when printed for a commune, then one A4 page per active counter, with names, Vietnamese text, hotlines and a QR that scans', async () => {
    const counters = await CounterModel.find({ unitCode: '09817', active: true }).lean();
    const office = await OfficeModel.findOne({ unitCode: '09817' }).lean();
    const res = await odien.agent.get('/admin/units/09817/posters.pdf').buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['cache-control']).toContain('private');
    const { pages, firstPageQr } = await pdfText(res.body as Buffer);
    expect(pages).toHaveLength(counters.length);
    for (const page of pages) {
      expect(page).toContain('Trung tâm Phục vụ hành chính công xã Ô Diên');
      expect(page).toContain('Quét mã QR để đánh giá chất lượng phục vụ');
      expect(page).toContain('Scan the QR code to rate our service');
      expect(page).toContain(`Chủ tịch UBND xã: ${office?.hotlines[0]?.phone}`);
    }
    const labels = counters.map((c) => c.label);
    expect(pages.map((page) => labels.find((label) => page.replace(/\s+/g, ' ').includes(label)))).not.toContain(undefined);
    const tokens = counters.map((c) => `http://thuocdo.test/f/${c.qrToken}`);
    expect(tokens).toContain(firstPageQr);
    expect(pages.some((page) => page.includes(`thuocdo.test/f/${counters[0]?.qrToken}`))).toBe(true);
  });

  test('when a counter is deactivated, then it gets no poster', async () => {
    const counter = await CounterModel.findOne({ seedKey: 'demo-counter-09817-1' }).lean();
    await odien.agent.post(`/admin/counters/${String(counter?._id)}/deactivate`).type('form').send({ _csrf: odien.csrf }).expect(303);
    const active = await CounterModel.countDocuments({ unitCode: '09817', active: true });
    const res = await odien.agent.get('/admin/units/09817/posters.pdf').buffer(true).parse(binary);
    const { pages } = await pdfText(res.body as Buffer);
    expect(pages).toHaveLength(active);
    expect(pages.join(' ').replace(/\s+/g, ' ')).not.toContain(String(counter?.label));
  });

  test('when the unit is outside the scope, then 404; when without the print permission, then 403', async () => {
    expect((await odien.agent.get('/admin/units/09784/posters.pdf')).status).toBe(404);
    expect((await odien.agent.get('/admin/units/01/posters.pdf')).status).toBe(404);
    expect((await hotline.agent.get('/admin/units/09817/posters.pdf')).status).toBe(403);
  });
});
