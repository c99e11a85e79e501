// createApp(deps): middleware, each component's router, 404 and the error handler; no listen, no connect.
import { isUtf8 } from 'node:buffer';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import express, { type Express, type Request } from 'express';
import helmet from 'helmet';
import type { Config } from './config';
import { auditRouter } from './audit';
import { authMiddleware, authRouter, usersRouter } from './auth';
import { feedbackRouters, type VoteSink } from './feedback';
import { qrRouter } from './qr';
import { AppError } from './shared/errors';
import { asset, staticFiles } from './shared/http/assets';
import { errorHandler, notFoundHandler } from './shared/http/error-handler';
import { healthRouter } from './shared/http/health.routes';
import { requestLog } from './shared/http/request-log';
import { i18nMiddleware } from './shared/i18n';
import { viewsDir } from './shared/paths';
import type { Logger } from './shared/logger';
import { unitsRouter } from './units';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Where votes are written: the server passes its vote thread; by default a vote writer on this thread. */
  votes?: VoteSink;
}

const BODY_LIMIT = '32kb';

/** Rejects bodies that are not valid UTF-8 instead of silently replacing bytes. */
function verifyUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) throw new AppError(400, 'invalid_utf8', 'errors.invalidUtf8');
}

function langSwitchUrl(req: Request, lang: string): string {
  const url = new URL(req.originalUrl, 'http://localhost');
  url.searchParams.set('lang', lang === 'vi' ? 'en' : 'vi');
  return `${url.pathname}${url.search}`;
}

export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  app.set('query parser', 'simple');

  app.use(requestLog(logger, { ignore: (req) => req.url === '/healthz' || req.url.startsWith('/static/') }));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          ...(config.cookies.secure ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: config.cookies.secure,
    }),
  );
  // Only reads have bodies worth compressing; submissions answer a redirect or a few bytes of JSON.
  const compress = compression();
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? compress(req, res, next) : next()));
  app.use('/static', staticFiles());
  app.use(cookieParser());
  app.use(i18nMiddleware({ secureCookies: config.cookies.secure }));
  app.use((req, res, next) => {
    res.locals.asset = asset;
    // Computed when a page is rendered, not for every request.
    Object.defineProperty(res.locals, 'langSwitchUrl', { get: () => langSwitchUrl(req, req.lang), enumerable: true, configurable: true });
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT, verify: verifyUtf8 }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 200, verify: verifyUtf8 }));
  const feedback = feedbackRouters({ config, logger, ...(deps.votes ? { votes: deps.votes } : {}) });
  app.use(feedback.citizen);
  // After the citizen routes: a request leaving a router it did not match waits a turn of the event loop.
  app.use(healthRouter());
  app.use(authMiddleware({ config, logger }));
  app.use(authRouter({ config, logger }));
  app.use(usersRouter());
  app.use(auditRouter());
  app.use(unitsRouter({ config }));
  app.use(qrRouter({ config }));
  app.use(feedback.staff);

  app.get('/', (_req, res) => res.render('home/index'));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
