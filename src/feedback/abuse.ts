// Honesty signals: the device cookie, keyed hashes of device and IP, database-backed rate limits, signed follow-up links.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import mongoose from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { AppError, tooManyRequests } from '../shared/errors';
import { countDeviceVotesSince } from './feedback.repository';

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

/** Reads the device cookie; with `issue`, sets a fresh random one when absent (httpOnly, one year, sameSite lax). */
export function deviceCookie(config: Config, options: { issue: boolean }) {
  return (req: Request, res: Response, next: NextFunction) => {
    const current: unknown = req.cookies?.[DEVICE_COOKIE];
    if (typeof current === 'string' && DEVICE_ID.test(current)) {
      res.locals.deviceId = current;
    } else if (options.issue) {
      const fresh = randomBytes(16).toString('base64url');
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
  /** When the vote is cast (the device limit counts the device's votes in the hour before). */
  at: Date;
}

export interface RateGuards {
  /**
   * Charges a batch of submissions, in order, with one database operation per limit (one per distinct key for the IP
   * and kiosk limits): the same answers as charging them one by one. Each answer is null (allowed) or the 429 error
   * to give that submission.
   */
  charge(charges: readonly Charge[]): Promise<(AppError | null)[]>;
}

type Limiters = { ip: RateLimiterMongo; kiosk: RateLimiterMongo | null };

const HOUR_MS = 3600_000;

/**
 * The device limit counts the votes the device stored in the last hour (one query for the whole batch, no counter
 * document per phone): the i-th vote of a device in the batch is its (stored + i)-th. Answers the wait in ms until a
 * vote over the limit would fit, or null.
 */
async function overDeviceLimit(limit: number, charges: readonly Charge[]): Promise<(number | null)[]> {
  const devices = [...new Set(charges.flatMap((charge) => (charge.deviceHash ? [charge.deviceHash] : [])))];
  if (devices.length === 0) return charges.map(() => null);
  const since = new Date(Math.min(...charges.map((charge) => charge.at.getTime())) - HOUR_MS);
  const stored = await countDeviceVotesSince(devices, since);
  const position = new Map<string, number>();
  return charges.map((charge) => {
    if (!charge.deviceHash) return null;
    const recent = stored.get(charge.deviceHash);
    const nth = (position.get(charge.deviceHash) ?? recent?.count ?? 0) + 1;
    position.set(charge.deviceHash, nth);
    if (nth <= limit) return null;
    return Math.max(1000, (recent ? recent.oldest.getTime() + HOUR_MS : charge.at.getTime() + HOUR_MS) - charge.at.getTime());
  });
}

/** Which submissions go over one limiter's limit: `n` points for a key at once, the i-th being the (before + i)-th. */
async function overLimit(limiter: RateLimiterMongo, keys: readonly (string | undefined)[]): Promise<(number | null)[]> {
  const positions = new Map<string, number[]>();
  keys.forEach((key, index) => {
    if (key !== undefined) positions.set(key, [...(positions.get(key) ?? []), index]);
  });
  const answers: (number | null)[] = keys.map(() => null);
  await Promise.all(
    [...positions].map(async ([key, indexes]) => {
      let result: RateLimiterRes;
      try {
        result = await limiter.consume(key, indexes.length);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        result = error;
      }
      const before = result.consumedPoints - indexes.length;
      indexes.forEach((index, i) => {
        if (before + i + 1 > limiter.points) answers[index] = result.msBeforeNext;
      });
    }),
  );
  return answers;
}

function kioskTooSoon(msBeforeNext: number): AppError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(429, 'too_many_requests', 'feedback.errors.kioskTooSoon', { seconds }, undefined, { 'Retry-After': String(seconds) });
}

/**
 * Rate limits kept in the database, so every app process shares them: per device, the votes it stored in the last
 * hour; per IP and per kiosk counter, rate-limiter-flexible's counters on Mongoose's connection.
 */
export function createRateGuards(settings: Config['feedback']): RateGuards {
  let limiters: Limiters | null = null;
  const get = (): Limiters => {
    limiters ??= {
      ip: new RateLimiterMongo({ storeClient: mongoose.connection, tableName: 'rate_limits', keyPrefix: 'fb-ip', points: settings.limitPerIpPerHour, duration: 3600 }),
      kiosk:
        settings.kioskMinIntervalSeconds > 0
          ? new RateLimiterMongo({ storeClient: mongoose.connection, tableName: 'rate_limits', keyPrefix: 'fb-kiosk', points: 1, duration: settings.kioskMinIntervalSeconds })
          : null,
    };
    return limiters;
  };
  return {
    async charge(charges) {
      const { ip, kiosk } = get();
      const [kioskWaits, deviceWaits, ipWaits] = await Promise.all([
        kiosk ? overLimit(kiosk, charges.map((charge) => charge.kioskCounterId)) : charges.map(() => null),
        overDeviceLimit(settings.limitPerDevicePerHour, charges),
        overLimit(ip, charges.map((charge) => charge.ipHash)),
      ]);
      return charges.map((_charge, index) => {
        const kioskWait = kioskWaits[index];
        if (kioskWait != null) return kioskTooSoon(kioskWait);
        const wait = Math.max(deviceWaits[index] ?? -1, ipWaits[index] ?? -1);
        return wait >= 0 ? tooManyRequests(wait / 1000, 'feedback.errors.rateLimited') : null;
      });
    },
  };
}
