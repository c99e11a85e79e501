// zod schemas for the QR endpoints' parameters.
import { z } from 'zod';

export const IdParams = z.strictObject({ id: z.string().regex(/^[a-f0-9]{24}$/i) });
export const UnitCodeParams = z.strictObject({ code: z.string().regex(/^\d{2,5}$/) });
