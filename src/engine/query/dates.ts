// Date expression operators with MongoDB's timezone semantics, independent of the host TZ.

import { ErrorCodes, MongoError } from '../errors';
import { bsonType, isPlainObject, toNumber, typeRank, TypeRank } from './compare';
import { typeName } from './format';
import { evalExpr, registerOperators, type MingoOptions } from './mingo';
import { DAY_MS, HOUR_MS, MINUTE_MS, localToUtc, resolveZone, UTC, type Zone } from './timezone';

type Opts = MingoOptions;

/** Local calendar fields of an instant in a zone. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 0 = Sunday … 6 = Saturday */
  dow: number;
  /** 1-based day of the year */
  yday: number;
  /** days since 1970-01-01 of the local date */
  dayNumber: number;
  offset: number;
}

const REF_2000_DAY = 10957; // 2000-01-01 as days since the epoch; a Saturday

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function localParts(utcMs: number, zone: Zone): LocalParts {
  const offset = zone.offsetAt(utcMs);
  const local = utcMs + offset;
  const dayNumber = Math.floor(local / DAY_MS);
  let msOfDay = local - dayNumber * DAY_MS;
  // civil_from_days
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(msOfDay / HOUR_MS);
  msOfDay -= hour * HOUR_MS;
  const minute = Math.floor(msOfDay / MINUTE_MS);
  msOfDay -= minute * MINUTE_MS;
  const second = Math.floor(msOfDay / 1000);
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    millisecond: msOfDay - second * 1000,
    dow: (((dayNumber + 4) % 7) + 7) % 7,
    yday: dayNumber - daysFromCivil(year, 1, 1) + 1,
    dayNumber,
    offset,
  };
}

/** ISO 8601 week-numbering year, week and weekday (1 = Monday). */
export function isoParts(p: LocalParts): { isoYear: number; isoWeek: number; isoDow: number } {
  const isoDow = p.dow === 0 ? 7 : p.dow;
  const thursday = p.dayNumber - (isoDow - 1) + 3;
  const isoYear = new Date(thursday * DAY_MS).getUTCFullYear();
  const tYday = thursday - daysFromCivil(isoYear, 1, 1);
  return { isoYear, isoWeek: Math.floor(tYday / 7) + 1, isoDow };
}

/** Week of the year with weeks starting on Sunday (0–53), as strftime %U. */
function sundayWeek(p: LocalParts): number {
  return Math.floor((p.yday - 1 + 7 - p.dow) / 7);
}

function ev(obj: unknown, expr: unknown, options: Opts): unknown {
  return evalExpr(obj, expr, options);
}

/** The instant of a date-like value (Date, Timestamp, ObjectId); null for null/missing. */
export function toInstant(v: unknown, op: string): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  const t = bsonType(v);
  if (t === 'Timestamp') return (v as { t: number }).t * 1000;
  if (t === 'ObjectId') return (v as { getTimestamp(): Date }).getTimestamp().getTime();
  throw new MongoError(16006, `can't convert from BSON type ${typeName(v)} to Date`, { operator: op });
}

function zoneArg(obj: unknown, tzExpr: unknown, options: Opts): Zone | null {
  if (tzExpr === undefined) return UTC;
  const tz = ev(obj, tzExpr, options);
  if (tz === null || tz === undefined) return null;
  return resolveZone(tz);
}

function checkKeys(op: string, spec: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(spec)) {
    if (!allowed.includes(k)) throw new MongoError(ErrorCodes.FailedToParse, `Unrecognized argument to ${op}: ${k}`);
  }
}

/** Argument forms of the simple extractors: expr, [expr], or {date, timezone}. */
function dateAndZone(op: string, obj: unknown, expr: unknown, options: Opts): LocalParts | null {
  let dateExpr: unknown = expr;
  let zone: Zone | null = UTC;
  if (isPlainObject(expr) && 'date' in expr) {
    for (const k of Object.keys(expr)) {
      if (k !== 'date' && k !== 'timezone') throw new MongoError(40535, `unrecognized option to ${op}: "${k}"`);
    }
    dateExpr = expr.date;
    zone = zoneArg(obj, expr.timezone, options);
  } else if (Array.isArray(expr)) {
    if (expr.length !== 1) {
      throw new MongoError(40536, `${op} accepts exactly one argument if given an array, but was given ${expr.length}`);
    }
    dateExpr = expr[0];
  }
  const instant = toInstant(ev(obj, dateExpr, options), op);
  if (instant === null || zone === null) return null;
  return localParts(instant, zone);
}

function extractor(op: string, pick: (p: LocalParts) => number) {
  return (obj: unknown, expr: unknown, options: Opts): number | null => {
    const p = dateAndZone(op, obj, expr, options);
    return p === null ? null : pick(p);
  };
}

const pad = (n: number, width: number): string => {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
};

type Token = string | { spec: string };
const formatCache = new Map<string, Token[]>();
const FORMAT_SPECS = new Set(['d', 'G', 'H', 'j', 'L', 'm', 'M', 'S', 'u', 'U', 'V', 'w', 'Y', 'z', 'Z', '%']);

function parseFormat(format: string): Token[] {
  const cached = formatCache.get(format);
  if (cached) return cached;
  const tokens: Token[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const spec = format[i + 1];
    if (spec === undefined) throw new MongoError(18535, 'Unmatched \'%\' at end of format string');
    if (!FORMAT_SPECS.has(spec)) throw new MongoError(18536, `Invalid format character '%${spec}' in format string`);
    i++;
    if (spec === '%') {
      literal += '%';
      continue;
    }
    if (literal) tokens.push(literal);
    literal = '';
    tokens.push({ spec });
  }
  if (literal) tokens.push(literal);
  if (formatCache.size > 1000) formatCache.clear();
  formatCache.set(format, tokens);
  return tokens;
}

/** Formats an instant as $dateToString does. */
export function formatDate(utcMs: number, format: string, zone: Zone): string {
  const p = localParts(utcMs, zone);
  let out = '';
  for (const t of parseFormat(format)) {
    if (typeof t === 'string') {
      out += t;
      continue;
    }
    switch (t.spec) {
      case 'd': out += pad(p.day, 2); break;
      case 'G': out += pad(isoParts(p).isoYear, 4); break;
      case 'H': out += pad(p.hour, 2); break;
      case 'j': out += pad(p.yday, 3); break;
      case 'L': out += pad(p.millisecond, 3); break;
      case 'm': out += pad(p.month, 2); break;
      case 'M': out += pad(p.minute, 2); break;
      case 'S': out += pad(p.second, 2); break;
      case 'u': out += String(isoParts(p).isoDow); break;
      case 'U': out += pad(sundayWeek(p), 2); break;
      case 'V': out += pad(isoParts(p).isoWeek, 2); break;
      case 'w': out += String(p.dow + 1); break;
      case 'Y': out += pad(p.year, 4); break;
      case 'z': {
        const mins = Math.round(p.offset / MINUTE_MS);
        const a = Math.abs(mins);
        out += `${mins < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}${pad(a % 60, 2)}`;
        break;
      }
      case 'Z': out += String(Math.round(p.offset / MINUTE_MS)); break;
      default: break;
    }
  }
  return out;
}

const DEFAULT_FORMAT = '%Y-%m-%dT%H:%M:%S.%LZ';

function $dateToString(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(18629, '$dateToString only supports an object as its argument');
  checkKeys('$dateToString', expr, ['date', 'format', 'timezone', 'onNull']);
  if (!('date' in expr)) throw new MongoError(18628, "Missing 'date' parameter to $dateToString");
  const value = ev(obj, expr.date, options);
  const format = expr.format === undefined ? DEFAULT_FORMAT : ev(obj, expr.format, options);
  if (format === null || format === undefined) return null;
  if (typeof format !== 'string') {
    throw new MongoError(18533, `$dateToString requires that 'format' be a string, found: ${typeName(format)}`);
  }
  parseFormat(format);
  const zone = zoneArg(obj, expr.timezone, options);
  if (value === null || value === undefined) {
    return 'onNull' in expr ? ev(obj, expr.onNull, options) : null;
  }
  const instant = toInstant(value, '$dateToString');
  if (instant === null || zone === null) return null;
  return formatDate(instant, format, zone);
}

function $dateToParts(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(40524, '$dateToParts only supports an object as its argument');
  checkKeys('$dateToParts', expr, ['date', 'timezone', 'iso8601']);
  const instant = toInstant(ev(obj, expr.date, options), '$dateToParts');
  const zone = zoneArg(obj, expr.timezone, options);
  const iso = expr.iso8601 === undefined ? false : ev(obj, expr.iso8601, options);
  if (iso !== false && iso !== true && iso !== null) {
    throw new MongoError(40521, `iso8601 must evaluate to a bool, found ${typeName(iso)}`);
  }
  if (instant === null || zone === null || iso === null) return null;
  const p = localParts(instant, zone);
  if (iso) {
    const i = isoParts(p);
    return {
      isoWeekYear: i.isoYear, isoWeek: i.isoWeek, isoDayOfWeek: i.isoDow,
      hour: p.hour, minute: p.minute, second: p.second, millisecond: p.millisecond,
    };
  }
  return {
    year: p.year, month: p.month, day: p.day,
    hour: p.hour, minute: p.minute, second: p.second, millisecond: p.millisecond,
  };
}

function intPart(name: string, v: unknown, min: number, max: number): number {
  if (typeRank(v) !== TypeRank.Number) {
    throw new MongoError(40515, `'${name}' must evaluate to an integer, found ${typeName(v)} with value ${String(v)}`);
  }
  const n = toNumber(v);
  if (!Number.isInteger(n)) {
    throw new MongoError(40515, `'${name}' must evaluate to an integer, found ${typeName(v)} with value ${n}`);
  }
  if (n < min || n > max) {
    throw new MongoError(31034, `'${name}' must evaluate to a value in the range [${min}, ${max}]; value ${n} is not in range`);
  }
  return n;
}

/** The epoch ms of a local wall-clock date built from (possibly overflowing) parts. */
function wallClock(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

function $dateFromParts(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(40519, '$dateFromParts only supports an object as its argument');
  const iso = 'isoWeekYear' in expr;
  checkKeys('$dateFromParts', expr, iso
    ? ['isoWeekYear', 'isoWeek', 'isoDayOfWeek', 'hour', 'minute', 'second', 'millisecond', 'timezone']
    : ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond', 'timezone']);
  if (!iso && !('year' in expr)) {
    throw new MongoError(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  }
  const values: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(expr)) {
    if (k === 'timezone') continue;
    values[k] = ev(obj, e, options);
    if (values[k] === null || values[k] === undefined) return null;
  }
  const zone = zoneArg(obj, expr.timezone, options);
  if (zone === null) return null;
  const get = (k: string, dflt: number, min = -32768, max = 32767): number =>
    values[k] === undefined ? dflt : intPart(k, values[k], min, max);
  const hour = get('hour', 0);
  const minute = get('minute', 0);
  const second = get('second', 0);
  const ms = get('millisecond', 0);
  let local: number;
  if (iso) {
    const isoYear = get('isoWeekYear', 1970, 1, 9999);
    const week = get('isoWeek', 1);
    const dow = get('isoDayOfWeek', 1);
    const jan4 = Math.floor(wallClock(isoYear, 1, 4, 0, 0, 0, 0) / DAY_MS);
    const jan4Dow = ((jan4 + 4) % 7 + 7) % 7;
    const monday = jan4 - ((jan4Dow + 6) % 7);
    const dayNum = monday + (week - 1) * 7 + (dow - 1);
    local = dayNum * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  } else {
    const year = get('year', 1970, 1, 9999);
    local = wallClock(year, get('month', 1), get('day', 1), hour, minute, second, ms);
  }
  return new Date(localToUtc(zone, local));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

interface Parsed {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  ms?: number;
  offset?: number;
  isoYear?: number;
  isoWeek?: number;
  isoDow?: number;
  yday?: number;
  zoneName?: string;
}

const ISO_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;
const SLASH_RE = /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

function offsetOf(s: string): number {
  if (/^(z|utc|gmt)$/i.test(s)) return 0;
  const m = s.match(/^([+-])(\d{2}):?(\d{2})?$/);
  if (!m) return NaN;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR_MS + Number(m[3] ?? '0') * MINUTE_MS);
}

function parseDefault(s: string): Parsed | null {
  const trimmed = s.trim();
  const m = trimmed.match(ISO_RE) ?? trimmed.match(SLASH_RE);
  if (m) {
    const frac = m[7] ?? '';
    return {
      year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
      hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
      ms: frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0,
      offset: m[8] === undefined ? undefined : offsetOf(m[8]),
    };
  }
  const named = trimmed.match(/^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/);
  if (named) {
    const mon = MONTHS.indexOf(named[1].toLowerCase());
    if (mon < 0) return null;
    return {
      year: Number(named[3]), month: mon + 1, day: Number(named[2]),
      hour: Number(named[4] ?? 0), minute: Number(named[5] ?? 0), second: Number(named[6] ?? 0), ms: 0,
    };
  }
  return null;
}

function parseWithFormat(s: string, format: string): Parsed | null {
  const out: Parsed = {};
  let pos = 0;
  const num = (min: number, max: number): number | null => {
    const m = s.slice(pos).match(new RegExp(`^[+-]?\\d{${min},${max}}`));
    if (!m) return null;
    pos += m[0].length;
    return Number(m[0]);
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      if (s[pos] !== c) return null;
      pos++;
      continue;
    }
    const spec = format[++i];
    let v: number | null = 0;
    switch (spec) {
      case 'Y': v = num(4, 4); out.year = v ?? undefined; break;
      case 'm': v = num(1, 2); out.month = v ?? undefined; break;
      case 'd': v = num(1, 2); out.day = v ?? undefined; break;
      case 'H': v = num(1, 2); out.hour = v ?? undefined; break;
      case 'M': v = num(1, 2); out.minute = v ?? undefined; break;
      case 'S': v = num(1, 2); out.second = v ?? undefined; break;
      case 'L': v = num(1, 3); out.ms = v ?? undefined; break;
      case 'j': v = num(1, 3); out.yday = v ?? undefined; break;
      case 'G': v = num(4, 4); out.isoYear = v ?? undefined; break;
      case 'V': v = num(1, 2); out.isoWeek = v ?? undefined; break;
      case 'u': v = num(1, 1); out.isoDow = v ?? undefined; break;
      case 'z': {
        const m = s.slice(pos).match(/^[+-]\d{2}:?\d{2}/);
        if (!m) return null;
        pos += m[0].length;
        out.offset = offsetOf(m[0]);
        break;
      }
      case 'Z': {
        const m = s.slice(pos).match(/^[+-]?\d{1,4}/);
        if (!m) return null;
        pos += m[0].length;
        out.offset = Number(m[0]) * MINUTE_MS;
        break;
      }
      case '%':
        if (s[pos] !== '%') return null;
        pos++;
        break;
      default:
        throw new MongoError(18536, `Invalid format character '%${String(spec)}' in format string`);
    }
    if (v === null) return null;
  }
  return pos === s.length ? out : null;
}

function $dateFromString(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(40540, '$dateFromString only supports an object as an argument');
  checkKeys('$dateFromString', expr, ['dateString', 'format', 'timezone', 'onError', 'onNull']);
  const input = ev(obj, expr.dateString, options);
  const zone = zoneArg(obj, expr.timezone, options);
  const format = expr.format === undefined ? undefined : ev(obj, expr.format, options);
  if (input === null || input === undefined) return 'onNull' in expr ? ev(obj, expr.onNull, options) : null;
  if (zone === null || format === null) return null;
  const fail = (msg: string): unknown => {
    if ('onError' in expr) return ev(obj, expr.onError, options);
    throw new MongoError(241, msg);
  };
  if (typeof input !== 'string') {
    return fail(`$dateFromString requires that 'dateString' be a string, found: ${typeName(input)} with value ${String(input)}`);
  }
  if (format !== undefined && typeof format !== 'string') {
    throw new MongoError(40684, `$dateFromString requires that 'format' be a string, found: ${typeName(format)}`);
  }
  const parsed = typeof format === 'string' ? parseWithFormat(input, format) : parseDefault(input);
  if (!parsed) return fail(`Error parsing date string '${input}'`);
  if (parsed.offset !== undefined && expr.timezone !== undefined) {
    throw new MongoError(40554, "you cannot pass in a date/time string with GMT offset together with a timezone argument");
  }
  let local: number;
  const time = (((parsed.hour ?? 0) * 60 + (parsed.minute ?? 0)) * 60 + (parsed.second ?? 0)) * 1000 + (parsed.ms ?? 0);
  if (parsed.isoYear !== undefined) {
    const jan4 = Math.floor(wallClock(parsed.isoYear, 1, 4, 0, 0, 0, 0) / DAY_MS);
    const jan4Dow = ((jan4 + 4) % 7 + 7) % 7;
    const monday = jan4 - ((jan4Dow + 6) % 7);
    local = (monday + ((parsed.isoWeek ?? 1) - 1) * 7 + ((parsed.isoDow ?? 1) - 1)) * DAY_MS + time;
  } else {
    const year = parsed.year ?? 1970;
    if (parsed.yday !== undefined) {
      local = wallClock(year, 1, parsed.yday, 0, 0, 0, 0) + time;
    } else {
      const month = parsed.month ?? 1;
      const day = parsed.day ?? 1;
      if (month < 1 || month > 12 || day < 1 || day > 31 || (parsed.hour ?? 0) > 23 || (parsed.minute ?? 0) > 59 || (parsed.second ?? 0) > 59) {
        return fail(`Error parsing date string '${input}'`);
      }
      local = wallClock(year, month, day, 0, 0, 0, 0) + time;
    }
  }
  if (Number.isNaN(local) || (parsed.offset !== undefined && Number.isNaN(parsed.offset))) {
    return fail(`Error parsing date string '${input}'`);
  }
  const utc = parsed.offset !== undefined ? local - parsed.offset : localToUtc(zone, local);
  return new Date(utc);
}

const UNIT_MS: Record<string, number> = { millisecond: 1, second: 1000, minute: MINUTE_MS, hour: HOUR_MS };
const UNITS = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond']);
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function unitArg(op: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !UNITS.has(v)) {
    throw new MongoError(ErrorCodes.FailedToParse, `${op} parameter 'unit' value cannot be recognized as a time unit: ${String(v)}`);
  }
  return v;
}

function startOfWeekArg(op: string, v: unknown): number | null {
  if (v === undefined) return 0;
  if (v === null) return null;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    const i = WEEKDAYS.findIndex((d) => d === s || d.slice(0, 3) === s);
    if (i >= 0) return i;
  }
  throw new MongoError(ErrorCodes.FailedToParse, `${op} parameter 'startOfWeek' value cannot be recognized as a day of a week: ${String(v)}`);
}

/** Day number of the first `startOfWeek` day on or after 2000-01-01 (a Saturday). */
function weekReference(startOfWeek: number): number {
  return REF_2000_DAY + ((startOfWeek - 6 + 7) % 7);
}

/** $dateTrunc on an instant. */
export function truncateDate(utcMs: number, unit: string, binSize: number, zone: Zone, startOfWeek: number): number {
  const unitMs = UNIT_MS[unit];
  if (unitMs !== undefined) {
    const ref = localToUtc(zone, REF_2000_DAY * DAY_MS);
    const bin = unitMs * binSize;
    return ref + Math.floor((utcMs - ref) / bin) * bin;
  }
  const p = localParts(utcMs, zone);
  if (unit === 'day') {
    const n = p.dayNumber - REF_2000_DAY;
    return localToUtc(zone, (REF_2000_DAY + Math.floor(n / binSize) * binSize) * DAY_MS);
  }
  if (unit === 'week') {
    const ref = weekReference(startOfWeek);
    const weeks = Math.floor((p.dayNumber - ref) / 7);
    return localToUtc(zone, (ref + Math.floor(weeks / binSize) * binSize * 7) * DAY_MS);
  }
  const unitMonths = unit === 'month' ? 1 : unit === 'quarter' ? 3 : 12;
  const months = (p.year - 2000) * 12 + (p.month - 1);
  const bin = unitMonths * binSize;
  const floored = Math.floor(months / bin) * bin;
  const year = 2000 + Math.floor(floored / 12);
  const month = floored - Math.floor(floored / 12) * 12;
  return localToUtc(zone, wallClock(year, month + 1, 1, 0, 0, 0, 0));
}

function $dateTrunc(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(ErrorCodes.FailedToParse, '$dateTrunc only supports an object as its argument');
  checkKeys('$dateTrunc', expr, ['date', 'unit', 'binSize', 'timezone', 'startOfWeek']);
  if (!('date' in expr)) throw new MongoError(5439004, "$dateTrunc requires 'date' argument");
  if (!('unit' in expr)) throw new MongoError(5439005, "$dateTrunc requires 'unit' argument");
  const instant = toInstant(ev(obj, expr.date, options), '$dateTrunc');
  const unit = unitArg('$dateTrunc', ev(obj, expr.unit, options));
  const binRaw = expr.binSize === undefined ? 1 : ev(obj, expr.binSize, options);
  const zone = zoneArg(obj, expr.timezone, options);
  const sow = unit === 'week' ? startOfWeekArg('$dateTrunc', expr.startOfWeek === undefined ? undefined : ev(obj, expr.startOfWeek, options)) : 0;
  if (instant === null || unit === null || binRaw === null || binRaw === undefined || zone === null || sow === null) return null;
  const binSize = toNumber(binRaw);
  if (typeRank(binRaw) !== TypeRank.Number || !Number.isInteger(binSize) || binSize <= 0) {
    throw new MongoError(5439017, `$dateTrunc requires 'binSize' to be a positive 64-bit integer, found: ${String(binRaw)}`);
  }
  return new Date(truncateDate(instant, unit, binSize, zone, sow));
}

function daysInMonth(year: number, month: number): number {
  return new Date(wallClock(year, month + 1, 0, 0, 0, 0, 0)).getUTCDate();
}

/** $dateAdd on an instant: calendar units in local time, clock units as durations. */
export function addToDate(utcMs: number, unit: string, amount: number, zone: Zone): number {
  const unitMs = UNIT_MS[unit];
  if (unitMs !== undefined) return utcMs + amount * unitMs;
  const p = localParts(utcMs, zone);
  const time = (((p.hour * 60) + p.minute) * 60 + p.second) * 1000 + p.millisecond;
  if (unit === 'day' || unit === 'week') {
    const days = unit === 'week' ? amount * 7 : amount;
    return localToUtc(zone, (p.dayNumber + days) * DAY_MS + time);
  }
  const months = unit === 'month' ? amount : unit === 'quarter' ? amount * 3 : amount * 12;
  const total = p.year * 12 + (p.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const day = Math.min(p.day, daysInMonth(year, month));
  return localToUtc(zone, wallClock(year, month, day, 0, 0, 0, 0) + time);
}

function dateArith(op: '$dateAdd' | '$dateSubtract') {
  return (obj: unknown, expr: unknown, options: Opts): unknown => {
    if (!isPlainObject(expr)) throw new MongoError(ErrorCodes.FailedToParse, `${op} expects an object as its argument`);
    checkKeys(op, expr, ['startDate', 'unit', 'amount', 'timezone']);
    for (const k of ['startDate', 'unit', 'amount']) {
      if (!(k in expr)) throw new MongoError(ErrorCodes.FailedToParse, `${op} requires '${k}' to be present`);
    }
    const instant = toInstant(ev(obj, expr.startDate, options), op);
    const unit = unitArg(op, ev(obj, expr.unit, options));
    const amountRaw = ev(obj, expr.amount, options);
    const zone = zoneArg(obj, expr.timezone, options);
    if (instant === null || unit === null || amountRaw === null || amountRaw === undefined || zone === null) return null;
    const amount = toNumber(amountRaw);
    if (typeRank(amountRaw) !== TypeRank.Number || !Number.isInteger(amount)) {
      throw new MongoError(5166403, `${op} requires an integer 'amount', found: ${typeName(amountRaw)} with value ${String(amountRaw)}`);
    }
    return new Date(addToDate(instant, unit, op === '$dateAdd' ? amount : -amount, zone));
  };
}

/** $dateDiff: the number of unit boundaries crossed between two instants. */
export function diffDates(start: number, end: number, unit: string, zone: Zone, startOfWeek: number): number {
  const unitMs = UNIT_MS[unit];
  if (unitMs !== undefined) {
    if (unitMs === 1) return end - start;
    const shift = unit === 'hour' ? zone.offsetAt(start) % HOUR_MS : 0;
    return Math.floor((end + shift) / unitMs) - Math.floor((start + shift) / unitMs);
  }
  const a = localParts(start, zone);
  const b = localParts(end, zone);
  switch (unit) {
    case 'year':
      return b.year - a.year;
    case 'quarter':
      return (b.year * 4 + Math.floor((b.month - 1) / 3)) - (a.year * 4 + Math.floor((a.month - 1) / 3));
    case 'month':
      return (b.year * 12 + b.month) - (a.year * 12 + a.month);
    case 'week': {
      const ref = weekReference(startOfWeek);
      return Math.floor((b.dayNumber - ref) / 7) - Math.floor((a.dayNumber - ref) / 7);
    }
    default:
      return b.dayNumber - a.dayNumber;
  }
}

function $dateDiff(obj: unknown, expr: unknown, options: Opts): unknown {
  if (!isPlainObject(expr)) throw new MongoError(ErrorCodes.FailedToParse, '$dateDiff only supports an object as its argument');
  checkKeys('$dateDiff', expr, ['startDate', 'endDate', 'unit', 'timezone', 'startOfWeek']);
  const start = toInstant(ev(obj, expr.startDate, options), '$dateDiff');
  const end = toInstant(ev(obj, expr.endDate, options), '$dateDiff');
  const unit = unitArg('$dateDiff', ev(obj, expr.unit, options));
  const zone = zoneArg(obj, expr.timezone, options);
  const sow = unit === 'week' ? startOfWeekArg('$dateDiff', expr.startOfWeek === undefined ? undefined : ev(obj, expr.startOfWeek, options)) : 0;
  if (start === null || end === null || unit === null || zone === null || sow === null) return null;
  return diffDates(start, end, unit, zone, sow);
}

registerOperators('expression', {
  $year: extractor('$year', (p) => p.year),
  $month: extractor('$month', (p) => p.month),
  $dayOfMonth: extractor('$dayOfMonth', (p) => p.day),
  $hour: extractor('$hour', (p) => p.hour),
  $minute: extractor('$minute', (p) => p.minute),
  $second: extractor('$second', (p) => p.second),
  $millisecond: extractor('$millisecond', (p) => p.millisecond),
  $dayOfWeek: extractor('$dayOfWeek', (p) => p.dow + 1),
  $dayOfYear: extractor('$dayOfYear', (p) => p.yday),
  $week: extractor('$week', sundayWeek),
  $isoWeek: extractor('$isoWeek', (p) => isoParts(p).isoWeek),
  $isoWeekYear: extractor('$isoWeekYear', (p) => isoParts(p).isoYear),
  $isoDayOfWeek: extractor('$isoDayOfWeek', (p) => isoParts(p).isoDow),
  $dateToString,
  $dateToParts,
  $dateFromParts,
  $dateFromString,
  $dateTrunc,
  $dateAdd: dateArith('$dateAdd'),
  $dateSubtract: dateArith('$dateSubtract'),
  $dateDiff,
});
