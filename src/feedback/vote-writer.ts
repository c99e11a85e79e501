// Group commit for votes: the votes that arrive while one batch is being written go to the database together.
import type { Types } from 'mongoose';
import type { AppError } from '../shared/errors';
import type { Charge, RateGuards } from './abuse';
import type { FeedbackDocument } from './feedback.model';
import { findDeviceVotes, findFeedbackByKeys, insertFeedbackMany, markReplaced, markRollupsApplied, type NewFeedback } from './feedback.repository';
import { isCounted } from './feedback.types';
import { applyVotesToRollups, type RollupChange } from './rollup.service';

/** At most this many votes per batch; the rest wait for the next one. */
const MAX_BATCH = 256;
/** Batches written at once: their database round trips overlap, and the engine syncs their writes together. */
const MAX_IN_FLIGHT = 4;

/** A vote ready to store: its document (state 'pending', with `_id`) and what it is charged against. */
export interface VoteToWrite {
  feedback: NewFeedback & { _id: Types.ObjectId };
  charge: Charge;
}

/** How a vote ended: stored now (`replaces` the vote it replaced, if any), or the earlier vote stored under its key. */
export type WrittenVote = { created: true; feedback: FeedbackDocument; replaces: Types.ObjectId | null } | { created: false; feedback: FeedbackDocument };

interface Waiting {
  vote: VoteToWrite;
  resolve: (written: WrittenVote) => void;
  reject: (error: unknown) => void;
}

export interface VoteWriterDeps {
  /** Database rate limits; without them nothing is charged (demo data, tests of the service itself). */
  guards?: RateGuards;
  /** The replacement window (0: none). */
  replaceWindowMs: number;
}

/**
 * Writes votes in batches with the same outcome as writing them one by one, in arrival order. Per batch: one look-up
 * of the idempotency keys, one rate-limit charge per distinct key, one unordered insert, one look-up of the devices'
 * other votes in the replacement window, one roll-up write and one write of the 'applied' marks. Each vote is answered
 * once its batch is durable. A vote whose key repeats an earlier one in the same batch waits for the next batch, where
 * it is answered as a replay (or a conflict).
 */
export function createVoteWriter(deps: VoteWriterDeps) {
  let queue: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  function write(vote: VoteToWrite): Promise<WrittenVote> {
    return new Promise<WrittenVote>((resolve, reject) => {
      queue.push({ vote, resolve, reject });
      schedule();
    });
  }

  /** Starts a batch on the next turn of the event loop (so the requests already read join it) if one may start. */
  function schedule(): void {
    if (scheduled || inFlight >= MAX_IN_FLIGHT || queue.length === 0) return;
    scheduled = true;
    setImmediate(drain);
  }

  function drain(): void {
    scheduled = false;
    const batch: Waiting[] = [];
    const later: Waiting[] = [];
    const keys = new Set<string>();
    for (const waiting of queue) {
      const key = waiting.vote.feedback.idempotencyKey;
      if (batch.length < MAX_BATCH && !keys.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else later.push(waiting);
    }
    queue = later;
    inFlight += 1;
    void writeBatch(batch).finally(() => {
      inFlight -= 1;
      schedule();
    });
    schedule();
  }

  async function writeBatch(batch: Waiting[]): Promise<void> {
    const open = new Set(batch);
    const settle = (waiting: Waiting, outcome: WrittenVote | Error) => {
      if (!open.delete(waiting)) return;
      if (outcome instanceof Error) waiting.reject(outcome);
      else waiting.resolve(outcome);
    };
    try {
      const fresh = await answerReplays(batch, settle);
      const allowed = await chargeLimits(fresh, settle);
      const inserted = await insert(allowed, settle);
      await count(inserted, settle);
    } catch (error) {
      for (const waiting of open) waiting.reject(error);
    }
  }

  type Settle = (waiting: Waiting, outcome: WrittenVote | Error) => void;

  async function answerReplays(batch: Waiting[], settle: Settle): Promise<Waiting[]> {
    const stored = new Map((await findFeedbackByKeys(batch.map((waiting) => waiting.vote.feedback.idempotencyKey))).map((doc) => [doc.idempotencyKey, doc]));
    return batch.filter((waiting) => {
      const previous = stored.get(waiting.vote.feedback.idempotencyKey);
      if (previous) settle(waiting, { created: false, feedback: previous });
      return !previous;
    });
  }

  async function chargeLimits(batch: Waiting[], settle: Settle): Promise<Waiting[]> {
    if (!deps.guards || batch.length === 0) return batch;
    const answers: (AppError | null)[] = await deps.guards.charge(batch.map((waiting) => waiting.vote.charge));
    return batch.filter((waiting, index) => {
      const refusal = answers[index];
      if (refusal) settle(waiting, refusal);
      return !refusal;
    });
  }

  async function insert(batch: Waiting[], settle: Settle): Promise<Waiting[]> {
    if (batch.length === 0) return batch;
    const outcomes = await insertFeedbackMany(batch.map((waiting) => waiting.vote.feedback));
    const taken = batch.filter((_waiting, index) => outcomes[index] === 'duplicateKey');
    if (taken.length > 0) {
      // A concurrent twin (another batch or app process) stored the key first.
      const stored = new Map((await findFeedbackByKeys(taken.map((waiting) => waiting.vote.feedback.idempotencyKey))).map((doc) => [doc.idempotencyKey, doc]));
      for (const waiting of taken) {
        const previous = stored.get(waiting.vote.feedback.idempotencyKey);
        if (previous) settle(waiting, { created: false, feedback: previous });
        else settle(waiting, new Error(`idempotency key taken but not found: ${waiting.vote.feedback.idempotencyKey}`));
      }
    }
    return batch.filter((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome instanceof Error) settle(waiting, outcome);
      return outcome === 'inserted';
    });
  }

  /**
   * The replacement window, then the roll-ups. Every vote is inserted before its batch looks for the device's other
   * votes, so of two votes written at once in any processes, at least one batch sees the other; the atomic pre-image
   * of each replacement decides its decrement, so no vote is uncounted twice.
   */
  async function count(batch: Waiting[], settle: Settle): Promise<void> {
    if (batch.length === 0) return;
    const changes: RollupChange[] = batch.map((waiting) => ({ vote: waiting.vote.feedback, sign: 1 }));
    const applied: Types.ObjectId[] = batch.map((waiting) => waiting.vote.feedback._id);
    const replaced = await settleReplacements(batch, changes, applied);
    await applyVotesToRollups(changes);
    await markRollupsApplied(applied, replaced);
    for (const waiting of batch) {
      const { feedback } = waiting.vote;
      const replaces = replaced.get(String(feedback._id)) ?? null;
      settle(waiting, { created: true, feedback: { ...feedback, ...(replaces ? { replaces } : {}) }, replaces });
    }
  }

  /**
   * One device, one counted vote per counter within the window: the newest (by time, then id) replaces every other
   * counted vote of the device at the counter within the window. Adds the decrements to `changes` and the replaced
   * votes stored earlier to `applied`; returns which vote each vote of the batch replaced.
   */
  async function settleReplacements(batch: Waiting[], changes: RollupChange[], applied: Types.ObjectId[]): Promise<Map<string, Types.ObjectId>> {
    const replaced = new Map<string, Types.ObjectId>();
    const window = deps.replaceWindowMs;
    const voters = batch.map((waiting) => waiting.vote.feedback).filter((feedback) => feedback.deviceHash && feedback.channel !== 'kiosk');
    if (window <= 0 || voters.length === 0) return replaced;
    const times = voters.map((feedback) => feedback.createdAt.getTime());
    const pairs = new Map(voters.map((feedback) => [`${String(feedback.counterId)}|${feedback.deviceHash}`, { counterId: feedback.counterId, deviceHash: feedback.deviceHash as string }]));
    const found = await findDeviceVotes([...pairs.values()], new Date(Math.min(...times) - window), new Date(Math.max(...times) + window));
    const inBatch = new Set(batch.map((waiting) => String(waiting.vote.feedback._id)));
    const seen = new Set<string>();
    for (const feedback of voters) {
      for (const other of found) {
        if (String(other._id) === String(feedback._id) || String(other.counterId) !== String(feedback.counterId) || other.deviceHash !== feedback.deviceHash) continue;
        if (Math.abs(other.createdAt.getTime() - feedback.createdAt.getTime()) > window) continue;
        const [older, newer] = isEarlier(other, feedback) ? [other, feedback] : [feedback, other];
        const pair = `${String(older._id)}|${String(newer._id)}`;
        if (seen.has(pair)) continue;
        seen.add(pair);
        const before = await markReplaced(older._id, newer._id);
        if (!before) continue;
        if (isCounted(before)) changes.push({ vote: before, sign: -1 });
        if (!inBatch.has(String(older._id))) applied.push(older._id);
        if (inBatch.has(String(newer._id))) replaced.set(String(newer._id), older._id);
      }
    }
    return replaced;
  }

  return { write };
}

export type VoteWriter = ReturnType<typeof createVoteWriter>;

/** The order in which votes count as cast: time, then id (the same answer in every process). */
export function isEarlier(a: Pick<FeedbackDocument, 'createdAt' | '_id'>, b: Pick<FeedbackDocument, 'createdAt' | '_id'>): boolean {
  const difference = a.createdAt.getTime() - b.createdAt.getTime();
  return difference !== 0 ? difference < 0 : String(a._id) < String(b._id);
}
