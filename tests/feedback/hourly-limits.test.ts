// The hourly limits charged for a whole batch: in-order places, clock windows, refunds, and never over the limit under concurrency.
import { MongoBulkWriteError } from 'mongodb';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app';
import { chargeHourly, LimitWindowModel, windowId } from '../../src/feedback/hourly-limits';

let t: TestApp;
const HOUR = 3600_000;
// A time to come, so that the TTL monitor never removes the windows during the test.
const at = Date.parse('2099-06-01T08:15:00Z');
const windowStart = Math.floor(at / HOUR) * HOUR;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(() => t.stop());

/** One limit named `device` over these keys. */
async function charge(keys: (string | undefined)[], limit: number, now = at) {
  const charged = await chargeHourly([{ name: 'device', keys, limit }], HOUR, now);
  return { waits: charged.waits[0], refund: charged.refund };
}

const pointsOf = async (id: string) => (await LimitWindowModel.findById(id).lean())?.points;

describe('chargeHourly', () => {
  test('when one batch holds several votes of one key, then they take consecutive places in order; other keys and absent ones are not affected', async () => {
    expect((await charge(['a', 'a', 'b', undefined, 'a', 'a'], 3)).waits).toEqual([null, null, null, null, null, 45 * 60_000]);
    expect(await pointsOf(windowId('device', 'a', windowStart))).toBe(3);
  });

  test('when a key is at its limit, then it waits for the next clock window, where it starts again; refused votes take no place', async () => {
    expect((await charge(['c', 'c'], 2)).waits).toEqual([null, null]);
    expect((await charge(['c'], 2, at + 30 * 60_000)).waits).toEqual([15 * 60_000]);
    expect((await charge(['c'], 2, at + 45 * 60_000)).waits).toEqual([null]);
    const windows = await LimitWindowModel.find({ _id: /^device:c:/ }).sort({ expireAt: 1 }).lean();
    expect(windows.map((window) => [window.points, window.expireAt.toISOString()])).toEqual([
      [2, '2099-06-01T09:00:00.000Z'],
      [1, '2099-06-01T10:00:00.000Z'],
    ]);
  });

  test('when a batch holds keys seen earlier in the window and new ones, then each continues from its own count', async () => {
    expect((await charge(['e'], 2)).waits).toEqual([null]);
    expect((await charge(['e', 'f', 'f', 'e'], 2)).waits).toEqual([null, null, null, 45 * 60_000]);
    expect((await charge(['f', 'g'], 2)).waits).toEqual([45 * 60_000, null]);
  });

  test('when two limits share a key, then each counts it in its own window against its own limit', async () => {
    const charged = await chargeHourly(
      [
        { name: 'device', keys: ['k', 'k'], limit: 1 },
        { name: 'ip', keys: ['k', 'k'], limit: 5 },
      ],
      HOUR,
      at,
    );
    expect(charged.waits).toEqual([
      [null, 45 * 60_000],
      [null, null],
    ]);
    expect([await pointsOf(windowId('device', 'k', windowStart)), await pointsOf(windowId('ip', 'k', windowStart))]).toEqual([1, 2]);
  });

  test('when a charge is refunded, then its windows are back where they were', async () => {
    await charge(['r'], 2);
    const charged = await charge(['r', 's', 's', 's'], 2);
    expect(charged.waits).toEqual([null, null, null, 45 * 60_000]);
    await charged.refund();
    expect([await pointsOf(windowId('device', 'r', windowStart)), await pointsOf(windowId('device', 's', windowStart))]).toEqual([1, 0]);
    expect((await charge(['s', 's', 's'], 2)).waits).toEqual([null, null, 45 * 60_000]);
  });

  test('when the window ended and the next one began before a refund, then the refund leaves the next window alone', async () => {
    const charged = await charge(['n', 'n'], 3);
    expect((await charge(['n'], 3, at + HOUR)).waits).toEqual([null]);
    await charged.refund();
    expect(await pointsOf(windowId('device', 'n', windowStart))).toBe(0);
    expect(await pointsOf(windowId('device', 'n', windowStart + HOUR))).toBe(1);
  });

  test('when many batches charge one new key at once, then exactly the limit is let through and counted', async () => {
    const batches = (await Promise.all(Array.from({ length: 8 }, () => charge(['d', 'd', 'd'], 5)))).map((charged) => charged.waits);
    expect(batches.flat()).toHaveLength(24);
    expect(batches.flat().filter((wait) => wait === null)).toHaveLength(5);
    expect(await pointsOf(windowId('device', 'd', windowStart))).toBe(5);
  });

  test('when two charges create a window at the same moment, then the one told "duplicate key" tries its point again and gets it', async () => {
    // What a server running writes in parallel answers the loser of the creation race; the embedded engine, running
    // one command at a time, never does: the first try is answered as the race would be, after the rival's window.
    const race = jest.spyOn(LimitWindowModel.collection, 'bulkWrite').mockImplementationOnce(async () => {
      await mongoose.connection.collection('hourly_limits').insertOne({ _id: windowId('device', 'race', windowStart) as never, points: 1, expireAt: new Date(windowStart + HOUR) });
      throw Object.assign(Object.create(MongoBulkWriteError.prototype) as MongoBulkWriteError, {
        message: 'E11000 duplicate key error',
        writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key error' }],
      });
    });
    try {
      expect((await charge(['race'], 3)).waits).toEqual([null]);
    } finally {
      race.mockRestore();
    }
    expect(await pointsOf(windowId('device', 'race', windowStart))).toBe(2);
  });
});
