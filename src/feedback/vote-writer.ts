// Group commit for votes: the votes that arrive while one batch is being written go to the database together.
import type { Types } from 'mongoose';
import { AppError } from '../shared/errors';
import type { BatchCharge, Charge, RateGuards } from './abuse';
import type { FeedbackDocument } from './feedback.model';
import { findDeviceVotes, findFeedbackById, findFeedbackByKeys, insertFeedbackMany, markReplaced, markRollupsApplied, type DeviceVote, type NewFeedback } from './feedback.repository';
import { isCounted } from './feedback.types';
import { applyVotesToRollups, type RollupChange } from './rollup.service';

/**
 * At most this many votes per batch; the rest wait for the next one. Small batches keep the database, this thread
 * and the HTTP thread busy at once (one large batch would leave each waiting for the others in turn).
 */
const MAX_BATCH = 32;
/**
 * Batches written at once: while one waits for a round trip the other is being prepared or answered, and the engine
 * syncs their writes together. More than two made more, smaller batches (more commands for the same votes) and
 * fewer votes per second at 20 and at 100 connections alike (src/feedback/CONTEXT.md, Throughput).
 */
export const MAX_IN_FLIGHT = 2;
/** How long a vote waits for the database before it is answered "not saved yet, send it again" (503). */
const DEADLINE_MS = 10_000;

/** A vote ready to store: its document (state 'pending', with `_id`) and what it is charged against. */
export interface VoteToWrite {
  feedback: NewFeedback & { _id: Types.ObjectId };
  charge: Charge;
}

/** How a vote ended: stored now (`replaces` the vote it replaced, if any), or the earlier vote stored under its key. */
export type WrittenVote = { created: true; feedback: FeedbackDocument; replaces: Types.ObjectId | null } | { created: false; feedback: FeedbackDocument };

/**
 * What the service needs of a written vote to answer it, as plain data (it crosses from the vote thread): its id,
 * whether it was stored now or found under its key, whether it replaced a vote, and the stored fields that decide
 * a replay's answer and the dissatisfied follow-up.
 */
export interface VoteOutcome {
  created: boolean;
  id: string;
  replaced: boolean;
  stored: Pick<FeedbackDocument, 'bodyHash' | 'quick' | 'wentBadly' | 'comment' | 'followUpAt'>;
}

/** The outcome of a stored vote: the one just written (`replaced` as the writer found) or found under its key. */
export function outcomeOf(feedback: FeedbackDocument, created: boolean, replaced = Boolean(feedback.replaces)): VoteOutcome {
  const { bodyHash, quick, wentBadly, comment, followUpAt } = feedback;
  return {
    created,
    id: String(feedback._id),
    replaced,
    stored: { bodyHash, quick, wentBadly, ...(comment !== undefined ? { comment } : {}), ...(followUpAt ? { followUpAt } : {}) },
  };
}

/** Where the service hands its votes: a writer in this thread, or the vote thread (vote-thread.ts). */
export interface VoteSink {
  write(vote: VoteToWrite): Promise<VoteOutcome>;
}

type Settle = (waiting: Waiting, outcome: WrittenVote | Error) => void;

interface Waiting {
  vote: VoteToWrite;
  resolve: (written: WrittenVote) => void;
  reject: (error: unknown) => void;
  /** Answers the vote 503 when the database has not answered by the deadline. */
  deadline: NodeJS.Timeout;
}

export interface VoteWriterDeps {
  /** Database rate limits; without them nothing is charged (demo data, tests of the service itself). */
  guards?: RateGuards;
  /** The replacement window (0: none). */
  replaceWindowMs: number;
  /**
   * Told what failed in the background, where no vote is left to answer with the error: 'applied' marks not written
   * (reconciliation settles those votes), a charge not given back (the limits are then stricter).
   */
  onError?: (what: string, error: unknown) => void;
  /** How long a vote may wait for the database (default 10 s). */
  deadlineMs?: number;
}

/** The batches being written in this process, by every writer (their marks included). */
const batchesInFlight = new Set<Promise<void>>();
/** Votes of this process waiting for a batch. */
let votesQueued = 0;

/**
 * Resolves once every vote handed to a writer in this process is written, marks included: shutdown waits for it
 * before closing the database.
 */
export async function whenVotesWritten(): Promise<void> {
  while (batchesInFlight.size > 0 || votesQueued > 0) {
    if (batchesInFlight.size > 0) await Promise.allSettled([...batchesInFlight]);
    else await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The answer to a vote the database did not take in time: a retry with the same key cannot count it twice. */
export function notSavedYet(): AppError {
  return new AppError(503, 'service_unavailable', 'feedback.errors.notSavedYet', {}, undefined, { 'Retry-After': '5' });
}

/**
 * Writes votes in batches with the outcome of writing them one by one in arrival order. Per batch: one look-up of
 * the idempotency keys beside the rate-limit charge (replays are answered with the stored vote and charged
 * nothing); one unordered insert (a twin written by another process at the same time gets the stored vote); then
 * the roll-up increments (one `$inc` upsert per counter-day) alongside the search of the replacement window. A vote
 * is answered once it is stored and counted, durably; the batch then writes the 'applied' marks (a crash before them
 * leaves its votes 'pending', and reconciliation recomputes their counter-days). A vote whose key is already in a
 * batch being written waits until that batch is done, marks included, then is answered as a replay (or a conflict).
 */
export function createVoteWriter(deps: VoteWriterDeps) {
  let queue: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;
  /** The idempotency keys of the batches being written. */
  const keysInFlight = new Set<string>();
  /** Votes of this writer, answered, whose increments are durable while their 'applied' marks are being written. */
  const countedUnmarked = new Set<string>();

  function write(vote: VoteToWrite): Promise<WrittenVote> {
    return new Promise<WrittenVote>((resolve, reject) => {
      const waiting: Waiting = {
        vote,
        resolve: (written) => {
          clearTimeout(waiting.deadline);
          resolve(written);
        },
        reject: (error) => {
          clearTimeout(waiting.deadline);
          reject(error);
        },
        // A vote waiting for its deadline does not keep the process alive: shutdown waits through whenVotesWritten.
        deadline: setTimeout(() => expire(waiting), deps.deadlineMs ?? DEADLINE_MS).unref(),
      };
      queue.push(waiting);
      votesQueued += 1;
      schedule();
    });
  }

  /**
   * The database did not take the vote in time (a hung connection, an overloaded server): it is answered 503. A
   * vote still queued is dropped, so it is never stored after that answer; one in a batch being written may still
   * be stored, and a retry with its key then gets it (the answer says so).
   */
  function expire(waiting: Waiting): void {
    const index = queue.indexOf(waiting);
    if (index >= 0) {
      queue.splice(index, 1);
      votesQueued -= 1;
    }
    // A promise settles once: the batch's own answer, if it comes later, changes nothing.
    waiting.reject(notSavedYet());
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
      if (batch.length < MAX_BATCH && !keys.has(key) && !keysInFlight.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else later.push(waiting);
    }
    queue = later;
    votesQueued -= batch.length;
    // Everything left waits for a key in flight: the batch holding it schedules the next one when it is done.
    if (batch.length === 0) return;
    inFlight += 1;
    for (const key of keys) keysInFlight.add(key);
    const written = writeBatch(batch).finally(() => {
      inFlight -= 1;
      batchesInFlight.delete(written);
      for (const key of keys) keysInFlight.delete(key);
      schedule();
    });
    batchesInFlight.add(written);
    schedule();
  }

  async function writeBatch(batch: Waiting[]): Promise<void> {
    const open = new Set(batch);
    const settle: Settle = (waiting, outcome) => {
      if (!open.delete(waiting)) return;
      if (outcome instanceof Error) waiting.reject(outcome);
      else waiting.resolve(outcome);
    };
    try {
      const allowed = await answerReplaysAndCharge(batch, settle);
      const inserted = await insert(allowed, settle);
      await count(inserted, settle);
    } catch (error) {
      for (const waiting of open) waiting.reject(error);
    }
  }

  /** The stored votes of these votes' idempotency keys, by key. */
  async function storedByKey(batch: Waiting[]): Promise<Map<string, FeedbackDocument>> {
    if (batch.length === 0) return new Map();
    return new Map((await findFeedbackByKeys(batch.map((waiting) => waiting.vote.feedback.idempotencyKey))).map((doc) => [doc.idempotencyKey, doc]));
  }

  /** Answers the votes whose key is stored with the stored vote; returns the others. */
  function answerWith(stored: Map<string, FeedbackDocument>, batch: Waiting[], settle: Settle): Waiting[] {
    return batch.filter((waiting) => {
      const previous = stored.get(waiting.vote.feedback.idempotencyKey);
      if (previous) settle(waiting, { created: false, feedback: previous });
      return !previous;
    });
  }

  /**
   * Answers the replays (keys already stored) with the stored vote and charges the other votes. The look-up and
   * the charge go together, in one round trip, unless the batch holds a kiosk vote (the kiosk interval is charged
   * after the look-up, so that a kiosk's replayed queue never makes the next citizen wait). When the look-up finds
   * a replay, which is rare, the charge is given back and the other votes are charged alone, so a replay is never
   * charged; meanwhile other batches can only find the limits stricter, and may take places before them.
   */
  async function answerReplaysAndCharge(batch: Waiting[], settle: Settle): Promise<Waiting[]> {
    const { guards } = deps;
    if (!guards || batch.length === 0) return answerWith(await storedByKey(batch), batch, settle);
    const chargesOf = (votes: Waiting[]) => votes.map((waiting) => waiting.vote.charge);
    /** Charges votes known not to be replays, after the look-up. */
    const chargeFresh = async (fresh: Waiting[]) => (fresh.length === 0 ? fresh : withoutRefused(fresh, (await guards.charge(chargesOf(fresh))).refusals, settle));
    if (batch.some((waiting) => waiting.vote.charge.kioskCounterId)) return chargeFresh(answerWith(await storedByKey(batch), batch, settle));
    const [lookedUp, charged] = await Promise.allSettled([storedByKey(batch), guards.charge(chargesOf(batch))]);
    if (lookedUp.status === 'rejected') {
      if (charged.status === 'fulfilled') await refund(charged.value);
      throw lookedUp.reason;
    }
    const stored = lookedUp.value;
    const fresh = answerWith(stored, batch, settle);
    if (charged.status === 'rejected') throw charged.reason;
    if (stored.size === 0) return withoutRefused(batch, charged.value.refusals, settle);
    await refund(charged.value);
    return chargeFresh(fresh);
  }

  /** Gives a charge back; a refund that fails leaves the limits stricter, never looser, and is reported. */
  async function refund(charge: BatchCharge): Promise<void> {
    try {
      await charge.refund();
    } catch (error) {
      deps.onError?.('a rate-limit charge could not be given back', error);
    }
  }

  /**
   * Answers the refused votes with their 429, except one whose key got stored meanwhile (its twin, sent to another
   * app process), which gets the stored vote; returns the allowed votes.
   */
  async function withoutRefused(batch: Waiting[], refusals: (AppError | null)[], settle: Settle): Promise<Waiting[]> {
    const refused = new Map(
      batch.flatMap((waiting, index) => {
        const refusal = refusals[index];
        return refusal ? [[waiting, refusal] as const] : [];
      }),
    );
    if (refused.size === 0) return batch;
    const twins = [...refused.keys()];
    for (const waiting of answerWith(await storedByKey(twins), twins, settle)) settle(waiting, refused.get(waiting) ?? new Error('refused'));
    return batch.filter((waiting) => !refused.has(waiting));
  }

  /** One unordered insert; a key taken meanwhile (a twin written by another process) gets the stored vote. */
  async function insert(batch: Waiting[], settle: Settle): Promise<Waiting[]> {
    if (batch.length === 0) return batch;
    const outcomes = await insertFeedbackMany(batch.map((waiting) => waiting.vote.feedback));
    const taken = batch.filter((_waiting, index) => outcomes[index] === 'duplicateKey');
    for (const waiting of answerWith(await storedByKey(taken), taken, settle)) {
      settle(waiting, new Error(`idempotency key taken but not found: ${waiting.vote.feedback.idempotencyKey}`));
    }
    return batch.filter((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome instanceof Error) settle(waiting, outcome);
      return outcome === 'inserted';
    });
  }

  /**
   * The roll-ups and the replacement window, as independent atomic changes: the batch's increments, and each
   * replacement with its decrement. Every vote is inserted before its batch looks for the device's other votes, so
   * of two votes written at once in any processes, at least one batch sees the other; the atomic pre-image of each
   * replacement decides its decrement, so no vote is uncounted twice. Answered before the marks are written: a vote
   * whose mark is lost stays 'pending' until reconciliation, counted as it is.
   */
  async function count(batch: Waiting[], settle: Settle): Promise<void> {
    if (batch.length === 0) return;
    const pendingAt = new Date();
    const [replacements] = await Promise.all([
      settleReplacements(batch, pendingAt),
      applyVotesToRollups(batch.map((waiting) => ({ vote: waiting.vote.feedback, sign: 1 }))),
    ]);
    if (replacements.decrements.length > 0) await applyVotesToRollups(replacements.decrements);
    const ids = batch.map((waiting) => String(waiting.vote.feedback._id));
    for (const id of ids) countedUnmarked.add(id);
    for (const waiting of batch) {
      const { feedback } = waiting.vote;
      const replaces = replacements.replaces.get(String(feedback._id)) ?? null;
      settle(waiting, { created: true, feedback: { ...feedback, ...(replaces ? { replaces } : {}) }, replaces });
    }
    try {
      await markRollupsApplied({
        fresh: batch.map((waiting) => waiting.vote.feedback._id),
        replaced: replacements.replaced,
        pendingAt,
        replaces: replacements.replaces,
      });
    } catch (error) {
      // Every vote is answered and counted: the votes stay 'pending' until reconciliation recomputes their days.
      deps.onError?.("votes answered but not marked 'applied'; reconciliation will settle them", error);
    } finally {
      for (const id of ids) countedUnmarked.delete(id);
    }
  }

  /**
   * One device, one counted vote per counter within the window: the newest (by time, then id) replaces every other
   * counted vote of the device at the counter within the window. Returns the decrements; the replaced votes whose
   * every roll-up change this batch has now applied (its own; earlier ones that were 'applied' when replaced, or
   * counted by this writer with their marks still being written and nothing else started on them since; any other
   * one still 'pending' has a change in flight somewhere and is left to reconciliation); and, for each vote of the
   * batch that replaced another, which one.
   */
  async function settleReplacements(
    batch: Waiting[],
    pendingAt: Date,
  ): Promise<{ decrements: RollupChange[]; replaced: Types.ObjectId[]; replaces: Map<string, Types.ObjectId> }> {
    const result = { decrements: [] as RollupChange[], replaced: [] as Types.ObjectId[], replaces: new Map<string, Types.ObjectId>() };
    const window = deps.replaceWindowMs;
    const voters = batch.flatMap(({ vote: { feedback } }) => (feedback.deviceHash && feedback.channel !== 'kiosk' ? [{ ...feedback, deviceHash: feedback.deviceHash }] : []));
    if (window <= 0 || voters.length === 0) return result;
    const times = voters.map((feedback) => feedback.createdAt.getTime());
    const pairOf = (vote: Pick<DeviceVote, 'counterId' | 'deviceHash'>) => `${String(vote.counterId)}|${vote.deviceHash}`;
    const pairs = new Map(voters.map(({ counterId, deviceHash }) => [pairOf({ counterId, deviceHash }), { counterId, deviceHash }]));
    const found = await findDeviceVotes([...pairs.values()], new Date(Math.min(...times) - window), new Date(Math.max(...times) + window));
    const foundByPair = new Map<string, DeviceVote[]>();
    for (const other of found) foundByPair.set(pairOf(other), [...(foundByPair.get(pairOf(other)) ?? []), other]);
    const inBatch = new Set(batch.map((waiting) => String(waiting.vote.feedback._id)));
    const seen = new Set<string>();
    for (const feedback of voters) {
      for (const other of foundByPair.get(pairOf(feedback)) ?? []) {
        if (other._id.equals(feedback._id)) continue;
        if (Math.abs(other.createdAt.getTime() - feedback.createdAt.getTime()) > window) continue;
        const [older, newer] = isEarlier(other, feedback) ? [other, feedback] : [feedback, other];
        const pair = `${String(older._id)}|${String(newer._id)}`;
        if (seen.has(pair)) continue;
        seen.add(pair);
        const newerHere = inBatch.has(String(newer._id));
        const before = await markReplaced(older._id, newer._id, pendingAt);
        if (!before) {
          // Someone else replaced it first: when by this batch's vote (the other batch saw both), this vote replaced it.
          if (newerHere && String((await findFeedbackById(older._id))?.replacedBy) === String(newer._id)) result.replaces.set(String(newer._id), older._id);
          continue;
        }
        if (isCounted(before)) result.decrements.push({ vote: before, sign: -1 });
        if (inBatch.has(String(older._id)) || before.rollup === 'applied' || (countedUnmarked.has(String(older._id)) && before.rollupPendingAt === undefined)) {
          result.replaced.push(older._id);
        }
        if (newerHere) result.replaces.set(String(newer._id), older._id);
      }
    }
    return result;
  }

  return { write };
}

export type VoteWriter = ReturnType<typeof createVoteWriter>;

/** A writer as the service uses it: the outcome of each vote rather than its documents. */
export function voteSinkOf(writer: VoteWriter): VoteSink {
  return {
    write: async (vote) => {
      const written = await writer.write(vote);
      return written.created ? outcomeOf(written.feedback, true, written.replaces !== null) : outcomeOf(written.feedback, false);
    },
  };
}

/** The order in which votes count as cast: time, then id (the same answer in every process). */
export function isEarlier(a: Pick<FeedbackDocument, 'createdAt' | '_id'>, b: Pick<FeedbackDocument, 'createdAt' | '_id'>): boolean {
  const difference = a.createdAt.getTime() - b.createdAt.getTime();
  return difference !== 0 ? difference < 0 : String(a._id) < String(b._id);
}
