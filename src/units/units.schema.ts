// zod schemas for the units API and the administration forms (units, offices, counters), with their inferred types.
import { z } from 'zod';

export const UnitCodeParams = z.strictObject({ code: z.string().regex(/^\d{2,5}$/) });
export const IdParams = z.strictObject({ id: z.string().regex(/^[a-f0-9]{24}$/i) });

export const UnitsQuery = z.strictObject({
  legacy: z.enum(['true', 'false']).optional().transform((value) => value === 'true'),
});
export type UnitsQueryValue = z.infer<typeof UnitsQuery>;

const text = (min: number, max: number) =>
  z
    .string()
    .transform((value) => value.replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(1).min(min).max(max));

const optionalText = (max: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value ?? '').replace(/\s+/g, ' ').trim())
    .pipe(z.string().max(max));

export const RenameUnitForm = z.strictObject({
  name: text(2, 120),
  shortName: optionalText(60).transform((value) => value || null),
});
export type RenameUnitInput = z.infer<typeof RenameUnitForm>;

const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), {
    message: 'validation.invalidFormat',
  });

export const MergeUnitForm = z.strictObject({
  targetCode: z.string().trim().regex(/^\d{2,5}$/),
  effectiveDate: isoDate,
});
export type MergeUnitInput = z.infer<typeof MergeUnitForm>;

/** Digits with spaces, dots, dashes, parentheses or a leading +; 8 to 15 digits. */
const PHONE = /^\+?[0-9 .()-]{8,24}$/;
const phoneDigits = (value: string) => value.replace(/\D/g, '').length;

export const HOTLINE_ROWS = [1, 2, 3] as const;

const hotlineFields = Object.fromEntries(
  HOTLINE_ROWS.flatMap((row) => [
    [`hotline${row}Label`, optionalText(80)],
    [`hotline${row}Phone`, optionalText(24)],
  ]),
) as Record<`hotline${1 | 2 | 3}${'Label' | 'Phone'}`, ReturnType<typeof optionalText>>;

export const OfficeForm = z
  .strictObject({
    name: text(3, 160),
    address: text(3, 300),
    openingHours: optionalText(300),
    ...hotlineFields,
  })
  .superRefine((form, ctx) => {
    for (const row of HOTLINE_ROWS) {
      const label = form[`hotline${row}Label`];
      const phone = form[`hotline${row}Phone`];
      if (label && !phone) ctx.addIssue({ code: 'custom', path: [`hotline${row}Phone`], message: 'validation.required' });
      if (phone && !label) ctx.addIssue({ code: 'custom', path: [`hotline${row}Label`], message: 'validation.required' });
      if (phone && (!PHONE.test(phone) || phoneDigits(phone) < 8 || phoneDigits(phone) > 15)) {
        ctx.addIssue({ code: 'custom', path: [`hotline${row}Phone`], message: 'validation.invalidFormat' });
      }
    }
  })
  .transform((form) => ({
    name: form.name,
    address: form.address,
    openingHours: form.openingHours,
    hotlines: HOTLINE_ROWS.map((row) => ({ label: form[`hotline${row}Label`], phone: form[`hotline${row}Phone`] })).filter(
      (hotline) => hotline.label && hotline.phone,
    ),
  }));
export type OfficeInput = z.infer<typeof OfficeForm>;

export const MAX_COUNTER_FIELDS = 10;

export const CounterForm = z.strictObject({
  label: text(2, 120),
  fields: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(/[\r\n;]+/)
        .map((field) => field.replace(/\s+/g, ' ').trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().max(80)).max(MAX_COUNTER_FIELDS)),
});
export type CounterInput = z.infer<typeof CounterForm>;

/** The form body without the CSRF field, which the CSRF middleware has already checked. */
export function formFields(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const { _csrf: _ignored, ...fields } = body as Record<string, unknown>;
  return fields;
}
