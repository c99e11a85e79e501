// zod schemas of the feedback endpoints (JSON API, HTML form, follow-up, moderation) and the input type they share.
import { z } from 'zod';
import { COMMENT_MAX, ELEMENTS, LANGS, QUICK_VOTES, WENT_BADLY, WENT_WELL, type Element } from './feedback.types';

/** Opaque client-chosen key: UUIDs and similar; nothing that could be an operator or a path. */
export const IdempotencyKeySchema = z.string().regex(/^[A-Za-z0-9_.:-]{8,128}$/);

const QrTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{4,128}$/);

const comment = z
  .string()
  .max(COMMENT_MAX)
  .transform((text) => text.normalize('NFC').replace(/\r\n?/g, '\n').trim())
  .transform((text) => (text.length ? text : undefined));

/** Chips: a set (order and duplicates do not matter), so the canonical body sorts and dedupes them. */
function chipSet<T extends readonly [string, ...string[]]>(values: T) {
  return z
    .array(z.enum(values))
    .max(values.length * 2)
    .transform((chips) => [...new Set(chips)].sort());
}

const level = z.union([z.int().min(1).max(5), z.null()]);

const ElementsSchema = z.strictObject(
  Object.fromEntries(ELEMENTS.map((element) => [element, level.optional()])) as Record<Element, z.ZodOptional<typeof level>>,
);

/** POST /api/v1/feedback body, exactly as DESIGN §4; unknown fields are errors. */
export const FeedbackBodySchema = z.strictObject({
  qrToken: QrTokenSchema,
  quick: z.string().pipe(z.enum(QUICK_VOTES)),
  elements: ElementsSchema.optional(),
  trips: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  wentWell: chipSet(WENT_WELL).optional(),
  wentBadly: chipSet(WENT_BADLY).optional(),
  comment: comment.optional(),
  lang: z.enum(LANGS).optional(),
});
export type FeedbackBody = z.infer<typeof FeedbackBodySchema>;

/** The vote once parsed, whichever door it came through (API, form, kiosk). */
export interface FeedbackInput {
  qrToken: string;
  quick: FeedbackBody['quick'];
  elements: Partial<Record<Element, number | null>>;
  trips?: 1 | 2 | 3;
  wentWell: string[];
  wentBadly: string[];
  comment?: string;
  lang: 'vi' | 'en';
}

export function inputFromBody(body: FeedbackBody, fallbackLang: 'vi' | 'en'): FeedbackInput {
  return {
    qrToken: body.qrToken,
    quick: body.quick,
    elements: body.elements ?? {},
    ...(body.trips ? { trips: body.trips } : {}),
    wentWell: body.wentWell ?? [],
    wentBadly: body.wentBadly ?? [],
    ...(body.comment ? { comment: body.comment } : {}),
    lang: body.lang ?? fallbackLang,
  };
}

/** An HTML form field that may be absent, a single value, or repeated (checkboxes). */
const formList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));

const formLevel = z
  .enum(['', 'na', '1', '2', '3', '4', '5'])
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value === 'na' ? null : Number(value)));

/** POST /f/:qrToken and /k/:qrToken (urlencoded): field names as the form renders them. */
export const FeedbackFormSchema = z
  .strictObject({
    quick: z.string().pipe(z.enum(QUICK_VOTES)),
    ...(Object.fromEntries(ELEMENTS.map((element) => [`el_${element}`, formLevel])) as Record<`el_${Element}`, typeof formLevel>),
    trips: z
      .enum(['', '1', '2', '3'])
      .optional()
      .transform((value) => (value ? (Number(value) as 1 | 2 | 3) : undefined)),
    wentWell: formList.pipe(chipSet(WENT_WELL)),
    wentBadly: formList.pipe(chipSet(WENT_BADLY)),
    comment: comment.optional(),
    key: IdempotencyKeySchema,
    website: z.string().max(500).optional(),
  });
export type FeedbackForm = z.infer<typeof FeedbackFormSchema>;

export function inputFromForm(form: FeedbackForm, qrToken: string, lang: 'vi' | 'en'): FeedbackInput {
  const elements: Partial<Record<Element, number | null>> = {};
  for (const element of ELEMENTS) {
    const value = form[`el_${element}`];
    if (value !== undefined) elements[element] = value;
  }
  return {
    qrToken,
    quick: form.quick,
    elements,
    ...(form.trips ? { trips: form.trips } : {}),
    wentWell: form.wentWell,
    wentBadly: form.wentBadly,
    ...(form.comment ? { comment: form.comment } : {}),
    lang,
  };
}

/** POST /f/:qrToken/more: the dissatisfied follow-up, authorised by a signed token. */
export const FollowUpFormSchema = z.strictObject({
  id: z.string().regex(/^[a-f0-9]{24}$/),
  sig: z.string().regex(/^[0-9]{10,13}\.[A-Za-z0-9_-]{20,64}$/),
  wentBadly: formList.pipe(chipSet(WENT_BADLY)),
  comment: comment.optional(),
});
export type FollowUpForm = z.infer<typeof FollowUpFormSchema>;

export const FollowUpQuerySchema = z.object({
  id: z.string().regex(/^[a-f0-9]{24}$/),
  sig: z.string().regex(/^[0-9]{10,13}\.[A-Za-z0-9_-]{20,64}$/),
});

export const QrTokenParamsSchema = z.object({ qrToken: QrTokenSchema });
export const FeedbackIdParamsSchema = z.object({ id: z.string().regex(/^[a-f0-9]{24}$/) });

export const SpamBodySchema = z.strictObject({ reason: z.string().trim().min(1).max(200) });
export const ModerationQuerySchema = z.object({
  spam: z.enum(['all', 'only', 'none']).default('all'),
  page: z.coerce.number().int().min(1).max(1000).default(1),
  lang: z.string().optional(),
});
