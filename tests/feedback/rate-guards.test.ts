// Charges taken back: the per-IP and device limits give back exactly what a charge took, and never open a window below zero.
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app';
import { createRateGuards, type RateGuards } from '../../src/feedback/abuse';
import { newKey } from './support';

let t: TestApp;
let guards: RateGuards;

beforeAll(async () => {
  t = await startTestApp({ FEEDBACK_LIMIT_PER_IP_PER_HOUR: '3', FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: '2' });
  guards = createRateGuards(t.config.feedback);
});

afterAll(() => t.stop());

/** An IP window that ends in `ms` (rate-limiter-flexible's record), so that a test can outlive it. */
async function shortWindow(ipHash: string, ms: number): Promise<void> {
  await mongoose.connection.collection('rate_limits').insertOne({ key: `fb-ip:${ipHash}`, points: 0, expire: new Date(Date.now() + ms) });
}

const ipRecord = (ipHash: string) => mongoose.connection.collection('rate_limits').findOne({ key: `fb-ip:${ipHash}` });

describe('refunds', () => {
  test('when a charge is refunded, then the IP and the device are back where they were, and the next votes get their places', async () => {
    const ipHash = `ip-${newKey()}`;
    const deviceHash = `device-${newKey()}`;
    await guards.charge([{ ipHash, deviceHash }]);
    const charged = await guards.charge([{ ipHash, deviceHash }, { ipHash, deviceHash }]);
    expect(charged.refusals.map((refusal) => refusal?.status ?? null)).toEqual([null, 429]);
    await charged.refund();
    expect((await ipRecord(ipHash))?.points).toBe(1);
    const again = await guards.charge([{ ipHash, deviceHash }, { ipHash, deviceHash }]);
    expect(again.refusals.map((refusal) => refusal?.status ?? null)).toEqual([null, 429]);
  });

  test('when the IP window ended and the next one began before the refund, then the refund leaves the next window alone', async () => {
    const ipHash = `ip-${newKey()}`;
    await shortWindow(ipHash, 300);
    const charged = await guards.charge([{ ipHash }, { ipHash }, { ipHash }]);
    expect(charged.refusals).toEqual([null, null, null]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await guards.charge([{ ipHash }])).refusals).toEqual([null]);
    await charged.refund();
    expect((await ipRecord(ipHash))?.points).toBe(1);
    const more = await guards.charge([{ ipHash }, { ipHash }, { ipHash }]);
    expect(more.refusals.map((refusal) => refusal?.status ?? null)).toEqual([null, null, 429]);
  });

  test('when the IP window ended before the refund, then the refund changes nothing and the next window starts at zero', async () => {
    const ipHash = `ip-${newKey()}`;
    await shortWindow(ipHash, 300);
    const charged = await guards.charge([{ ipHash }, { ipHash }]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await charged.refund();
    // The ended window keeps its points (unless the TTL monitor removed it meanwhile); none went below zero.
    const ended = await ipRecord(ipHash);
    if (ended) expect(ended.points).toBe(2);
    const next = await guards.charge([{ ipHash }, { ipHash }, { ipHash }, { ipHash }]);
    expect(next.refusals.map((refusal) => refusal?.status ?? null)).toEqual([null, null, null, 429]);
  });
});
