// Honesty signals: the device cookie, keyed hashes of device and IP, database-backed rate limits, signed follow-up links.
import { createHmac, hkdfSync, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import mongoose from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { NO_JOURNAL_WAIT } from '../shared/database';
import { AppError, tooManyRequests } from '../shared/errors';
import { chargeHourly, type Charged } from './hourly-limits';

export const DEVICE_COOKIE = 'tdd';
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/** A sub-key of the app secret used only for feedback hashes and signatures (HKDF-SHA256). */
export function feedbackKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'thuoc-do', 'feedback abuse hashes v1', 32));
}

function hmac(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

export interface Hashes {
  deviceHash?: string;
  ipHash?: string;
}

/** Keyed hashes of the raw device id and IP; the raw values are never stored. */
export function hashSignals(key: Buffer, signals: { deviceId?: string; ip?: string }): Hashes {
  return {
    ...(signals.deviceId ? { deviceHash: hmac(key, `device:${signals.deviceId}`) } : {}),
    ...(signals.ip ? { ipHash: hmac(key, `ip:${signals.ip}`) } : {}),
  };
}

const DEVICE_ID_BYTES = 16;
/** Random bytes for 256 device ids, drawn in one system call rather than one per citizen (as randomUUID does). */
const idPool = Buffer.alloc(DEVICE_ID_BYTES * 256);
let idPoolOffset = idPool.length;

/** A fresh device id: 16 random bytes, base64url. */
function newDeviceId(): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const id = idPool.toString('base64url', idPoolOffset, idPoolOffset + DEVICE_ID_BYTES);
  idPoolOffset += DEVICE_ID_BYTES;
  return id;
}

/** Reads the device cookie; with `issue`, sets a fresh random one when absent (httpOnly, one year, sameSite lax). */
export function deviceCookie(config: Config, options: { issue: boolean }) {
  return (req: Request, res: Response, next: NextFunction) => {
    const current: unknown = req.cookies?.[DEVICE_COOKIE];
    if (typeof current === 'string' && DEVICE_ID.test(current)) {
      res.locals.deviceId = current;
    } else if (options.issue) {
      const fresh = newDeviceId();
      res.cookie(DEVICE_COOKIE, fresh, { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax', secure: config.cookies.secure, path: '/' });
      res.locals.deviceId = fresh;
    }
    next();
  };
}

/** Signs "this browser may add details to feedback `id` until `expiresAt`". */
export function signFollowUp(key: Buffer, id: string, expiresAtMs: number): string {
  return `${expiresAtMs}.${hmac(key, `followup:${id}:${expiresAtMs}`)}`;
}

export function verifyFollowUp(key: Buffer, id: string, token: string, nowMs: number): boolean {
  const [expires, signature] = token.split('.');
  const expiresAtMs = Number(expires);
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < nowMs || !signature) return false;
  const expected = Buffer.from(hmac(key, `followup:${id}:${expiresAtMs}`));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** What one submission is charged against: its device and IP hashes, and the counter when it comes from a kiosk. */
export interface Charge extends Hashes {
  kioskCounterId?: string;
}

/** What charging a batch answered, and how to take the charge back. */
export interface BatchCharge {
  /** For each submission, null (allowed) or the 429 error to give it. */
  refusals: (AppError | null)[];
  /**
   * Gives back every point the charge took, to the windows that took them while they are open (a window that has
   * ended keeps its points; nothing ever goes below zero). Throws after trying every part when one failed.
   */
  refund(): Promise<void>;
}

export interface RateGuards {
  /**
   * Charges a batch of submissions in order, as if one by one: first the kiosk interval, then (for what it allows)
   * the device and IP limits, which count the submissions they let through. Atomic whatever else is charging at the
   * same time: no key ever gets more than its limit.
   */
  charge(charges: readonly Charge[]): Promise<BatchCharge>;
}

const HOUR_MS = 3600_000;
/** rate-limiter-flexible's records for the kiosk interval. */
const LIMITS_COLLECTION = 'rate_limits';

/** What one limiter answered for a batch (the wait in ms per submission when over its limit, else null), and its refund. */
interface KeyCharge {
  waits: (number | null)[];
  refund(): Promise<void>;
}

/**
 * Which submissions go over one limiter's limit, as the wait in ms before the next would fit (null: allowed). A key
 * is charged `n` points at once (`consume` is atomic, so concurrent batches and processes never share a position),
 * the i-th submission of the key being its (before + i)-th point.
 */
async function overLimit(limiter: RateLimiterMongo, keys: readonly (string | undefined)[]): Promise<KeyCharge> {
  const positions = new Map<string, number[]>();
  keys.forEach((key, index) => {
    if (key !== undefined) positions.set(key, [...(positions.get(key) ?? []), index]);
  });
  const answers: (number | null)[] = keys.map(() => null);
  /** Each charged key, its points and the end of the window that took them. */
  const charged: { key: string; points: number; expire: number }[] = [];
  // Not `limiter.reward`: on a window that ended meanwhile it would start the next one below zero. This takes the
  // points back from the very window that took them, if it is still open: the next window of a key reuses its
  // record and ends at least one duration later (rate-limiter-flexible's Mongo records are `key`, `points`,
  // `expire`; tests/feedback/rate-guards.test.ts checks it).
  const refund = async () => {
    const records = mongoose.connection.collection(LIMITS_COLLECTION);
    await allOrRefund(
      charged.map(({ key, points, expire }) =>
        records.updateOne({ key: limiter.getKey(key), expire: { $gt: new Date(), $lte: new Date(expire) }, points: { $gte: points } }, { $inc: { points: -points } }, NO_JOURNAL_WAIT),
      ),
    );
  };
  await allOrRefund(
    [...positions].map(async ([key, indexes]) => {
      let result: RateLimiterRes;
      try {
        result = await limiter.consume(key, indexes.length);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        result = error;
      }
      charged.push({ key, points: indexes.length, expire: Date.now() + result.msBeforeNext });
      const before = result.consumedPoints - indexes.length;
      indexes.forEach((index, i) => {
        if (before + i + 1 > limiter.points) answers[index] = result.msBeforeNext;
      });
    }),
    refund,
  );
  return { waits: answers, refund };
}

/**
 * Waits for every operation; when one failed, gives back what the others charged (if `refund` is given), then
 * throws the first failure.
 */
async function allOrRefund<T>(operations: Promise<T>[], refund?: () => Promise<void>): Promise<T[]> {
  const outcomes = await Promise.allSettled(operations);
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (!failed) return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
  if (refund) await refund().catch(() => undefined);
  throw failed.reason;
}

function kioskTooSoon(msBeforeNext: number): AppError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(429, 'too_many_requests', 'feedback.errors.kioskTooSoon', { seconds }, undefined, { 'Retry-After': String(seconds) });
}

/**
 * Rate limits stored in the database, shared by every app process. The per-device and per-IP limits count clock
 * hours, for a whole batch in one operation (hourly-limits.ts): a batch holds a phone per citizen, mostly each on
 * its own address, and a limiter call per key would cost a round trip per vote. The kiosk interval is
 * rate-limiter-flexible's counter (one `consume` per kiosk counter in the batch).
 */
export function createRateGuards(settings: Config['feedback']): RateGuards {
  let kioskLimiter: RateLimiterMongo | undefined;
  /** Created at the first charge, once the database is connected; null when kiosks have no interval. */
  const kioskInterval = (): RateLimiterMongo | null => {
    if (settings.kioskMinIntervalSeconds <= 0) return null;
    // The counts are written without waiting for the journal: an accepted vote's own writes wait for it afterwards,
    // and a count lost in a crash only lets a few more votes in.
    kioskLimiter ??= new RateLimiterMongo({
      storeClient: mongoose.connection.getClient().db(mongoose.connection.name, NO_JOURNAL_WAIT),
      tableName: LIMITS_COLLECTION,
      keyPrefix: 'fb-kiosk',
      points: 1,
      duration: settings.kioskMinIntervalSeconds,
    });
    return kioskLimiter;
  };
  return {
    async charge(charges) {
      const kiosk = kioskInterval();
      const answers: (AppError | null)[] = charges.map(() => null);
      const kioskCharge = kiosk && charges.some((charge) => charge.kioskCounterId) ? await overLimit(kiosk, charges.map((charge) => charge.kioskCounterId)) : null;
      kioskCharge?.waits.forEach((wait, index) => {
        if (wait !== null) answers[index] = kioskTooSoon(wait);
      });
      const open = charges.map((charge, index) => (answers[index] ? null : charge));
      let hourly: Charged;
      try {
        hourly = await chargeHourly(
          [
            { name: 'device', keys: open.map((charge) => charge?.deviceHash), limit: settings.limitPerDevicePerHour },
            { name: 'ip', keys: open.map((charge) => charge?.ipHash), limit: settings.limitPerIpPerHour },
          ],
          HOUR_MS,
        );
      } catch (error) {
        await kioskCharge?.refund().catch(() => undefined);
        throw error;
      }
      const [deviceWaits = [], ipWaits = []] = hourly.waits;
      open.forEach((charge, index) => {
        const wait = Math.max(deviceWaits[index] ?? -1, ipWaits[index] ?? -1);
        if (charge && wait >= 0) answers[index] = tooManyRequests(wait / 1000, 'feedback.errors.rateLimited');
      });
      const refund = async () => {
        await allOrRefund([kioskCharge?.refund() ?? Promise.resolve(), hourly.refund()]);
      };
      return { refusals: answers, refund };
    },
  };
}
