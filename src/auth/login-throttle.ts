// Sign-in throttling shared by every app process (counters in the database): per client address and per unknown username.
import mongoose from 'mongoose';
import { RateLimiterMongo, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';

export interface LoginThrottle {
  /** Seconds to wait when this address made too many failed attempts, else 0. */
  addressWait(ip: string): Promise<number>;
  addressFailed(ip: string): Promise<void>;
  /** Seconds an unknown username stays "locked", so it answers exactly as a real locked account. */
  unknownUserWait(username: string): Promise<number>;
  /** Counts a failure for an unknown username; returns the wait when this failure locked it, else 0. */
  unknownUserFailed(username: string): Promise<number>;
}

/** Failed attempts one address may make in one lockout window, across all usernames. */
export const ADDRESS_ATTEMPTS_PER_ACCOUNT_LIMIT = 5;

function isLimiterRes(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function createLoginThrottle(config: Config): LoginThrottle {
  const windowSeconds = config.login.lockoutMinutes * 60;
  const addressPoints = config.login.maxAttempts * ADDRESS_ATTEMPTS_PER_ACCOUNT_LIMIT;
  const byAddress = new RateLimiterMongo({
    storeClient: mongoose.connection,
    tableName: 'rate_limits',
    keyPrefix: 'login_ip',
    points: addressPoints,
    duration: windowSeconds,
  });
  const byUnknownUser = new RateLimiterMongo({
    storeClient: mongoose.connection,
    tableName: 'rate_limits',
    keyPrefix: 'login_unknown_user',
    points: config.login.maxAttempts,
    duration: windowSeconds,
  });

  async function wait(limiter: RateLimiterMongo, points: number, key: string): Promise<number> {
    const state = await limiter.get(key);
    return state && state.consumedPoints >= points ? seconds(state.msBeforeNext) : 0;
  }

  async function consume(limiter: RateLimiterMongo, key: string): Promise<RateLimiterRes> {
    try {
      return await limiter.consume(key);
    } catch (rejection) {
      if (isLimiterRes(rejection)) return rejection;
      throw rejection;
    }
  }

  return {
    addressWait: (ip) => wait(byAddress, addressPoints, ip),
    async addressFailed(ip) {
      await consume(byAddress, ip);
    },
    unknownUserWait: (username) => wait(byUnknownUser, config.login.maxAttempts, username),
    async unknownUserFailed(username) {
      const state = await consume(byUnknownUser, username);
      if (state.remainingPoints > 0) return 0;
      await byUnknownUser.block(username, windowSeconds);
      return windowSeconds;
    },
  };
}
