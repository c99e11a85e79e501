// Charges taken back: the guards give back exactly what a charge took, to the IP, device and kiosk windows that took it.
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app';
import { createRateGuards, type RateGuards } from '../../src/feedback/abuse';
import { LimitWindowModel } from '../../src/feedback/hourly-limits';
import { newKey } from './support';

let t: TestApp;
let guards: RateGuards;

beforeAll(async () => {
  t = await startTestApp({ FEEDBACK_LIMIT_PER_IP_PER_HOUR: '3', FEEDBACK_LIMIT_PER_DEVICE_PER_HOUR: '2', KIOSK_MIN_INTERVAL_SECONDS: '600' });
  guards = createRateGuards(t.config.feedback);
});

afterAll(() => t.stop());

/** The points of every window of one key under one limit (the test may straddle a clock hour). */
async function points(limit: 'device' | 'ip', key: string): Promise<number> {
  const windows = await LimitWindowModel.find({ _id: new RegExp(`^${limit}:${key}:`) }).lean();
  return windows.reduce((sum, window) => sum + window.points, 0);
}

const statuses = (charged: { refusals: ({ status: number } | null)[] }) => charged.refusals.map((refusal) => refusal?.status ?? null);

describe('the guards of a batch', () => {
  test('when a batch goes over the device and the IP limits, then the votes over either are refused, and each limit counts what it let through', async () => {
    const ipHash = `ip-${newKey()}`;
    const deviceHash = `device-${newKey()}`;
    const charged = await guards.charge([{ ipHash, deviceHash }, { ipHash, deviceHash }, { ipHash, deviceHash }, { ipHash }, { deviceHash: `other-${deviceHash}` }]);
    expect(statuses(charged)).toEqual([null, null, 429, 429, null]);
    expect([await points('device', deviceHash), await points('ip', ipHash)]).toEqual([2, 3]);
  });

  test('when a charge is refunded, then the IP and the device are back where they were, and the next votes get their places', async () => {
    const ipHash = `ip-${newKey()}`;
    const deviceHash = `device-${newKey()}`;
    await guards.charge([{ ipHash, deviceHash }]);
    const charged = await guards.charge([{ ipHash, deviceHash }, { ipHash, deviceHash }]);
    expect(statuses(charged)).toEqual([null, 429]);
    await charged.refund();
    expect([await points('device', deviceHash), await points('ip', ipHash)]).toEqual([1, 1]);
    expect(statuses(await guards.charge([{ ipHash, deviceHash }, { ipHash, deviceHash }]))).toEqual([null, 429]);
  });

  test('when a kiosk vote is refunded, then its counter may take the next vote at once', async () => {
    const ipHash = `ip-${newKey()}`;
    const kioskCounterId = new mongoose.Types.ObjectId().toHexString();
    const charged = await guards.charge([{ ipHash, kioskCounterId }]);
    expect(statuses(charged)).toEqual([null]);
    await charged.refund();
    expect(statuses(await guards.charge([{ ipHash, kioskCounterId }]))).toEqual([null]);
  });
});
