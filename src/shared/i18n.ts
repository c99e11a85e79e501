// i18n: one catalogue per language (locales/*.json), language from ?lang=, a cookie, or Vietnamese by default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { localesDir } from './paths';

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'vi';
export const LANGUAGE_COOKIE = 'lang';

type Catalogue = { [key: string]: string | Catalogue };
export type Translate = (key: string, params?: Record<string, string | number>) => string;

const catalogues = new Map<Language, Catalogue>();

function catalogue(lang: Language): Catalogue {
  let loaded = catalogues.get(lang);
  if (!loaded) {
    loaded = JSON.parse(readFileSync(path.join(localesDir, `${lang}.json`), 'utf8')) as Catalogue;
    catalogues.set(lang, loaded);
  }
  return loaded;
}

function lookup(lang: Language, key: string): string | undefined {
  let node: string | Catalogue | undefined = catalogue(lang);
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Translator for one language: falls back to Vietnamese, then to the key itself. */
export function translator(lang: Language): Translate {
  return (key, params = {}) => {
    const template = lookup(lang, key) ?? lookup(DEFAULT_LANGUAGE, key) ?? key;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** Picks the request's language and exposes `t`, `lang` to views (res.locals) and handlers (req.t). */
export function i18nMiddleware(options: { secureCookies: boolean }) {
  const translators = new Map(LANGUAGES.map((lang) => [lang, translator(lang)]));
  return (req: Request, res: Response, next: NextFunction) => {
    const requested = req.query.lang;
    let lang: Language = DEFAULT_LANGUAGE;
    if (isLanguage(requested)) {
      lang = requested;
      res.cookie(LANGUAGE_COOKIE, lang, {
        maxAge: 365 * 24 * 3600 * 1000,
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secureCookies,
      });
    } else if (isLanguage(req.cookies?.[LANGUAGE_COOKIE])) {
      lang = req.cookies[LANGUAGE_COOKIE] as Language;
    }
    req.lang = lang;
    req.t = translators.get(lang) ?? translator(lang);
    res.locals.lang = lang;
    res.locals.t = req.t;
    next();
  };
}
