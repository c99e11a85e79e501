// HTML form plumbing for the administration pages: who acts, and parse → save → redirect or re-render.
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { clientIp, currentActor } from '../auth';
import { AppError, type FieldErrors } from '../shared/errors';
import { parseForm } from '../shared/http/validate';
import { formFields } from './units.schema';
import type { StaffContext } from './units.service';

export function staffContext(req: Request): StaffContext {
  return { actor: currentActor(req), ip: clientIp(req) };
}

/**
 * Parses the form; on success saves and answers 303 to the returned URL; on bad input (parse or business rule
 * with field errors) re-renders with status 400 and nothing stored.
 */
export async function handleForm<S extends z.ZodType>(
  req: Request,
  res: Response,
  schema: S,
  save: (input: z.infer<S>) => Promise<string>,
  rerender: (errors: FieldErrors, values: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const values = formFields(req.body);
  const form = parseForm(schema, values);
  if (!form.ok) {
    res.status(400);
    await rerender(form.errors, values);
    return;
  }
  try {
    res.redirect(303, await save(form.data));
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 400 || !error.fields) throw error;
    res.status(400);
    await rerender(error.fields, values);
  }
}
