// Request fields added by the shared middleware and by auth.
import type { Language, Translate } from './shared/i18n';
import type { Scope } from './shared/scope';
import type { Role } from './auth/permissions';

declare global {
  namespace Express {
    interface Request {
      /** The request id (shared/http/request-log.ts), also sent as X-Request-Id. */
      id: string;
      lang: Language;
      t: Translate;
      /** The signed-in staff member (session or API token); undefined for the public. */
      actor?: Actor;
    }
  }
  interface Actor {
    id: string;
    username: string;
    displayName: string;
    role: Role;
    scope: Scope;
    via: 'session' | 'token';
  }
}

export {};
