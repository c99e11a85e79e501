// The one error middleware: maps any error to a status and answers an HTML page or JSON, never a stack trace.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from '../logger';
import { AppError, notFound } from '../errors';
import { translator, DEFAULT_LANGUAGE } from '../i18n';

const DATABASE_DOWN = new Set([
  'MongoNetworkError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
]);

interface HttpParserError {
  type?: string;
  status?: number;
  statusCode?: number;
}

/** Errors thrown by body parsers and the database driver, translated into AppErrors. */
function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (typeof err !== 'object' || err === null) return null;
  const name = (err as Error).name;
  if (DATABASE_DOWN.has(name) || /buffering timed out|before initial connection/i.test((err as Error).message ?? '')) {
    return new AppError(503, 'service_unavailable', 'errors.serviceUnavailable', {}, undefined, { 'Retry-After': '5' });
  }
  const parserType = (err as HttpParserError).type;
  switch (parserType) {
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', 'errors.payloadTooLarge');
    case 'entity.parse.failed':
      return new AppError(400, 'malformed_body', 'errors.malformedBody');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_encoding', 'errors.unsupportedEncoding');
    case 'parameters.too.many':
      return new AppError(413, 'payload_too_large', 'errors.payloadTooLarge');
    case 'request.aborted':
      return new AppError(400, 'request_aborted', 'errors.badRequest');
  }
  const status = (err as HttpParserError).status ?? (err as HttpParserError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, 'bad_request', 'errors.badRequest');
  }
  return null;
}

/** Whether the client wants JSON: API paths always, otherwise by Accept. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path.startsWith('/open311/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = toAppError(err);
    const appError = known ?? new AppError(500, 'internal_error', 'errors.internal');
    if (!known) {
      logger.error({ err, reqId: req.id, method: req.method, url: req.originalUrl }, 'unhandled error');
    } else if (appError.status >= 500) {
      logger.warn({ reqId: req.id, code: appError.code, cause: (err as Error)?.name }, 'service unavailable');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const t = req.t ?? translator(DEFAULT_LANGUAGE);
    const message = t(appError.messageKey, appError.params);
    res.status(appError.status);
    res.set(appError.headers);
    if (wantsJson(req)) {
      const fields = appError.fields
        ? Object.fromEntries(Object.entries(appError.fields).map(([field, key]) => [field, t(key)]))
        : undefined;
      res.json({ error: { code: appError.code, message, ...(fields ? { fields } : {}) } });
      return;
    }
    res.render('errors/error', { status: appError.status, message, title: t(`errors.title.${appError.status}`) });
  };
}
