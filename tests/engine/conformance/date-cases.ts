// Date operators with time zones: fixed instants, hand-computed local values, and the pipelines that produce them.
import type { LooseDoc } from './support';
import type { Db, Document } from 'mongodb';

/**
 * Instants chosen around edges: New York's DST start (2024-03-10 02:00 EST → 03:00 EDT) and end
 * (2024-11-03 02:00 EDT → 01:00 EST), a year change that only happens in Vietnam (UTC+7), and
 * one half-second either side of local midnight in Ho Chi Minh City.
 */
export const dateDocs = [
  { _id: 'A', at: new Date('2024-03-10T06:30:00Z') }, // 01:30 EST, before the spring-forward
  { _id: 'B', at: new Date('2024-03-10T07:30:00Z') }, // 03:30 EDT, after it
  { _id: 'H', at: new Date('2024-03-12T12:00:00Z') }, // Tuesday 08:00 EDT; its week began in EST
  { _id: 'C', at: new Date('2024-11-03T05:30:00Z') }, // 01:30 EDT, the first 01:30 of the day
  { _id: 'D', at: new Date('2024-11-03T06:30:00Z') }, // 01:30 EST, the second one
  { _id: 'E', at: new Date('2024-12-31T18:30:00Z') }, // already 2025-01-01 01:30 in Vietnam
  { _id: 'F', at: new Date('2024-06-15T16:59:59.500Z') }, // Saturday 23:59:59.5 in Vietnam
  { _id: 'G', at: new Date('2024-06-15T17:00:00Z') }, // Sunday 00:00 in Vietnam
];

export interface LocalParts {
  local: string;
  offset: string;
  w: string;
  dayOfWeek: number;
  hour: number;
  year: number;
  month: number;
  day: number;
  truncDay: string;
  truncWeekSunday: string;
  truncWeekMonday: string;
}

export interface DateCase {
  doc: string;
  /** null: the operator is given no timezone, which means UTC whatever the host's TZ. */
  timezone: string | null;
  expected: LocalParts;
}

const ny = 'America/New_York';
const hcm = 'Asia/Ho_Chi_Minh';

const eInVietnam: LocalParts = {
  local: '2025-01-01 01:30:00', offset: '+0700', w: '4', dayOfWeek: 4, hour: 1, year: 2025, month: 1, day: 1,
  truncDay: '2024-12-31T17:00:00.000Z', truncWeekSunday: '2024-12-28T17:00:00.000Z', truncWeekMonday: '2024-12-29T17:00:00.000Z',
};
const eInUtc: LocalParts = {
  local: '2024-12-31 18:30:00', offset: '+0000', w: '3', dayOfWeek: 3, hour: 18, year: 2024, month: 12, day: 31,
  truncDay: '2024-12-31T00:00:00.000Z', truncWeekSunday: '2024-12-29T00:00:00.000Z', truncWeekMonday: '2024-12-30T00:00:00.000Z',
};
const fInVietnam: LocalParts = {
  local: '2024-06-15 23:59:59', offset: '+0700', w: '7', dayOfWeek: 7, hour: 23, year: 2024, month: 6, day: 15,
  truncDay: '2024-06-14T17:00:00.000Z', truncWeekSunday: '2024-06-08T17:00:00.000Z', truncWeekMonday: '2024-06-09T17:00:00.000Z',
};

export const dateCases: DateCase[] = [
  {
    doc: 'A', timezone: ny, expected: {
      local: '2024-03-10 01:30:00', offset: '-0500', w: '1', dayOfWeek: 1, hour: 1, year: 2024, month: 3, day: 10,
      truncDay: '2024-03-10T05:00:00.000Z', truncWeekSunday: '2024-03-10T05:00:00.000Z', truncWeekMonday: '2024-03-04T05:00:00.000Z',
    },
  },
  {
    doc: 'B', timezone: ny, expected: {
      local: '2024-03-10 03:30:00', offset: '-0400', w: '1', dayOfWeek: 1, hour: 3, year: 2024, month: 3, day: 10,
      truncDay: '2024-03-10T05:00:00.000Z', truncWeekSunday: '2024-03-10T05:00:00.000Z', truncWeekMonday: '2024-03-04T05:00:00.000Z',
    },
  },
  {
    doc: 'H', timezone: ny, expected: {
      local: '2024-03-12 08:00:00', offset: '-0400', w: '3', dayOfWeek: 3, hour: 8, year: 2024, month: 3, day: 12,
      truncDay: '2024-03-12T04:00:00.000Z', truncWeekSunday: '2024-03-10T05:00:00.000Z', truncWeekMonday: '2024-03-11T04:00:00.000Z',
    },
  },
  {
    doc: 'C', timezone: ny, expected: {
      local: '2024-11-03 01:30:00', offset: '-0400', w: '1', dayOfWeek: 1, hour: 1, year: 2024, month: 11, day: 3,
      truncDay: '2024-11-03T04:00:00.000Z', truncWeekSunday: '2024-11-03T04:00:00.000Z', truncWeekMonday: '2024-10-28T04:00:00.000Z',
    },
  },
  {
    doc: 'D', timezone: ny, expected: {
      local: '2024-11-03 01:30:00', offset: '-0500', w: '1', dayOfWeek: 1, hour: 1, year: 2024, month: 11, day: 3,
      truncDay: '2024-11-03T04:00:00.000Z', truncWeekSunday: '2024-11-03T04:00:00.000Z', truncWeekMonday: '2024-10-28T04:00:00.000Z',
    },
  },
  { doc: 'E', timezone: hcm, expected: eInVietnam },
  { doc: 'E', timezone: '+07:00', expected: eInVietnam },
  { doc: 'E', timezone: 'UTC', expected: eInUtc },
  { doc: 'E', timezone: null, expected: eInUtc },
  {
    doc: 'E', timezone: ny, expected: {
      local: '2024-12-31 13:30:00', offset: '-0500', w: '3', dayOfWeek: 3, hour: 13, year: 2024, month: 12, day: 31,
      truncDay: '2024-12-31T05:00:00.000Z', truncWeekSunday: '2024-12-29T05:00:00.000Z', truncWeekMonday: '2024-12-30T05:00:00.000Z',
    },
  },
  { doc: 'F', timezone: hcm, expected: fInVietnam },
  { doc: 'F', timezone: '+07:00', expected: fInVietnam },
  {
    doc: 'G', timezone: hcm, expected: {
      local: '2024-06-16 00:00:00', offset: '+0700', w: '1', dayOfWeek: 1, hour: 0, year: 2024, month: 6, day: 16,
      truncDay: '2024-06-15T17:00:00.000Z', truncWeekSunday: '2024-06-15T17:00:00.000Z', truncWeekMonday: '2024-06-09T17:00:00.000Z',
    },
  },
  {
    doc: 'G', timezone: 'UTC', expected: {
      local: '2024-06-15 17:00:00', offset: '+0000', w: '7', dayOfWeek: 7, hour: 17, year: 2024, month: 6, day: 15,
      truncDay: '2024-06-15T00:00:00.000Z', truncWeekSunday: '2024-06-09T00:00:00.000Z', truncWeekMonday: '2024-06-10T00:00:00.000Z',
    },
  },
  {
    doc: 'C', timezone: 'Etc/GMT+5', expected: {
      local: '2024-11-03 00:30:00', offset: '-0500', w: '1', dayOfWeek: 1, hour: 0, year: 2024, month: 11, day: 3,
      truncDay: '2024-11-03T05:00:00.000Z', truncWeekSunday: '2024-11-03T05:00:00.000Z', truncWeekMonday: '2024-10-28T05:00:00.000Z',
    },
  },
];

/** Group by local day over A, B, E, F, G: counts per day string. */
export const localDayGroups: Record<string, Array<{ _id: string; n: number }>> = {
  [hcm]: [
    { _id: '2024-03-10', n: 2 },
    { _id: '2024-06-15', n: 1 },
    { _id: '2024-06-16', n: 1 },
    { _id: '2025-01-01', n: 1 },
  ],
  UTC: [
    { _id: '2024-03-10', n: 2 },
    { _id: '2024-06-15', n: 2 },
    { _id: '2024-12-31', n: 1 },
  ],
  [ny]: [
    { _id: '2024-03-10', n: 2 },
    { _id: '2024-06-15', n: 2 },
    { _id: '2024-12-31', n: 1 },
  ],
};

/** $dateFromParts in a zone: local wall-clock parts to the UTC instant. */
export const fromPartsCases = [
  { parts: { year: 2024, month: 3, day: 10, hour: 3, timezone: ny }, expected: '2024-03-10T07:00:00.000Z' },
  { parts: { year: 2024, month: 3, day: 10, hour: 1, timezone: ny }, expected: '2024-03-10T06:00:00.000Z' },
  { parts: { year: 2025, month: 1, day: 1, timezone: hcm }, expected: '2024-12-31T17:00:00.000Z' },
  { parts: { year: 2024, month: 6, day: 16, hour: 0, timezone: '+07:00' }, expected: '2024-06-15T17:00:00.000Z' },
];

/** $dateAdd and $dateDiff in a zone: calendar units follow local days, so DST and local midnight matter. */
export const arithmeticCases: Array<{ name: string; expr: Record<string, unknown>; expected: string | number }> = [
  {
    name: 'add 1 day across the spring-forward in New York keeps 12:00 local',
    expr: { $dateAdd: { startDate: new Date('2024-03-09T17:00:00Z'), unit: 'day', amount: 1, timezone: ny } },
    expected: '2024-03-10T16:00:00.000Z',
  },
  {
    name: 'add 1 day in UTC is 24 hours',
    expr: { $dateAdd: { startDate: new Date('2024-03-09T17:00:00Z'), unit: 'day', amount: 1, timezone: 'UTC' } },
    expected: '2024-03-10T17:00:00.000Z',
  },
  {
    name: 'add 24 hours in New York is 24 hours',
    expr: { $dateAdd: { startDate: new Date('2024-03-09T17:00:00Z'), unit: 'hour', amount: 24, timezone: ny } },
    expected: '2024-03-10T17:00:00.000Z',
  },
  {
    name: 'add 1 month in Vietnam from 31 January clamps to 29 February',
    expr: { $dateAdd: { startDate: new Date('2024-01-30T18:00:00Z'), unit: 'month', amount: 1, timezone: hcm } },
    expected: '2024-02-28T18:00:00.000Z',
  },
  {
    name: 'days between 23:59:59.5 and 00:00 in Vietnam is 1',
    expr: { $dateDiff: { startDate: new Date('2024-06-15T16:59:59.500Z'), endDate: new Date('2024-06-15T17:00:00Z'), unit: 'day', timezone: hcm } },
    expected: 1,
  },
  {
    name: 'days between the same instants in UTC is 0',
    expr: { $dateDiff: { startDate: new Date('2024-06-15T16:59:59.500Z'), endDate: new Date('2024-06-15T17:00:00Z'), unit: 'day', timezone: 'UTC' } },
    expected: 0,
  },
  {
    name: 'years between 31 Dec 19:00 and 1 Jan 01:30 in Vietnam is 1',
    expr: { $dateDiff: { startDate: new Date('2024-12-31T12:00:00Z'), endDate: new Date('2024-12-31T18:30:00Z'), unit: 'year', timezone: hcm } },
    expected: 1,
  },
  {
    name: 'years between the same instants in UTC is 0',
    expr: { $dateDiff: { startDate: new Date('2024-12-31T12:00:00Z'), endDate: new Date('2024-12-31T18:30:00Z'), unit: 'year' } },
    expected: 0,
  },
];

export function caseKey(dateCase: { doc: string; timezone: string | null }): string {
  return `${dateCase.doc}@${dateCase.timezone ?? '(none)'}`;
}

function withZone(spec: Record<string, unknown>, timezone: string | null): Record<string, unknown> {
  return timezone === null ? spec : { ...spec, timezone };
}

function partsPipeline(dateCase: DateCase): Document[] {
  const tz = dateCase.timezone;
  const date = '$at';
  return [
    { $match: { _id: dateCase.doc } },
    {
      $project: {
        _id: 0,
        local: { $dateToString: withZone({ date, format: '%Y-%m-%d %H:%M:%S' }, tz) },
        offset: { $dateToString: withZone({ date, format: '%z' }, tz) },
        w: { $dateToString: withZone({ date, format: '%w' }, tz) },
        dayOfWeek: { $dayOfWeek: withZone({ date }, tz) },
        hour: { $hour: withZone({ date }, tz) },
        year: { $year: withZone({ date }, tz) },
        month: { $month: withZone({ date }, tz) },
        day: { $dayOfMonth: withZone({ date }, tz) },
        truncDay: { $dateTrunc: withZone({ date, unit: 'day' }, tz) },
        truncWeekSunday: { $dateTrunc: withZone({ date, unit: 'week' }, tz) },
        truncWeekMonday: { $dateTrunc: withZone({ date, unit: 'week', startOfWeek: 'monday' }, tz) },
      },
    },
  ];
}

function isoDates(doc: Document): Document {
  return Object.fromEntries(Object.entries(doc).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));
}

export interface DateResults {
  parts: Record<string, Document | null>;
  groups: Record<string, Document[]>;
  fromParts: string[];
  arithmetic: Record<string, string | number>;
}

/** Inserts the fixed instants into `collectionName` and evaluates every case on the server. */
export async function runDateCases(db: Db, collectionName: string): Promise<DateResults> {
  const coll = db.collection<LooseDoc>(collectionName);
  await coll.deleteMany({});
  await coll.insertMany(dateDocs);
  const parts: Record<string, Document | null> = {};
  for (const dateCase of dateCases) {
    const [doc] = await coll.aggregate(partsPipeline(dateCase)).toArray();
    parts[caseKey(dateCase)] = doc === undefined ? null : isoDates(doc);
  }
  const groups: Record<string, Document[]> = {};
  for (const timezone of Object.keys(localDayGroups)) {
    groups[timezone] = await coll
      .aggregate([
        { $match: { _id: { $in: ['A', 'B', 'E', 'F', 'G'] } } },
        { $group: { _id: { $dateToString: { date: '$at', format: '%Y-%m-%d', timezone } }, n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
  }
  const fromParts: string[] = [];
  for (const { parts: spec } of fromPartsCases) {
    const [doc] = await coll.aggregate([{ $limit: 1 }, { $project: { _id: 0, at: { $dateFromParts: spec } } }]).toArray();
    fromParts.push(doc?.at instanceof Date ? doc.at.toISOString() : String(doc?.at));
  }
  const arithmetic: Record<string, string | number> = {};
  for (const { name, expr } of arithmeticCases) {
    const [doc] = await coll.aggregate([{ $limit: 1 }, { $project: { _id: 0, v: expr } }]).toArray();
    const value: unknown = doc?.v;
    arithmetic[name] = value instanceof Date ? value.toISOString() : typeof value === 'number' ? value : String(value);
  }
  return { parts, groups, fromParts, arithmetic };
}

/** What runDateCases must return on any correct server under any host TZ. */
export function expectedDateResults(): DateResults {
  return {
    parts: Object.fromEntries(dateCases.map((dateCase) => [caseKey(dateCase), dateCase.expected])),
    groups: localDayGroups,
    fromParts: fromPartsCases.map((entry) => entry.expected),
    arithmetic: Object.fromEntries(arithmeticCases.map((entry) => [entry.name, entry.expected])),
  };
}
