// Roll-ups: atomic increments per vote, recomputation from raw feedback, crash reconciliation, rebuild and scoped reads.
import { FeedbackModel } from '../../src/feedback/feedback.model';
import { RollupModel } from '../../src/feedback/rollup.model';
import {
  applyVoteToRollups,
  diffCounts,
  rebuildRollups,
  recomputeRollups,
  reconcilePendingRollups,
  rollupsFor,
} from '../../src/feedback/rollup.service';
import { ALL_UNITS } from '../../src/shared/scope';
import type { TestDatabase } from '../helpers/database';
import { connectRollupDatabase, disconnectRollupDatabase, insertRaw, makeCounter, makeFeedback, storedVersusRecomputed } from './rollup.helpers';

let database: TestDatabase;

beforeAll(async () => {
  database = await connectRollupDatabase();
});

afterAll(async () => {
  await disconnectRollupDatabase(database);
});

beforeEach(async () => {
  await FeedbackModel.collection.deleteMany({});
  await RollupModel.collection.deleteMany({});
});

const HOUR = 3600 * 1000;

describe('applyVoteToRollups', () => {
  it('when two votes are applied, then the counter-day roll-up holds every histogram bucket and the unit metadata', async () => {
    const counter = makeCounter('09817', ['01', '09817']);
    await applyVoteToRollups(
      makeFeedback(counter, {
        quick: 'very_satisfied',
        elements: { access: 5, procedure: 4, staff: null },
        trips: 1,
        wentWell: ['friendly', 'fast'],
        channel: 'kiosk',
      }),
      1,
    );
    await applyVoteToRollups(makeFeedback(counter, { quick: 'dissatisfied', elements: { access: 2 }, trips: 3, wentBadly: ['longWait'] }), 1);

    const rollup = await RollupModel.findOne({ counterId: counter.counterId, day: '2026-11-20' }).lean();
    expect(rollup).toMatchObject({
      unitCode: '09817',
      unitPath: ['01', '09817'],
      count: 2,
      quick: { very_satisfied: 1, dissatisfied: 1 },
      elements: { access: { '5': 1, '2': 1 }, procedure: { '4': 1 }, staff: { na: 1 } },
      trips: { '1': 1, '3': 1 },
      wentWell: { friendly: 1, fast: 1 },
      wentBadly: { longWait: 1 },
      channels: { kiosk: 1, qr: 1 },
    });
    expect(String(rollup?.officeId)).toBe(String(counter.officeId));
    expect(rollup?.elements).not.toHaveProperty('result');
  });

  it('when a vote is applied and then removed, then every figure is back to zero', async () => {
    const counter = makeCounter();
    const vote = makeFeedback(counter, { quick: 'satisfied', elements: { result: 3 }, trips: 2, wentBadly: ['extraPapers'] });
    await applyVoteToRollups(vote, 1);
    await applyVoteToRollups(vote, -1);

    const [rollup] = await RollupModel.find({ counterId: counter.counterId }).lean();
    expect(rollup.count).toBe(0);
    expect(diffCounts(rollup, rollup, null)).toEqual([]);
  });

  it('when many first votes of a counter-day arrive at once, then none is lost to the upsert race', async () => {
    const counter = makeCounter();
    await Promise.all(Array.from({ length: 20 }, () => applyVoteToRollups(makeFeedback(counter), 1)));
    const rollups = await RollupModel.find({ counterId: counter.counterId }).lean();
    expect(rollups).toHaveLength(1);
    expect(rollups[0].count).toBe(20);
  });
});

describe('recomputeRollups', () => {
  it('when feedback is spam or replaced, then the recomputation leaves it out', async () => {
    const counter = makeCounter();
    const replacement = makeFeedback(counter, { quick: 'dissatisfied', rollup: 'applied' });
    await insertRaw(makeFeedback(counter, { quick: 'satisfied', rollup: 'applied', replacedBy: replacement._id }));
    await insertRaw(replacement);
    await insertRaw(makeFeedback(counter, { quick: 'very_satisfied', rollup: 'applied', spam: { reason: 'burst', at: new Date() } }));
    await insertRaw(makeFeedback(counter, { quick: 'very_satisfied', rollup: 'applied', localDay: '2026-11-21' }));

    const recomputed = await recomputeRollups({ counterId: counter.counterId });
    const byDay = Object.fromEntries(recomputed.map((r) => [r.day, r]));
    expect(byDay['2026-11-20']).toMatchObject({ count: 1, quick: { dissatisfied: 1 } });
    expect(byDay['2026-11-21']).toMatchObject({ count: 1, quick: { very_satisfied: 1 } });
    expect(await recomputeRollups({ counterId: counter.counterId, day: '2026-11-21' })).toHaveLength(1);
  });
});

describe('reconcilePendingRollups', () => {
  it('when most votes are applied, then the pending look-up reads only the pending ones through an index that holds nothing else', async () => {
    const counter = makeCounter();
    for (let i = 0; i < 5; i += 1) await insertRaw(makeFeedback(counter, { rollup: 'applied' }));
    const pending = makeFeedback(counter, { createdAt: new Date(Date.now() - HOUR) });
    await insertRaw(pending);

    const plan = await FeedbackModel.collection.find({ rollup: 'pending' }).explain('executionStats');

    expect(plan.queryPlanner.winningPlan.inputStage).toMatchObject({ stage: 'IXSCAN', indexName: 'rollup_1' });
    expect(plan.executionStats).toMatchObject({ nReturned: 1, totalKeysExamined: 1 });
    const all = await FeedbackModel.collection.find({ rollup: { $in: ['pending', 'applied'] } }).explain('executionStats');
    expect(all.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
  });

  it('when the database still has the full index of an earlier version, then syncing the indexes replaces it with the partial one', async () => {
    await FeedbackModel.collection.dropIndex('rollup_1');
    await FeedbackModel.collection.createIndex({ rollup: 1 }, { name: 'rollup_1' });

    await FeedbackModel.syncIndexes();

    const rollupIndex = (await FeedbackModel.collection.indexes()).find((index) => index.name === 'rollup_1');
    expect(rollupIndex).toMatchObject({ key: { rollup: 1 }, partialFilterExpression: { rollup: 'pending' } });
  });

  it('when the process died between storing a vote and applying it, then reconciliation counts it exactly once', async () => {
    const counter = makeCounter();
    const counted = makeFeedback(counter, { quick: 'satisfied', rollup: 'applied' });
    await insertRaw(counted);
    await applyVoteToRollups(counted, 1);
    const lost = makeFeedback(counter, { quick: 'dissatisfied', createdAt: new Date(Date.now() - HOUR) });
    await insertRaw(lost);

    const result = await reconcilePendingRollups(60_000);

    expect(result).toMatchObject({ counterDays: 1, reconciled: 1, feedbackMarked: 1, deferred: 0 });
    const rollup = await RollupModel.findOne({ counterId: counter.counterId }).lean();
    expect(rollup).toMatchObject({ count: 2, quick: { satisfied: 1, dissatisfied: 1 } });
    expect((await FeedbackModel.findById(lost._id).lean())?.rollup).toBe('applied');
    expect(await reconcilePendingRollups(60_000)).toMatchObject({ counterDays: 0 });
    expect(await storedVersusRecomputed()).toEqual([]);
  });

  it('when the increment happened but the vote is still marked pending, then reconciliation does not count it twice', async () => {
    const counter = makeCounter();
    const vote = makeFeedback(counter, { quick: 'very_satisfied', createdAt: new Date(Date.now() - HOUR) });
    await insertRaw(vote);
    await applyVoteToRollups(vote, 1);

    await reconcilePendingRollups(60_000);

    const rollup = await RollupModel.findOne({ counterId: counter.counterId }).lean();
    expect(rollup).toMatchObject({ count: 1, quick: { very_satisfied: 1 } });
    expect(await storedVersusRecomputed()).toEqual([]);
  });

  it('when a pending vote is recent, then its counter-day is left alone for the request still applying it', async () => {
    const counter = makeCounter();
    await insertRaw(makeFeedback(counter, { createdAt: new Date(Date.now() - HOUR) }));
    const fresh = makeFeedback(counter, { createdAt: new Date() });
    await insertRaw(fresh);

    const result = await reconcilePendingRollups(60_000);

    expect(result).toMatchObject({ counterDays: 1, reconciled: 0, deferred: 1 });
    expect(await RollupModel.countDocuments({ counterId: counter.counterId })).toBe(0);
    expect((await FeedbackModel.findById(fresh._id).lean())?.rollup).toBe('pending');
  });
  it('when an old vote became pending only moments ago (a spam flag in progress), then its counter-day is left alone', async () => {
    const counter = makeCounter();
    const flagged = makeFeedback(counter, { createdAt: new Date(Date.now() - 24 * HOUR) });
    await insertRaw(flagged);
    await FeedbackModel.collection.updateOne({ _id: flagged._id }, { $set: { rollupPendingAt: new Date() } });

    expect(await reconcilePendingRollups(60_000)).toMatchObject({ counterDays: 0 });
    await FeedbackModel.collection.updateOne({ _id: flagged._id }, { $set: { rollupPendingAt: new Date(Date.now() - HOUR) } });
    expect(await reconcilePendingRollups(60_000)).toMatchObject({ counterDays: 1, reconciled: 1 });
  });
});

describe('rebuildRollups', () => {
  it('when a stored roll-up drifted, then the rebuild reports the field with both values and fixes it', async () => {
    const counter = makeCounter();
    const vote = makeFeedback(counter, { quick: 'satisfied', trips: 2, rollup: 'applied' });
    await insertRaw(vote);
    await applyVoteToRollups(vote, 1);
    await RollupModel.collection.updateOne({ counterId: counter.counterId }, { $inc: { 'quick.satisfied': 2, count: 2 } });
    const orphan = makeCounter();
    await applyVoteToRollups(makeFeedback(orphan), 1);

    const first = await rebuildRollups({ fix: true, pendingOlderThanMs: 60_000 });

    expect(first.differences).toEqual(
      expect.arrayContaining([
        { counterId: String(counter.counterId), day: '2026-11-20', field: 'count', stored: 3, recomputed: 1 },
        { counterId: String(counter.counterId), day: '2026-11-20', field: 'quick.satisfied', stored: 3, recomputed: 1 },
        { counterId: String(orphan.counterId), day: '2026-11-20', field: 'count', stored: 1, recomputed: 0 },
      ]),
    );
    expect(first.fixed).toBe(2);
    const second = await rebuildRollups({ fix: true, pendingOlderThanMs: 60_000 });
    expect(second.differences).toEqual([]);
    expect(await storedVersusRecomputed()).toEqual([]);
  });
});

describe('rollupsFor', () => {
  it('when the scope is one commune, then only its roll-ups are summed, grouped as asked', async () => {
    const odien = makeCounter('09817', ['01', '09817']);
    const odien2 = makeCounter('09817', ['01', '09817']);
    const danphuong = makeCounter('09784', ['01', '09784']);
    await applyVoteToRollups(makeFeedback(odien, { quick: 'satisfied', localDay: '2026-11-19' }), 1);
    await applyVoteToRollups(makeFeedback(odien2, { quick: 'dissatisfied', localDay: '2026-11-20' }), 1);
    await applyVoteToRollups(makeFeedback(odien, { quick: 'satisfied', localDay: '2026-11-25' }), 1);
    await applyVoteToRollups(makeFeedback(danphuong, { quick: 'very_satisfied', localDay: '2026-11-20' }), 1);

    const scoped = await rollupsFor({ scope: { kind: 'units', codes: ['09817'] }, from: '2026-11-01', to: '2026-11-20', groupBy: 'none' });
    expect(scoped).toEqual([expect.objectContaining({ key: 'all', count: 2, days: 2, quick: { satisfied: 1, dissatisfied: 1 } })]);

    const byChild = await rollupsFor({ scope: ALL_UNITS, unit: '01', from: '2026-11-01', to: '2026-11-30', groupBy: 'child' });
    expect(byChild.map((g) => [g.key, g.count])).toEqual([
      ['09784', 1],
      ['09817', 3],
    ]);

    const outside = await rollupsFor({ scope: { kind: 'units', codes: ['09817'] }, unit: '09784', from: '2026-11-01', to: '2026-11-30', groupBy: 'day' });
    expect(outside).toEqual([]);

    const byCounter = await rollupsFor({ scope: ALL_UNITS, unit: '09817', from: '2026-11-01', to: '2026-11-30', groupBy: 'counter' });
    expect(byCounter.map((g) => g.count).sort()).toEqual([1, 2]);
  });
});
