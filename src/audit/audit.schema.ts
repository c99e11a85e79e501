// zod schemas for the audit log page's filters.
import { z } from 'zod';

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value ? value : undefined));

const optionalDate = z
  .union([z.literal(''), z.iso.date()])
  .optional()
  .transform((value) => (value ? value : undefined));

export const AuditQuerySchema = z
  .object({
    actor: optionalText(40),
    action: optionalText(60),
    from: optionalDate,
    to: optionalDate,
    page: z.coerce.number().int().min(1).max(100000).default(1),
    lang: z.string().optional(),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
