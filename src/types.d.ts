// Request fields added by the shared middleware.
import type { Language, Translate } from './shared/i18n';

declare global {
  namespace Express {
    interface Request {
      lang: Language;
      t: Translate;
    }
  }
}

export {};
