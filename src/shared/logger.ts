// The one pino logger; request logs carry a request id and never cookies, tokens or citizens' words.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The app's logger; `destination` defaults to standard output (tests pass their own). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: 'thuoc-do' },
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
