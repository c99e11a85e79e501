// View models of the feedback pages (form, thanks, follow-up, moderation) and where the browser goes after a vote.
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { FieldErrors } from '../shared/errors';
import { IdempotencyKeySchema } from './feedback.schema';
import type { CounterView, FormValues, ModerationPage, SubmitResult } from './feedback.service';
import { COMMENT_MAX, ELEMENTS, QUICK_VOTES, WENT_BADLY, WENT_WELL } from './feedback.types';

export type FormMode = 'f' | 'k';

/** Seconds the kiosk shows its thank-you page before returning to a fresh form. */
export const KIOSK_RESET_SECONDS = 6;
/** Seconds an abandoned kiosk follow-up page waits before returning to a fresh form (the vote is already stored). */
export const KIOSK_ABANDON_SECONDS = 90;

const DETAIL_FIELDS = ['el_access', 'el_procedure', 'el_staff', 'el_result', 'el_feedbackHandling', 'trips', 'wentWell', 'wentBadly', 'comment'];

function basePath(mode: FormMode, qrToken: string): string {
  return `/${mode}/${encodeURIComponent(qrToken)}`;
}

function pageShell(mode: FormMode, title: string) {
  return { title, styles: ['css/feedback.css'], bodyClass: mode === 'k' ? 'fb-page kiosk' : 'fb-page' };
}

function isChosen(values: FormValues, field: string, value: string): boolean {
  const current = values[field];
  return Array.isArray(current) ? current.includes(value) : current === value;
}

/** Where the browser goes after a form vote: the follow-up for a bare "dissatisfied", else the thank-you page. */
export function locationAfterVote(mode: FormMode, qrToken: string, result: SubmitResult | null): string {
  const base = basePath(mode, qrToken);
  if (result?.followUp) return `${base}/more?${new URLSearchParams({ id: result.id, sig: result.followUp }).toString()}`;
  return result?.replaced ? `${base}/thanks?r=1` : `${base}/thanks`;
}

export function formPage(
  req: Request,
  mode: FormMode,
  qrToken: string,
  counter: CounterView,
  invalid?: { errors: FieldErrors; values: FormValues },
) {
  const values = invalid?.values ?? {};
  const errors = invalid?.errors ?? {};
  const submittedKey = IdempotencyKeySchema.safeParse(values.key);
  const base = basePath(mode, qrToken);
  return {
    ...pageShell(mode, req.t('feedback.form.title')),
    scripts: ['js/feedback.js'],
    mode,
    action: base,
    thanksUrl: `${base}/thanks`,
    qrToken,
    counter,
    key: submittedKey.success ? submittedKey.data : randomUUID(),
    errors,
    detailsOpen: DETAIL_FIELDS.some((field) => errors[field] !== undefined || (values[field] !== undefined && values[field] !== '')),
    elements: ELEMENTS,
    levels: ['1', '2', '3', '4', '5', 'na'],
    quickVotes: QUICK_VOTES,
    wentWell: WENT_WELL,
    wentBadly: WENT_BADLY,
    commentMax: COMMENT_MAX,
    comment: typeof values.comment === 'string' ? values.comment : '',
    chosen: (field: string, value: string) => isChosen(values, field, value),
  };
}

export function thanksPage(req: Request, mode: FormMode, qrToken: string) {
  const again = basePath(mode, qrToken);
  return {
    ...pageShell(mode, req.t('feedback.thanks.title')),
    mode,
    replaced: req.query.r === '1',
    again,
    ...(mode === 'k' ? { refresh: { seconds: KIOSK_RESET_SECONDS, url: again } } : {}),
  };
}

export function followUpPage(req: Request, mode: FormMode, qrToken: string, values: FormValues, errors: FieldErrors = {}) {
  const base = basePath(mode, qrToken);
  return {
    ...pageShell(mode, req.t('feedback.followUp.title')),
    ...(mode === 'k' ? { refresh: { seconds: KIOSK_ABANDON_SECONDS, url: base } } : {}),
    action: `${base}/more`,
    skipUrl: `${base}/thanks`,
    id: typeof values.id === 'string' ? values.id : '',
    sig: typeof values.sig === 'string' ? values.sig : '',
    errors,
    wentBadly: WENT_BADLY,
    commentMax: COMMENT_MAX,
    comment: typeof values.comment === 'string' ? values.comment : '',
    chosen: (field: string, value: string) => isChosen(values, field, value),
  };
}

export function moderationPage(req: Request, page: ModerationPage, spam: 'all' | 'only' | 'none') {
  const link = (target: number) => `/admin/feedback?${new URLSearchParams({ spam, page: String(target) }).toString()}`;
  return {
    title: req.t('feedback.moderation.title'),
    styles: ['css/feedback.css'],
    items: page.items,
    spam,
    page: page.page,
    previousUrl: page.page > 1 ? link(page.page - 1) : null,
    nextUrl: page.hasMore ? link(page.page + 1) : null,
    formatTime: (date: Date) =>
      new Intl.DateTimeFormat(req.lang === 'vi' ? 'vi-VN' : 'en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Ho_Chi_Minh' }).format(date),
  };
}
