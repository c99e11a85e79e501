// Demo feedback: seeded once, believable differences between communes, office-hours rhythm, spam excluded, roll-ups exact.
import { seedDemoFeedback } from '../../src/feedback/demo-feedback';
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { RollupModel } from '../../src/feedback/rollup.model';
import { rebuildRollups, rollupsFor, type RollupGroup } from '../../src/feedback/rollup.service';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/shared/logger';
import { ALL_UNITS } from '../../src/shared/scope';
import { seedDemoUnits } from '../../src/units';
import type { TestDatabase } from '../helpers/database';
import { connectRollupDatabase, disconnectRollupDatabase } from './rollup.helpers';

let database: TestDatabase;
const deps = { config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger('silent') };
const WINDOW = { days: 14, until: '2026-11-20' };
const BA_VI = ['09619', '09661', '09664', '09634', '09676', '09694', '09700', '09706'];

beforeAll(async () => {
  database = await connectRollupDatabase();
  await seedDemoUnits();
});

afterAll(async () => {
  await disconnectRollupDatabase(database);
});

function satisfaction(groups: RollupGroup[]): number {
  const n = groups.reduce((sum, g) => sum + g.count, 0);
  const satisfied = groups.reduce((sum, g) => sum + (g.quick.satisfied ?? 0) + (g.quick.very_satisfied ?? 0), 0);
  return satisfied / n;
}

describe('seedDemoFeedback', () => {
  it('when seeded twice, then the second run changes nothing and the roll-ups equal a recomputation', async () => {
    const first = await seedDemoFeedback(deps, WINDOW);
    expect(first.skipped).toBe(false);
    expect(first.feedback).toBeGreaterThan(1000);
    const stored = await FeedbackModel.countDocuments({});
    const rollups = await RollupModel.countDocuments({});

    const second = await seedDemoFeedback(deps, WINDOW);

    expect(second.skipped).toBe(true);
    expect(await FeedbackModel.countDocuments({})).toBe(stored);
    expect(await RollupModel.countDocuments({})).toBe(rollups);
    expect((await rebuildRollups({ fix: false, pendingOlderThanMs: 0 })).differences).toEqual([]);
    expect(await FeedbackModel.countDocuments({ rollup: 'pending' })).toBe(0);
  });

  it('when the communes are compared, then Đan Phượng and Thạch Thất lead and the Ba Vì communes lag', async () => {
    const byUnit = await rollupsFor({ scope: ALL_UNITS, unit: '01', from: '2026-10-01', to: WINDOW.until, groupBy: 'child' });
    const rate = (codes: string[]) => satisfaction(byUnit.filter((g) => codes.includes(g.key)));
    expect(rate(['09784'])).toBeGreaterThan(0.88);
    expect(rate(['09955'])).toBeGreaterThan(0.88);
    expect(rate(BA_VI)).toBeGreaterThan(0.62);
    expect(rate(BA_VI)).toBeLessThan(0.77);
    const others = byUnit.map((g) => g.key).filter((code) => code !== '09784' && code !== '09955' && !BA_VI.includes(code));
    expect(rate(others)).toBeGreaterThan(rate(BA_VI));
    expect(rate(others)).toBeLessThan(rate(['09784', '09955']));
  });

  it('when the votes are looked at by time, then none falls on a Sunday or outside office hours in Hà Nội', async () => {
    const votes = await FeedbackModel.find({}, { createdAt: 1, localDay: 1 }).lean();
    const outOfHours = votes.filter((vote) => {
      const local = new Date(vote.createdAt.getTime() + 7 * 3600 * 1000);
      const minutes = local.getUTCHours() * 60 + local.getUTCMinutes();
      return local.toISOString().slice(0, 10) !== vote.localDay || local.getUTCDay() === 0 || minutes < 7 * 60 + 30 || minutes >= 17 * 60 + 30;
    });
    expect(votes.length).toBeGreaterThan(0);
    expect(outOfHours).toEqual([]);
    const byDay = await rollupsFor({ scope: ALL_UNITS, from: '2026-10-01', to: WINDOW.until, groupBy: 'day' });
    const weekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();
    const saturdays = byDay.filter((g) => weekday(g.key) === 6).map((g) => g.count);
    const weekdays = byDay.filter((g) => weekday(g.key) !== 6).map((g) => g.count);
    expect(Math.max(...saturdays)).toBeLessThan(Math.min(...weekdays));
  });

  it('when spam was seeded, then it is stored, flagged, and counted nowhere', async () => {
    const spam = await FeedbackModel.countDocuments({ spam: { $exists: true } });
    const replaced = await FeedbackModel.countDocuments({ replacedBy: { $exists: true } });
    const counted = await FeedbackModel.countDocuments({ spam: { $exists: false }, replacedBy: { $exists: false } });
    expect(spam).toBeGreaterThan(0);
    expect(replaced).toBeGreaterThan(0);
    const [total] = await rollupsFor({ scope: ALL_UNITS, from: '2000-01-01', to: '2100-01-01', groupBy: 'none' });
    expect(total.count).toBe(counted);
    expect(total.count).toBe((await FeedbackModel.countDocuments({})) - spam - replaced);
  });
});
