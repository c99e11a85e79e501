// Feedback use cases: accept a vote exactly once (idempotency, replacement window, roll-ups), follow-up, spam moderation.
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { recordAudit } from '../audit';
import { AppError, conflict } from '../shared/errors';
import type { Scope } from '../shared/scope';
import { findCounterByToken, type Counter, type Office, type Unit } from '../units';
import { feedbackKey, hashSignals, signFollowUp, verifyFollowUp, type RateGuards } from './abuse';
import type { FeedbackDocument } from './feedback.model';
import {
  addFollowUp,
  clearSpamFlag,
  findFeedbackById,
  findFeedbackByKey,
  findFeedbackInScope,
  listFeedbackInScope,
  markRollupApplied,
  setSpamFlag,
  type ModerationFilter,
} from './feedback.repository';
import { parseForm } from '../shared/http/validate';
import type { FieldErrors } from '../shared/errors';
import { FeedbackFormSchema, FollowUpFormSchema, inputFromForm, type FeedbackInput } from './feedback.schema';
import { isCounted, localDayOf, type Channel } from './feedback.types';
import { applyVoteToRollups, applyVotesToRollups } from './rollup.service';
import { createVoteWriter, outcomeOf, voteSinkOf, type VoteOutcome, type VoteSink } from './vote-writer';

const FOLLOW_UP_TTL_MS = 2 * 3600 * 1000;
const MODERATION_PAGE_SIZE = 50;
/** How long a live counter found by its token is reused for votes (a rotation or closure applies after at most this). */
const COUNTER_CACHE_MS = 5_000;
const COUNTER_CACHE_MAX = 10_000;

export interface FeedbackServiceDeps {
  config: Config;
  /** Database-backed rate limits; omitted for trusted callers (demo data, benchmarks of the service itself). */
  guards?: RateGuards;
  /** The clock; tests and the demo generator pass their own. */
  now?: () => Date;
  /** Where the vote writer reports what fails in the background (marks not written, charges not given back). */
  logger?: Logger;
  /** How long a vote may wait for the database before it is answered 503 (default 10 s; tests pass less). */
  voteDeadlineMs?: number;
  /** Where votes are written: the server's vote thread (vote-thread.ts); by default a vote writer in this thread. */
  votes?: VoteSink;
}

/** Who is voting, as far as the honesty rules need to know. */
export interface SubmitContext {
  channel: Channel;
  /** Raw device cookie and IP: hashed with a keyed HMAC here and never stored raw. */
  deviceId?: string;
  ip?: string;
}

export interface SubmitResult {
  id: string;
  /** False when the idempotency key had already been used with the same body (a replay). */
  created: boolean;
  /** True when this vote replaced the same device's earlier vote at the counter. */
  replaced: boolean;
  /** Signed follow-up token when a dissatisfied vote came without details. */
  followUp?: string;
}

/** What the citizen sees at the top of the form. */
export interface CounterView {
  counterLabel: string;
  counterFields: string[];
  officeName: string;
  unitName: string;
}

/** The submitted form fields as strings, to re-check what the citizen chose when the form comes back with errors. */
export type FormValues = Record<string, string | string[]>;

export type FormOutcome =
  | { ok: true; result: SubmitResult | null }
  | { ok: false; errors: FieldErrors; values: FormValues; counter: CounterView };

export type FollowUpOutcome = { ok: true } | { ok: false; errors: FieldErrors; values: FormValues };

const FORM_FIELDS = ['quick', 'el_access', 'el_procedure', 'el_staff', 'el_result', 'el_feedbackHandling', 'trips', 'wentWell', 'wentBadly', 'comment', 'key', 'id', 'sig'];

/** Only known fields, only strings (arrays for repeated checkboxes), so a bad body cannot reach the view. */
export function formValuesOf(body: unknown): FormValues {
  const values: FormValues = {};
  if (!body || typeof body !== 'object') return values;
  for (const field of FORM_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === 'string') values[field] = value;
    else if (Array.isArray(value)) values[field] = value.filter((item): item is string => typeof item === 'string');
  }
  return values;
}

function honeypotFilled(body: unknown): boolean {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>).website : undefined;
  return typeof value === 'string' ? value.length > 0 : value !== undefined;
}

export interface ModerationItem {
  id: string;
  createdAt: Date;
  unitCode: string;
  channel: Channel;
  quick: string;
  wentBadly: string[];
  comment?: string;
  spam?: { reason: string; at: Date };
  replaced: boolean;
}

export interface ModerationPage {
  items: ModerationItem[];
  page: number;
  hasMore: boolean;
}

type LiveCounter = { counter: Counter; office: Office; unit: Unit };

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** SHA-256 of the canonical vote (sorted keys, chips already sorted and deduplicated). */
export function bodyHashOf(input: FeedbackInput, channel: Channel): string {
  return createHash('sha256').update(JSON.stringify(canonical({ channel, input }))).digest('hex');
}

function needsFollowUp(feedback: VoteOutcome['stored']): boolean {
  return feedback.quick === 'dissatisfied' && feedback.wentBadly.length === 0 && !feedback.comment && !feedback.followUpAt;
}

export function createFeedbackService(deps: FeedbackServiceDeps) {
  const { config } = deps;
  const key = feedbackKey(config.secret);
  const now = deps.now ?? (() => new Date());

  async function resolveCounter(qrToken: string): Promise<LiveCounter> {
    const found = await findCounterByToken(qrToken);
    if (!found) throw new AppError(404, 'not_found', 'feedback.errors.unknownCode');
    if (found.revoked) throw new AppError(410, 'gone', 'feedback.errors.replacedCode');
    return found;
  }

  const counterCache = new Map<string, { until: number; value: Promise<LiveCounter> }>();

  /**
   * The counter a vote goes to; live counters are remembered briefly, unknown or replaced codes never. The votes
   * arriving while a token is being looked up wait for that one look-up: when the entry of a busy counter expires,
   * the next votes do not each query the database.
   */
  function counterForVote(qrToken: string): Promise<LiveCounter> {
    const cached = counterCache.get(qrToken);
    if (cached && cached.until > Date.now()) return cached.value;
    if (counterCache.size >= COUNTER_CACHE_MAX) counterCache.clear();
    const entry = { until: Date.now() + COUNTER_CACHE_MS, value: resolveCounter(qrToken) };
    counterCache.set(qrToken, entry);
    entry.value.catch(() => {
      if (counterCache.get(qrToken) === entry) counterCache.delete(qrToken);
    });
    return entry.value;
  }

  /** The answer to a vote: for a key already stored, the same answer for the same body and 409 for another body. */
  function resultOf(outcome: VoteOutcome, bodyHash: string): SubmitResult {
    if (!outcome.created && outcome.stored.bodyHash !== bodyHash) throw conflict('feedback.errors.keyReused');
    const { id, created, replaced } = outcome;
    const followUp = needsFollowUp(outcome.stored) ? signFollowUp(key, id, now().getTime() + FOLLOW_UP_TTL_MS) : undefined;
    return { id, created, replaced, ...(followUp ? { followUp } : {}) };
  }

  const votes =
    deps.votes ??
    voteSinkOf(
      createVoteWriter({
        guards: deps.guards,
        replaceWindowMs: config.feedback.replaceWindowMinutes * 60_000,
        onError: (what, error) => deps.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, what),
        ...(deps.voteDeadlineMs ? { deadlineMs: deps.voteDeadlineMs } : {}),
      }),
    );

  /**
   * Accepts one vote under an idempotency key: stored once, counted once, replacing the device's vote in the window.
   * The vote is written with the others arriving at the same time (see vote-writer.ts) and answered once stored
   * and counted.
   */
  async function submitFeedback(input: FeedbackInput, idempotencyKey: string, context: SubmitContext): Promise<SubmitResult> {
    const bodyHash = bodyHashOf(input, context.channel);
    let live: LiveCounter;
    try {
      live = await counterForVote(input.qrToken);
    } catch (error) {
      // A vote stored before its code was replaced is still answered as a replay.
      const stored = await findFeedbackByKey(idempotencyKey);
      if (!stored) throw error;
      return resultOf(outcomeOf(stored, false), bodyHash);
    }
    const { counter, office } = live;
    const kiosk = context.channel === 'kiosk';
    const hashes = hashSignals(key, { deviceId: kiosk ? undefined : context.deviceId, ip: context.ip });
    const at = now();
    const outcome = await votes.write({
      feedback: {
        _id: new Types.ObjectId(),
        counterId: new Types.ObjectId(counter.id),
        officeId: new Types.ObjectId(office.id),
        unitCode: counter.unitCode,
        unitPath: [...counter.unitPath],
        localDay: localDayOf(at),
        createdAt: at,
        channel: context.channel,
        lang: input.lang,
        quick: input.quick,
        elements: input.elements,
        ...(input.trips ? { trips: input.trips } : {}),
        wentWell: input.wentWell,
        wentBadly: input.wentBadly,
        ...(input.comment ? { comment: input.comment } : {}),
        idempotencyKey,
        bodyHash,
        ...hashes,
        rollup: 'pending',
      },
      charge: { ...hashes, ...(kiosk ? { kioskCounterId: counter.id } : {}) },
    });
    return resultOf(outcome, bodyHash);
  }

  /**
   * The HTML form's submission: a filled honeypot is answered like success and stores nothing; bad input comes back
   * with field errors (and the counter, to show the form again) before anything is stored.
   */
  async function submitFeedbackForm(qrToken: string, body: unknown, lang: 'vi' | 'en', context: SubmitContext): Promise<FormOutcome> {
    if (honeypotFilled(body)) return { ok: true, result: null };
    const parsed = parseForm(FeedbackFormSchema, body);
    if (!parsed.ok) return { ok: false, errors: parsed.errors, values: formValuesOf(body), counter: await counterForForm(qrToken) };
    const result = await submitFeedback(inputFromForm(parsed.data, qrToken, lang), parsed.data.key, context);
    return { ok: true, result };
  }

  /** The dissatisfied follow-up form (chips and comment for a stored vote). */
  async function submitFollowUpForm(body: unknown): Promise<FollowUpOutcome> {
    const parsed = parseForm(FollowUpFormSchema, body);
    if (!parsed.ok) return { ok: false, errors: parsed.errors, values: formValuesOf(body) };
    const { id, sig, wentBadly, comment } = parsed.data;
    await addFollowUpDetails(id, sig, { wentBadly, ...(comment ? { comment } : {}) });
    return { ok: true };
  }

  /** The office and counter a QR token leads to (404 unknown, 410 replaced or closed). */
  async function counterForForm(qrToken: string): Promise<CounterView> {
    const { counter, office, unit } = await resolveCounter(qrToken);
    return { counterLabel: counter.label, counterFields: counter.fields, officeName: office.name, unitName: unit.name };
  }

  /** Whether a follow-up link is genuine and still open; the follow-up page shows only then. */
  async function checkFollowUp(id: string, token: string): Promise<boolean> {
    if (!verifyFollowUp(key, id, token, now().getTime())) return false;
    const feedback = await findFeedbackById(id);
    return feedback !== null && needsFollowUp(feedback);
  }

  /** Adds what went wrong to a dissatisfied vote, once, through its signed link; roll-ups follow the change. */
  async function addFollowUpDetails(id: string, token: string, details: { wentBadly: string[]; comment?: string }): Promise<void> {
    if (!verifyFollowUp(key, id, token, now().getTime())) throw new AppError(403, 'forbidden', 'feedback.errors.followUpExpired');
    if (details.wentBadly.length === 0 && !details.comment) return;
    const pendingAt = new Date();
    const change = await addFollowUp(new Types.ObjectId(id), details, now(), pendingAt);
    if (!change) return;
    if (isCounted(change.before)) {
      await applyVotesToRollups([
        { vote: change.before, sign: -1 },
        { vote: change.after, sign: 1 },
      ]);
    }
    await markRollupApplied(change.before._id, pendingAt);
  }

  /** Flags a feedback as spam (excluded from every figure); 404 outside the moderator's scope. */
  async function flagSpam(actor: Actor, id: string, reason: string, ip?: string): Promise<void> {
    const pendingAt = new Date();
    const before = await setSpamFlag(id, actor.scope, { reason, at: now(), by: actor.id }, pendingAt);
    if (!before) return ensureVisible(id, actor.scope);
    if (isCounted(before)) await applyVoteToRollups(before, -1);
    await markRollupApplied(before._id, pendingAt);
    await recordAudit(actor, 'feedback.spam.flag', { type: 'feedback', id, unitPath: before.unitPath }, { reason }, { ip });
  }

  /** Clears a spam flag, so the vote counts again unless it was replaced. */
  async function unflagSpam(actor: Actor, id: string, ip?: string): Promise<void> {
    const pendingAt = new Date();
    const before = await clearSpamFlag(id, actor.scope, pendingAt);
    if (!before) return ensureVisible(id, actor.scope);
    if (!before.replacedBy) await applyVoteToRollups(before, 1);
    await markRollupApplied(before._id, pendingAt);
    await recordAudit(actor, 'feedback.spam.unflag', { type: 'feedback', id, unitPath: before.unitPath }, {}, { ip });
  }

  /** Nothing changed: fine when the feedback is in scope (already in that state), 404 otherwise. */
  async function ensureVisible(id: string, scope: Scope): Promise<void> {
    if (!(await findFeedbackInScope(id, scope))) throw new AppError(404, 'not_found', 'feedback.errors.notFound');
  }

  /** Newest feedback in the moderator's scope (spam included or not), one page. */
  async function listForModeration(actor: Actor, filter: ModerationFilter, page: number): Promise<ModerationPage> {
    const rows = await listFeedbackInScope(actor.scope, filter, (page - 1) * MODERATION_PAGE_SIZE, MODERATION_PAGE_SIZE + 1);
    const items = rows.slice(0, MODERATION_PAGE_SIZE).map((row) => ({
      id: String(row._id),
      createdAt: row.createdAt,
      unitCode: row.unitCode,
      channel: row.channel,
      quick: row.quick,
      wentBadly: row.wentBadly,
      ...(row.comment ? { comment: row.comment } : {}),
      ...(row.spam ? { spam: { reason: row.spam.reason, at: row.spam.at } } : {}),
      replaced: Boolean(row.replacedBy),
    }));
    return { items, page, hasMore: rows.length > MODERATION_PAGE_SIZE };
  }

  return { submitFeedback, submitFeedbackForm, submitFollowUpForm, counterForForm, checkFollowUp, addFollowUpDetails, flagSpam, unflagSpam, listForModeration };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
