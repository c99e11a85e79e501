// Feedback vocabulary shared by the citizen form, the service and the daily roll-ups.
import type { Types } from 'mongoose';

export const QUICK_VOTES = ['very_satisfied', 'satisfied', 'dissatisfied'] as const;
export type QuickVote = (typeof QUICK_VOTES)[number];

/** The five SIPAS elements; each is answered 1..5 or null ("Không áp dụng"). */
export const ELEMENTS = ['access', 'procedure', 'staff', 'result', 'feedbackHandling'] as const;
export type Element = (typeof ELEMENTS)[number];
export const ELEMENT_LEVELS = [1, 2, 3, 4, 5] as const;

export const CHANNELS = ['qr', 'kiosk', 'web', 'hotline', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

export const LANGS = ['vi', 'en'] as const;
export type FeedbackLang = (typeof LANGS)[number];

/** Number of trips needed: 3 means "3 or more". */
export const TRIPS = [1, 2, 3] as const;
export type Trips = (typeof TRIPS)[number];

/** Fixed chip lists; labels live in locales under feedback.chips.<key>. */
export const WENT_WELL = ['friendly', 'clearGuidance', 'fast', 'onTime', 'clean'] as const;
export const WENT_BADLY = ['longWait', 'unclearGuidance', 'extraPapers', 'rudeAttitude', 'lateResult'] as const;
export type WentWellChip = (typeof WENT_WELL)[number];
export type WentBadlyChip = (typeof WENT_BADLY)[number];

export const COMMENT_MAX = 2000;

/** Roll-up bookkeeping: 'pending' until the counter-day roll-up has taken this vote's change. */
export type RollupState = 'pending' | 'applied';

export interface SpamFlag {
  reason: string;
  at: Date;
  by?: string;
}

export type FeedbackId = Types.ObjectId;

/** One stored feedback, as repositories return it (lean). A vote counts when !spam && !replacedBy. */
export interface FeedbackRecord {
  _id: FeedbackId;
  counterId: Types.ObjectId;
  officeId: Types.ObjectId;
  unitCode: string;
  /** Every ancestor unit code from the province down to unitCode (inclusive). */
  unitPath: string[];
  /** Local day in Asia/Ho_Chi_Minh, 'YYYY-MM-DD'. */
  localDay: string;
  createdAt: Date;
  channel: Channel;
  lang: FeedbackLang;
  quick: QuickVote;
  elements: Partial<Record<Element, number | null>>;
  trips?: Trips;
  wentWell: string[];
  wentBadly: string[];
  comment?: string;
  idempotencyKey: string;
  deviceHash?: string;
  ipHash?: string;
  spam?: SpamFlag;
  replacedBy?: FeedbackId;
  replaces?: FeedbackId;
  officerId?: Types.ObjectId;
  dossierCode?: string;
  rollup: RollupState;
}

/** True when this feedback is part of every figure. */
export function isCounted(feedback: Pick<FeedbackRecord, 'spam' | 'replacedBy'>): boolean {
  return !feedback.spam && !feedback.replacedBy;
}

const VIETNAM_OFFSET_MS = 7 * 3600 * 1000;

/** The local day in Asia/Ho_Chi_Minh (UTC+7 all year, no daylight saving) as 'YYYY-MM-DD'. */
export function localDayOf(date: Date): string {
  return new Date(date.getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}
