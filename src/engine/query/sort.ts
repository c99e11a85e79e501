// Sort specifications: MongoDB's ordering of documents by one or more (dotted) keys.

import { ErrorCodes, MongoError } from '../errors';
import { compareValues, getPath, type Doc } from './compare';

/** The sort key of one document for one path: arrays contribute their min (asc) or max (desc) element. */
export function sortKey(doc: Doc, path: string, dir: 1 | -1): unknown {
  const v = getPath(doc, path);
  if (!Array.isArray(v)) return v === undefined ? null : v;
  if (v.length === 0) return undefined;
  let best: unknown = v[0];
  for (let i = 1; i < v.length; i++) {
    const c = compareValues(v[i], best);
    if ((dir === 1 && c < 0) || (dir === -1 && c > 0)) best = v[i];
  }
  return best;
}

/** Parses a sort spec into [path, direction] pairs, rejecting what MongoDB rejects. */
export function parseSort(sort: Doc): Array<[string, 1 | -1]> {
  if (sort === null || typeof sort !== 'object' || Array.isArray(sort)) {
    throw new MongoError(ErrorCodes.BadValue, 'sort must be an object');
  }
  const keys: Array<[string, 1 | -1]> = [];
  for (const [path, dirValue] of Object.entries(sort)) {
    if (dirValue !== null && typeof dirValue === 'object' && '$meta' in dirValue) {
      throw new MongoError(ErrorCodes.BadValue, `$meta sort by ${String((dirValue as Doc).$meta)} is not supported`);
    }
    const n = typeof dirValue === 'number' ? dirValue : Number(dirValue);
    if (n !== 1 && n !== -1) {
      throw new MongoError(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    }
    if (path === '' || path.startsWith('$')) throw new MongoError(ErrorCodes.BadValue, `Invalid sort key: '${path}'`);
    keys.push([path, n]);
  }
  return keys;
}

/** Compiles a sort spec into a comparator (stable sorts keep insertion order for ties). */
export function compileSort(sort: Doc): (a: Doc, b: Doc) => number {
  const keys = parseSort(sort);
  return (a: Doc, b: Doc) => {
    for (const [path, dir] of keys) {
      const c = compareSortKeys(sortKey(a, path, dir), sortKey(b, path, dir));
      if (c !== 0) return dir === 1 ? c : -c;
    }
    return 0;
  };
}

/** An empty array's key (undefined) sorts before null, as in MongoDB. */
export function compareSortKeys(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) {
    if (a === undefined && b === undefined) return 0;
    return a === undefined ? -1 : 1;
  }
  return compareValues(a, b);
}
