// Request log: a request id on every request and response, and one pino line per request when it ends.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';

/** An id a proxy in front may have given the request; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9-]{8,64}$/;

export interface RequestLogOptions {
  /** Requests that get an id but no line (health checks, static files). */
  ignore?: (req: Request) => boolean;
}

/**
 * Gives each request an id (`req.id`, the `X-Request-Id` response header; a sane incoming one is kept) and logs one
 * line when the response is sent or the client goes away first: id, method, path without the query, status and
 * time in ms. Never headers, cookies, bodies or addresses. pino-http logs the same line but builds a child logger for
 * every request, which nothing here reads; that cost a quarter of a bare Express request (bench: 0.06 ms).
 */
export function requestLog(logger: Logger, options: RequestLogOptions = {}) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (logger.isLevelEnabled('info') && !options.ignore?.(req)) {
      const started = performance.now();
      const line = { id, method: req.method, path: req.url.split('?')[0] };
      const done = () => {
        res.removeListener('finish', done);
        res.removeListener('close', done);
        const responseTime = Math.round(performance.now() - started);
        // A request aborted before its answer began has no status (Node's default 200 was never sent).
        const statusCode = res.headersSent ? res.statusCode : null;
        logger.info({ req: line, res: { statusCode }, responseTime }, res.writableFinished ? 'request completed' : 'request aborted');
      };
      res.on('finish', done);
      res.on('close', done);
    }
    next();
  };
}
