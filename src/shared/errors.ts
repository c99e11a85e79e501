// AppError: the one error type services throw; the error middleware maps it to a status and a translated message.

export interface FieldErrors {
  [field: string]: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageKey: string,
    readonly params: Record<string, string | number> = {},
    readonly fields?: FieldErrors,
    readonly headers: Record<string, string> = {},
  ) {
    super(code);
    this.name = 'AppError';
  }
}

export const badRequest = (messageKey = 'errors.badRequest', fields?: FieldErrors) =>
  new AppError(400, 'bad_request', messageKey, {}, fields);
export const unauthorized = () => new AppError(401, 'unauthorized', 'errors.unauthorized');
export const forbidden = () => new AppError(403, 'forbidden', 'errors.forbidden');
export const notFound = (what = 'page') => new AppError(404, 'not_found', `errors.notFound.${what}`);
export const conflict = (messageKey = 'errors.conflict') => new AppError(409, 'conflict', messageKey);
export const gone = (messageKey = 'errors.gone') => new AppError(410, 'gone', messageKey);
export const payloadTooLarge = () => new AppError(413, 'payload_too_large', 'errors.payloadTooLarge');
export const unprocessable = (messageKey: string, params: Record<string, string | number> = {}) =>
  new AppError(422, 'unprocessable', messageKey, params);
export const tooManyRequests = (retryAfterSeconds: number, messageKey = 'errors.tooManyRequests') =>
  new AppError(429, 'too_many_requests', messageKey, { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) }, undefined, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
export const serviceUnavailable = () =>
  new AppError(503, 'service_unavailable', 'errors.serviceUnavailable', {}, undefined, { 'Retry-After': '5' });
