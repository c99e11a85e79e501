// Date operators with time zones: hand-computed values, several zones, and the same results under any host TZ.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runPipeline } from '../../../src/engine/query';
import { errorOf } from './support';

type D = Record<string, unknown>;
const ev = (expr: unknown, doc: D = {}): unknown =>
  runPipeline([doc], [{ $project: { _id: 0, v: expr } }], { collection: () => [] })[0].v;
const at = (iso: string) => new Date(iso);
const fmt = (d: Date, timezone: string, format = '%Y-%m-%d %H:%M:%S') => ev({ $dateToString: { date: d, format, timezone } });

describe('$dateToString across DST and zones', () => {
  it('when New York springs forward, then 06:59:59Z is 01:59:59 EST and 07:00:00Z is 03:00:00 EDT', () => {
    expect(fmt(at('2024-03-10T06:59:59Z'), 'America/New_York', '%H:%M:%S %z %Z')).toBe('01:59:59 -0500 -300');
    expect(fmt(at('2024-03-10T07:00:00Z'), 'America/New_York', '%H:%M:%S %z %Z')).toBe('03:00:00 -0400 -240');
  });

  it('when New York falls back, then 05:30Z is 01:30 EDT and 06:30Z is 01:30 EST', () => {
    expect(fmt(at('2024-11-03T05:30:00Z'), 'America/New_York', '%H:%M %z')).toBe('01:30 -0400');
    expect(fmt(at('2024-11-03T06:30:00Z'), 'America/New_York', '%H:%M %z')).toBe('01:30 -0500');
  });

  it('when the zone is Ho Chi Minh, UTC, Etc/GMT+5, an offset or Lord Howe, then local times follow it', () => {
    const d = at('2024-01-15T20:00:00Z');
    expect(fmt(d, 'Asia/Ho_Chi_Minh')).toBe('2024-01-16 03:00:00');
    expect(fmt(d, 'UTC')).toBe('2024-01-15 20:00:00');
    expect(fmt(d, 'Etc/GMT+5')).toBe('2024-01-15 15:00:00');
    expect(fmt(d, '+07:00')).toBe('2024-01-16 03:00:00');
    expect(fmt(d, '-0330')).toBe('2024-01-15 16:30:00');
    expect(fmt(d, 'Australia/Lord_Howe', '%H:%M %z')).toBe('07:00 +1100');
    expect(fmt(at('2024-06-15T20:00:00Z'), 'Australia/Lord_Howe', '%H:%M %z')).toBe('06:30 +1030');
  });

  it('when Lord Howe ends DST (+11 → +10:30 at 02:00 local on 2024-04-07), then the half-hour shift is exact', () => {
    expect(fmt(at('2024-04-06T14:59:00Z'), 'Australia/Lord_Howe', '%H:%M %z')).toBe('01:59 +1100');
    expect(fmt(at('2024-04-06T15:00:00Z'), 'Australia/Lord_Howe', '%H:%M %z')).toBe('01:30 +1030');
  });

  it('when every specifier is used, then each matches MongoDB', () => {
    // 2021-01-03 is a Sunday: %w=1 (Sunday), %u=7, ISO week 53 of 2020, %U=01, day of year 003.
    const d = at('2021-01-03T04:05:06.007Z');
    expect(fmt(d, 'UTC', '%Y|%m|%d|%H|%M|%S|%L|%j|%w|%u|%U|%V|%G|%z|%Z|%%'))
      .toBe('2021|01|03|04|05|06|007|003|1|7|01|53|2020|+0000|0|%');
  });

  it('when no format is given, then the ISO format in UTC is used; null dates give null or onNull', () => {
    expect(ev({ $dateToString: { date: at('2024-01-02T03:04:05.006Z') } })).toBe('2024-01-02T03:04:05.006Z');
    expect(ev({ $dateToString: { date: '$nope' } })).toBeNull();
    expect(ev({ $dateToString: { date: '$nope', onNull: 'n/a' } })).toBe('n/a');
  });

  it('when the zone or the format is invalid, then MongoDB codes are returned', () => {
    expect(errorOf(() => fmt(at('2024-01-01T00:00:00Z'), 'Mars/Base')).code).toBe(40485);
    expect(errorOf(() => fmt(at('2024-01-01T00:00:00Z'), 'UTC', '%Q')).code).toBe(18536);
  });
});

describe('date part extractors', () => {
  it('when a timezone is given, then $year…$isoDayOfWeek use local time', () => {
    const doc = { d: at('2023-12-31T23:30:00Z') }; // Ho Chi Minh: 2024-01-01 06:30, a Monday
    const tz = 'Asia/Ho_Chi_Minh';
    const get = (op: string) => ev({ [op]: { date: '$d', timezone: tz } }, doc);
    expect([get('$year'), get('$month'), get('$dayOfMonth'), get('$hour'), get('$minute')]).toEqual([2024, 1, 1, 6, 30]);
    expect([get('$dayOfWeek'), get('$dayOfYear'), get('$week'), get('$isoWeek'), get('$isoWeekYear'), get('$isoDayOfWeek')])
      .toEqual([2, 1, 0, 1, 2024, 1]);
    expect(ev({ $year: '$d' }, doc)).toBe(2023);
    expect(ev({ $second: ['$d'] }, { d: at('2024-01-01T00:00:42.5Z') })).toBe(42);
    expect(ev({ $millisecond: '$d' }, { d: at('2024-01-01T00:00:42.5Z') })).toBe(500);
  });

  it('when the value is not a date, then code 16006', () => {
    expect(errorOf(() => ev({ $year: 'abc' })).code).toBe(16006);
  });
});

describe('$dateTrunc', () => {
  it('when truncating to the local day in Ho Chi Minh, then the bin starts at local midnight (17:00Z)', () => {
    expect(ev({ $dateTrunc: { date: at('2024-05-01T16:59:59Z'), unit: 'day', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2024-04-30T17:00:00Z'));
    expect(ev({ $dateTrunc: { date: at('2024-05-01T17:00:00Z'), unit: 'day', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2024-05-01T17:00:00Z'));
  });

  it('when truncating across DST in New York, then local midnight is used on both sides', () => {
    expect(ev({ $dateTrunc: { date: at('2024-03-10T12:00:00Z'), unit: 'day', timezone: 'America/New_York' } })).toEqual(at('2024-03-10T05:00:00Z'));
    expect(ev({ $dateTrunc: { date: at('2024-03-11T12:00:00Z'), unit: 'day', timezone: 'America/New_York' } })).toEqual(at('2024-03-11T04:00:00Z'));
  });

  it('when truncating by week, then startOfWeek decides (default Sunday)', () => {
    const d = at('2024-03-13T12:00:00Z'); // Wednesday
    expect(ev({ $dateTrunc: { date: d, unit: 'week' } })).toEqual(at('2024-03-10T00:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'week', startOfWeek: 'Monday' } })).toEqual(at('2024-03-11T00:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'week', startOfWeek: 'mon', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2024-03-10T17:00:00Z'));
  });

  it('when truncating by month, quarter, year, hour, minute with binSize, then bins count from 2000-01-01', () => {
    const d = at('2024-08-17T13:47:31Z');
    expect(ev({ $dateTrunc: { date: d, unit: 'month' } })).toEqual(at('2024-08-01T00:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'month', binSize: 4 } })).toEqual(at('2024-05-01T00:00:00Z')); // 295 months since 2000-01 → 292
    expect(ev({ $dateTrunc: { date: d, unit: 'quarter' } })).toEqual(at('2024-07-01T00:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'year', binSize: 10 } })).toEqual(at('2020-01-01T00:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'hour', binSize: 6 } })).toEqual(at('2024-08-17T12:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'minute', binSize: 15 } })).toEqual(at('2024-08-17T13:45:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'hour', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2024-08-17T13:00:00Z'));
    expect(ev({ $dateTrunc: { date: d, unit: 'year', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2023-12-31T17:00:00Z'));
  });
});

describe('$dateFromParts, $dateFromString, $dateToParts', () => {
  it('when parts are local to a zone, then the UTC instant accounts for its offset', () => {
    expect(ev({ $dateFromParts: { year: 2024, month: 3, day: 10, hour: 3, timezone: 'America/New_York' } })).toEqual(at('2024-03-10T07:00:00Z'));
    expect(ev({ $dateFromParts: { year: 2024, month: 1, day: 1, timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2023-12-31T17:00:00Z'));
    expect(ev({ $dateFromParts: { year: 2024, month: 14, day: 1 } })).toEqual(at('2025-02-01T00:00:00Z'));
    expect(ev({ $dateFromParts: { isoWeekYear: 2020, isoWeek: 53, isoDayOfWeek: 7 } })).toEqual(at('2021-01-03T00:00:00Z'));
    expect(errorOf(() => ev({ $dateFromParts: { year: 2024.5 } })).code).toBe(40515);
  });

  it('when parsing strings, then offsets in the string or the timezone argument apply', () => {
    expect(ev({ $dateFromString: { dateString: '2024-03-10T03:00:00', timezone: 'America/New_York' } })).toEqual(at('2024-03-10T07:00:00Z'));
    expect(ev({ $dateFromString: { dateString: '2024-03-10T03:00:00+07:00' } })).toEqual(at('2024-03-09T20:00:00Z'));
    expect(ev({ $dateFromString: { dateString: '2024-03-10' } })).toEqual(at('2024-03-10T00:00:00Z'));
    expect(ev({ $dateFromString: { dateString: '10/03/2024 14:05', format: '%d/%m/%Y %H:%M', timezone: 'Asia/Ho_Chi_Minh' } })).toEqual(at('2024-03-10T07:05:00Z'));
    expect(ev({ $dateFromString: { dateString: 'garbage', onError: 'bad' } })).toBe('bad');
    expect(errorOf(() => ev({ $dateFromString: { dateString: 'garbage' } })).code).toBe(241);
  });

  it('when splitting into parts, then local and ISO parts are returned', () => {
    expect(ev({ $dateToParts: { date: at('2024-06-15T20:00:00Z'), timezone: 'Australia/Lord_Howe' } }))
      .toEqual({ year: 2024, month: 6, day: 16, hour: 6, minute: 30, second: 0, millisecond: 0 });
    expect(ev({ $dateToParts: { date: at('2021-01-03T00:00:00Z'), iso8601: true } }))
      .toEqual({ isoWeekYear: 2020, isoWeek: 53, isoDayOfWeek: 7, hour: 0, minute: 0, second: 0, millisecond: 0 });
  });
});

describe('$dateAdd, $dateSubtract, $dateDiff', () => {
  it('when adding days across DST, then the local wall-clock time is kept', () => {
    expect(ev({ $dateAdd: { startDate: at('2024-03-09T17:00:00Z'), unit: 'day', amount: 1, timezone: 'America/New_York' } })).toEqual(at('2024-03-10T16:00:00Z'));
    expect(ev({ $dateAdd: { startDate: at('2024-03-09T17:00:00Z'), unit: 'hour', amount: 24, timezone: 'America/New_York' } })).toEqual(at('2024-03-10T17:00:00Z'));
  });

  it('when adding months past a shorter month, then the day is clamped to its end', () => {
    expect(ev({ $dateAdd: { startDate: at('2024-01-31T10:00:00Z'), unit: 'month', amount: 1 } })).toEqual(at('2024-02-29T10:00:00Z'));
    expect(ev({ $dateSubtract: { startDate: at('2024-03-31T10:00:00Z'), unit: 'quarter', amount: 1 } })).toEqual(at('2023-12-31T10:00:00Z'));
  });

  it('when diffing, then unit boundaries crossed in local time are counted', () => {
    const diff = (s: string, e: string, unit: string, timezone = 'UTC', extra: D = {}) =>
      ev({ $dateDiff: { startDate: at(s), endDate: at(e), unit, timezone, ...extra } });
        expect(diff('2023-12-31T18:00:00Z', '2024-01-01T01:00:00Z', 'year')).toBe(1);
    expect(diff('2023-12-31T18:00:00Z', '2024-01-01T01:00:00Z', 'year', 'Asia/Ho_Chi_Minh')).toBe(0);
    expect(diff('2024-01-01T00:00:00Z', '2024-03-31T00:00:00Z', 'month')).toBe(2);
    expect(diff('2024-03-09T12:00:00Z', '2024-03-11T12:00:00Z', 'day', 'America/New_York')).toBe(2);
    expect(diff('2024-03-09T12:00:00Z', '2024-03-11T12:00:00Z', 'hour', 'America/New_York')).toBe(48);
    expect(diff('2024-03-09T00:00:00Z', '2024-03-11T00:00:00Z', 'week')).toBe(1); // Sat → Mon crosses Sunday
    expect(diff('2024-03-09T00:00:00Z', '2024-03-11T00:00:00Z', 'week', 'UTC', { startOfWeek: 'tuesday' })).toBe(0);
    expect(diff('2024-01-01T00:00:00Z', '2024-01-01T00:00:01.5Z', 'millisecond')).toBe(1500);
  });
});

describe('grouping by local day', () => {
  it('when documents are grouped by local day in Ho Chi Minh, then days split at 17:00Z', () => {
    const docs = ['2024-05-01T16:59:00Z', '2024-05-01T17:00:00Z', '2024-05-02T03:00:00Z'].map((s) => ({ at: at(s) }));
    const out = runPipeline(docs, [
      { $group: { _id: { $dateToString: { date: '$at', format: '%Y-%m-%d', timezone: 'Asia/Ho_Chi_Minh' } }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ], { collection: () => [] });
    expect(out).toEqual([{ _id: '2024-05-01', n: 1 }, { _id: '2024-05-02', n: 2 }]);
  });
});

describe('host TZ independence', () => {
  const probe = path.join(__dirname, 'fixtures', 'date-probe.ts');
  const runUnder = (tz: string): Record<string, unknown> => {
    const res = spawnSync(process.execPath, ['--require', 'tsx/cjs', probe], {
      env: { ...process.env, TZ: tz },
      encoding: 'utf8',
      cwd: path.join(__dirname, '..', '..', '..'),
    });
    if (res.status !== 0) throw new Error(`probe failed under TZ=${tz}: ${res.stderr}`);
    return JSON.parse(res.stdout) as Record<string, unknown>;
  };

  it('when the host TZ differs, then every date operator returns identical results', () => {
    const results = ['UTC', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Lord_Howe'].map(runUnder);
    const offsets = results.map((r) => r.hostOffset);
    expect(new Set(offsets).size).toBe(4);
    const strip = (r: Record<string, unknown>) => JSON.stringify({ ...r, hostOffset: 0 });
    for (const r of results.slice(1)) expect(strip(r)).toBe(strip(results[0]));
    const ny = (results[1]['America/New_York'] as Array<Record<string, unknown>>)[1];
    expect(ny.s).toBe('2024-03-10T03:00:00.000 -0400 -240 1 7 10 2024 070 10');
  }, 60_000);
});
