// The per-device limit charged for a whole batch: in-order positions, clock windows, and never over the limit under concurrency.
import { startTestApp, type TestApp } from '../helpers/app';
import { chargeDevices, DeviceWindowModel } from '../../src/feedback/device-limit';

let t: TestApp;
const HOUR = 3600_000;
// A time to come, so that the TTL monitor never removes the windows during the test.
const at = Date.parse('2099-06-01T08:15:00Z');

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(() => t.stop());

describe('chargeDevices', () => {
  test('when one batch holds several votes of one device, then they take consecutive positions in order; other devices and absent ones are not affected', async () => {
    const { waits } = await chargeDevices(['a', 'a', 'b', undefined, 'a', 'a'], 3, HOUR, at);
    expect(waits).toEqual([null, null, null, null, null, 45 * 60_000]);
  });

  test('when a device is over its limit, then it waits for the next clock window, where it starts again', async () => {
    expect((await chargeDevices(['c', 'c'], 2, HOUR, at)).waits).toEqual([null, null]);
    expect((await chargeDevices(['c'], 2, HOUR, at + 30 * 60_000)).waits).toEqual([15 * 60_000]);
    expect((await chargeDevices(['c'], 2, HOUR, at + 45 * 60_000)).waits).toEqual([null]);
    const windows = await DeviceWindowModel.find({ _id: /^c:/ }).sort({ expireAt: 1 }).lean();
    expect(windows.map((window) => [window.points, window.expireAt.toISOString()])).toEqual([
      [3, '2099-06-01T09:00:00.000Z'],
      [1, '2099-06-01T10:00:00.000Z'],
    ]);
  });

  test('when a batch holds devices seen earlier in the window and new ones, then each continues from its own count', async () => {
    expect((await chargeDevices(['e'], 2, HOUR, at)).waits).toEqual([null]);
    expect((await chargeDevices(['e', 'f', 'f', 'e'], 2, HOUR, at)).waits).toEqual([null, null, null, 45 * 60_000]);
    expect((await chargeDevices(['f', 'g'], 2, HOUR, at)).waits).toEqual([45 * 60_000, null]);
  });

  test('when a charge is refunded, then its windows are back where they were', async () => {
    await chargeDevices(['r'], 2, HOUR, at);
    const charged = await chargeDevices(['r', 's', 's'], 2, HOUR, at);
    await charged.refund();
    const windows = await DeviceWindowModel.find({ _id: { $in: [`r:${Math.floor(at / HOUR) * HOUR}`, `s:${Math.floor(at / HOUR) * HOUR}`] } }).sort({ _id: 1 }).lean();
    expect(windows.map((window) => window.points)).toEqual([1, 0]);
    expect((await chargeDevices(['s', 's', 's'], 2, HOUR, at)).waits).toEqual([null, null, 45 * 60_000]);
  });

  test('when many batches charge one device at once, then no more votes than the limit are let through', async () => {
    const batches = (await Promise.all(Array.from({ length: 8 }, () => chargeDevices(['d', 'd', 'd'], 5, HOUR, at)))).map((charged) => charged.waits);
    // Each batch reads the count after its own increment, so concurrent charges can only make it stricter.
    expect(batches.flat().filter((wait) => wait === null).length).toBeLessThanOrEqual(5);
    expect(batches.flat()).toHaveLength(24);
    expect((await DeviceWindowModel.findById(`d:${Math.floor(at / HOUR) * HOUR}`).lean())?.points).toBe(24);
  });
});
