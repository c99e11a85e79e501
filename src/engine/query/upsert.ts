// The document an upsert starts from: the equality conditions of its filter.

import { isPlainObject, type Doc } from './compare';
import { setPath } from './paths';

function collect(filter: Doc, out: Array<[string, unknown]>): void {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) collect(sub, out);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (isPlainObject(cond)) {
      const ops = Object.keys(cond);
      if (ops.length > 0 && ops.every((k) => k.startsWith('$'))) {
        if ('$eq' in cond) out.push([key, cond.$eq]);
        else if (Array.isArray(cond.$in) && cond.$in.length === 1) out.push([key, cond.$in[0]]);
        continue;
      }
    }
    if (cond instanceof RegExp || (cond !== null && typeof cond === 'object' && (cond as { _bsontype?: string })._bsontype === 'BSONRegExp')) continue;
    out.push([key, cond]);
  }
}

/** Equality fields of the filter (incl. $and of equalities, $eq, one-element $in), dotted paths expanded. */
export function upsertSeed(filter: Doc): Doc {
  const pairs: Array<[string, unknown]> = [];
  collect(filter, pairs);
  const doc: Doc = {};
  const id = pairs.find(([k]) => k === '_id');
  if (id) setPath(doc, '_id', id[1]);
  for (const [path, value] of pairs) {
    if (path !== '_id') setPath(doc, path, value);
  }
  return doc;
}
