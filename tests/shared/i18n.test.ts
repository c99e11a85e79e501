// i18n: catalogue lookups, fallbacks to Vietnamese and to the key, interpolation, and language choice.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { translator } from '../../src/shared/i18n';

type Catalogue = { [key: string]: string | Catalogue };

function keys(catalogue: Catalogue, prefix = ''): string[] {
  return Object.entries(catalogue).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`),
  );
}

describe('translator', () => {
  test('Vietnamese is translated with diacritics', () => {
    expect(translator('vi')('errors.title.404')).toBe('Không tìm thấy trang');
  });

  test('English is translated', () => {
    expect(translator('en')('errors.title.404')).toBe('Page not found');
  });

  test('parameters are interpolated', () => {
    expect(translator('en')('errors.tooManyRequests', { minutes: 3 })).toBe(
      'You are going too fast. Please try again in 3 minute(s).',
    );
  });

  test('when a key is missing in English, then the Vietnamese text is used; when missing everywhere, the key', () => {
    expect(translator('en')('no.such.key')).toBe('no.such.key');
    const vi = JSON.parse(readFileSync(path.resolve(__dirname, '../../locales/vi.json'), 'utf8')) as Catalogue;
    const en = JSON.parse(readFileSync(path.resolve(__dirname, '../../locales/en.json'), 'utf8')) as Catalogue;
    const missingInEnglish = keys(vi).filter((key) => !keys(en).includes(key));
    for (const key of missingInEnglish) expect(translator('en')(key)).toBe(translator('vi')(key));
  });

  test('both catalogues have the same keys', () => {
    const vi = JSON.parse(readFileSync(path.resolve(__dirname, '../../locales/vi.json'), 'utf8')) as Catalogue;
    const en = JSON.parse(readFileSync(path.resolve(__dirname, '../../locales/en.json'), 'utf8')) as Catalogue;
    expect(keys(en).sort()).toEqual(keys(vi).sort());
  });
});
