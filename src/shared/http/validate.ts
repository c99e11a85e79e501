// zod validation for requests: API middleware that rejects with 400, and a parser for HTML forms that re-render.
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { AppError, type FieldErrors } from '../errors';

export interface RequestSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

/** Turns zod issues into one message key per field (the first issue wins). */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.join('.') : '_';
    if (fields[field]) continue;
    fields[field] = issueMessageKey(issue);
  }
  return fields;
}

function issueMessageKey(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom' && typeof issue.message === 'string' && issue.message.startsWith('validation.')) {
    return issue.message;
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'validation.unknownField';
    case 'invalid_type':
      return issue.input === undefined ? 'validation.required' : 'validation.invalidType';
    case 'too_small':
      return issue.origin === 'string' && issue.minimum === 1 ? 'validation.required' : 'validation.tooSmall';
    case 'too_big':
      return 'validation.tooBig';
    case 'invalid_value':
      return 'validation.invalidChoice';
    case 'invalid_format':
      return 'validation.invalidFormat';
    default:
      return 'validation.invalid';
  }
}

/** Validates body/query/params and replaces them with the parsed values; bad input → 400 with field errors. */
export function validate(schemas: RequestSchemas) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const fields: FieldErrors = {};
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const result = schema.safeParse(req[part] ?? {});
      if (!result.success) {
        Object.assign(fields, fieldErrors(result.error));
        continue;
      }
      // Express 5 exposes req.query through a getter: shadow it with the parsed value.
      Object.defineProperty(req, part, { value: result.data, writable: true, configurable: true, enumerable: true });
    }
    if (Object.keys(fields).length) {
      next(new AppError(400, 'validation_failed', 'errors.validationFailed', {}, fields));
      return;
    }
    next();
  };
}

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** `fields.3` → `fields`: a form shows one message per input, the first found for it. */
function perInput(errors: FieldErrors): FieldErrors {
  const result: FieldErrors = {};
  for (const [path, messageKey] of Object.entries(errors)) {
    const input = path.split('.')[0] ?? path;
    result[input] ??= messageKey;
  }
  return result;
}

/** Parses an HTML form body; the handler re-renders the form with `errors` (one per input) when it fails. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.infer<S>> {
  const result = schema.safeParse(body ?? {});
  return result.success ? { ok: true, data: result.data } : { ok: false, errors: perInput(fieldErrors(result.error)) };
}
