// Time zones as MongoDB accepts them (IANA names, UTC offsets), with fast cached UTC offsets that never
// depend on the host's TZ.

import { MongoError } from '../errors';

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A resolved time zone: the offset (ms, local = utc + offset) at any instant. */
export interface Zone {
  readonly name: string;
  offsetAt(utcMs: number): number;
}

const OFFSET_RE = /^([+-])(\d{2})(?::?(\d{2}))?$/;

class FixedZone implements Zone {
  constructor(readonly name: string, private readonly offset: number) {}
  offsetAt(): number {
    return this.offset;
  }
}

class IanaZone implements Zone {
  private readonly format: Intl.DateTimeFormat;
  /** Per UTC hour: the offset when it is the same at both ends of the hour, else NaN (a transition inside). */
  private readonly hourCache = new Map<number, number>();
  private readonly minuteCache = new Map<number, number>();

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The exact offset at an instant, computed through Intl (slow path). */
  private compute(utcMs: number): number {
    const seconds = Math.floor(utcMs / 1000) * 1000;
    const parts = this.format.formatToParts(new Date(seconds));
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          year = Number(p.value);
          break;
        case 'month':
          month = Number(p.value);
          break;
        case 'day':
          day = Number(p.value);
          break;
        case 'hour':
          hour = Number(p.value);
          break;
        case 'minute':
          minute = Number(p.value);
          break;
        case 'second':
          second = Number(p.value);
          break;
        case 'era':
          bc = p.value.startsWith('B');
          break;
        default:
          break;
      }
    }
    if (bc) year = 1 - year;
    const wall = new Date(0);
    wall.setUTCFullYear(year, month - 1, day);
    wall.setUTCHours(hour, minute, second, 0);
    return wall.getTime() - seconds;
  }

  offsetAt(utcMs: number): number {
    const hour = Math.floor(utcMs / HOUR_MS);
    let cached = this.hourCache.get(hour);
    if (cached === undefined) {
      const start = this.compute(hour * HOUR_MS);
      const end = this.compute(hour * HOUR_MS + HOUR_MS - 1000);
      cached = start === end ? start : NaN;
      if (this.hourCache.size > 200_000) this.hourCache.clear();
      this.hourCache.set(hour, cached);
    }
    if (!Number.isNaN(cached)) return cached;
    const minute = Math.floor(utcMs / MINUTE_MS);
    let m = this.minuteCache.get(minute);
    if (m === undefined) {
      m = this.compute(utcMs);
      if (this.minuteCache.size > 100_000) this.minuteCache.clear();
      this.minuteCache.set(minute, m);
    }
    return m;
  }
}

export const UTC: Zone = new FixedZone('UTC', 0);
const zones = new Map<string, Zone>([['UTC', UTC]]);

function unrecognized(name: string): MongoError {
  return new MongoError(40485, `unrecognized time zone identifier: "${name}"`);
}

/** Resolves a MongoDB timezone argument: undefined → UTC; "+07:00", "-0530", "+07"; or an IANA name. */
export function resolveZone(tz: unknown): Zone {
  if (tz === undefined) return UTC;
  if (typeof tz !== 'string') {
    throw new MongoError(40517, `timezone must evaluate to a string, found ${tz === null ? 'null' : typeof tz}`);
  }
  const known = zones.get(tz);
  if (known) return known;
  let zone: Zone;
  const m = tz.match(OFFSET_RE);
  if (m) {
    const sign = m[1] === '-' ? -1 : 1;
    const hours = Number(m[2]);
    const minutes = Number(m[3] ?? '0');
    if (hours > 99 || minutes > 59) throw unrecognized(tz);
    zone = new FixedZone(tz, sign * (hours * HOUR_MS + minutes * MINUTE_MS));
  } else {
    if (tz === '' || /^[+-]/.test(tz)) throw unrecognized(tz);
    try {
      const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
      zone = resolved === 'UTC' || resolved === 'Etc/UTC' ? new FixedZone(tz, 0) : new IanaZone(tz);
    } catch {
      throw unrecognized(tz);
    }
  }
  zones.set(tz, zone);
  return zone;
}

/** The UTC instant of a local wall-clock time in a zone (for times skipped by DST, the later offset applies). */
export function localToUtc(zone: Zone, localMs: number): number {
  const guess = localMs - zone.offsetAt(localMs);
  const o1 = zone.offsetAt(guess);
  const utc = localMs - o1;
  const o2 = zone.offsetAt(utc);
  if (o2 === o1) return utc;
  return localMs - o2;
}
