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

  test('when the IP window expired before the refund, then the refund leaves the new window alone (no points below zero)', async () => {
    const ipHash = `ip-${newKey()}`;
    const charged = await guards.charge([{ ipHash }, { ipHash }, { ipHash }]);
    expect(charged.refusals).toEqual([null, null, null]);
    await mongoose.connection.collection('rate_limits').updateOne({ key: `fb-ip:${ipHash}` }, { $set: { expire: new Date(Date.now() - 1000) } });
    await charged.refund();
    expect((await ipRecord(ipHash))?.points).toBe(3);
    const next = await guards.charge([{ ipHash }, { ipHash }, { ipHash }, { ipHash }]);
    expect(next.refusals.map((refusal) => refusal?.status ?? null)).toEqual([null, null, null, 429]);
  });
});
