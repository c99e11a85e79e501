// String expressions MongoDB defines on UTF-8 bytes or code points, where mingo counts UTF-16 units.
import { MongoError } from '../errors';
import { evalExpr, registerOperators, type MingoOptions } from './mingo';
import { typeName } from './format';

type Search = { text: string[]; needle: string[]; start: number; end: number } | null;

function searchArgs(op: string, obj: unknown, expr: unknown, options: MingoOptions, split: (s: string) => string[]): Search {
  const args = evalExpr(obj, expr, options);
  if (!Array.isArray(args) || args.length < 2 || args.length > 4) {
    throw new MongoError(16020, `Expression ${op} takes at least 2 arguments, and at most 4, but ${Array.isArray(args) ? args.length : 1} were passed in.`);
  }
  const [text, needle, start, end] = args as unknown[];
  if (text === null || text === undefined) return null;
  if (typeof text !== 'string') throw new MongoError(40091, `${op} requires a string as the first argument, found: ${typeName(text)}`);
  if (typeof needle !== 'string') throw new MongoError(40092, `${op} requires a string as the second argument, found: ${typeName(needle)}`);
  const units = split(text);
  const bound = (value: unknown, fallback: number, which: string): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new MongoError(40096, `${op} requires an integral ${which} index, found a value of type: ${typeName(value)}`);
    if (value < 0) throw new MongoError(40097, `${op} requires a nonnegative ${which} index, found: ${value}`);
    return value;
  };
  return { text: units, needle: split(needle), start: bound(start, 0, 'starting'), end: Math.min(bound(end, units.length, 'ending'), units.length) };
}

function indexOf(search: Search): number | null {
  if (search === null) return null;
  const { text, needle, start, end } = search;
  for (let i = start; i + needle.length <= end; i += 1) {
    let match = true;
    for (let j = 0; j < needle.length && match; j += 1) match = text[i + j] === needle[j];
    if (match) return i;
  }
  return -1;
}

const codePoints = (s: string): string[] => Array.from(s);
const utf8Bytes = (s: string): string[] => Array.from(Buffer.from(s, 'utf8'), (byte) => String(byte));

registerOperators('expression', {
  $indexOfCP: (obj: unknown, expr: unknown, options: MingoOptions) => indexOf(searchArgs('$indexOfCP', obj, expr, options, codePoints)),
  $indexOfBytes: (obj: unknown, expr: unknown, options: MingoOptions) => indexOf(searchArgs('$indexOfBytes', obj, expr, options, utf8Bytes)),
});
