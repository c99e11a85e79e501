// Feedback test support: demo counters to vote at, form fields from a rendered page, and stored-feedback queries.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { findCounterByToken, findCounters, findOffices, seedDemoUnits, type Counter } from '../../src/units';
import { ALL_UNITS } from '../../src/shared/scope';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { RollupModel } from '../../src/feedback/rollup.model';
import type { FeedbackInput } from '../../src/feedback/feedback.schema';

export interface CounterAtOffice {
  counter: Counter;
  officeName: string;
  token: string;
}

/** Seeds the demo units (idempotent) and returns every active counter with its office name. */
export async function demoCounters(): Promise<CounterAtOffice[]> {
  await seedDemoUnits();
  const [counters, offices] = await Promise.all([findCounters(ALL_UNITS, { activeOnly: true }), findOffices(ALL_UNITS)]);
  const officeNames = new Map(offices.map((office) => [office.id, office.name]));
  return counters.map((counter) => ({ counter, officeName: officeNames.get(counter.officeId) ?? '', token: counter.qrToken }));
}

/** The hidden per-render idempotency key of a rendered form. */
export function formKey(html: string): string {
  const match = /name="key" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no idempotency key in the form');
  return match[1];
}

export const newKey = () => randomUUID();

/** A quick vote at the counter of `token` (satisfied, nothing else answered), with what `patch` changes. */
export const voteInput = (token: string, patch: Partial<FeedbackInput> = {}): FeedbackInput => ({
  qrToken: token,
  quick: 'satisfied',
  elements: {},
  wentWell: [],
  wentBadly: [],
  lang: 'vi',
  ...patch,
});

export function feedbackCount(filter: Record<string, unknown> = {}): Promise<number> {
  return FeedbackModel.countDocuments(filter).exec();
}

/** The counted total of a counter's roll-ups (all days). */
export async function rolledUpCount(counterId: string): Promise<number> {
  const rollups = await RollupModel.find({ counterId }).lean().exec();
  return rollups.reduce((sum, rollup) => sum + (rollup.count ?? 0), 0);
}

export async function isLive(token: string): Promise<boolean> {
  const found = await findCounterByToken(token);
  return found !== null && !found.revoked;
}

/** POSTs exact bytes (supertest would re-serialise a Buffer) to the app on a loopback port; returns status and text. */
export async function postRaw(
  app: Express,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
