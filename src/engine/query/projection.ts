// find() projections: inclusion/exclusion, _id rules, dotted paths, $slice, $elemMatch and expressions.

import { ErrorCodes, MongoError } from '../errors';
import type { Doc } from './compare';
import { guard } from './convert';
import { MingoQuery, engineOptions } from './mingo';

/** Applies a find() projection to one document, returning a new document. */
export function applyProjection(doc: Doc, projection: Doc): Doc {
  if (projection === null || typeof projection !== 'object' || Array.isArray(projection)) {
    throw new MongoError(ErrorCodes.BadValue, 'projection must be an object');
  }
  if (Object.keys(projection).length === 0) return doc;
  return guard(() => {
    const cursor = new MingoQuery({}, engineOptions()).find<Doc>([doc], projection);
    const out = cursor.next();
    return out ?? {};
  });
}
