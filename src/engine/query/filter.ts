// Query filters: compiles a MongoDB filter document into a predicate over documents.

import { MongoError, ErrorCodes } from '../errors';
import type { Doc } from './compare';
import { guard } from './convert';
import { MingoQuery, engineOptions } from './mingo';

export interface FilterOptions {
  variables?: Doc;
}

/** Compiles a filter; throws MongoError naming any unknown or unsupported operator. */
export function compileFilter(filter: Doc, options: FilterOptions = {}): (doc: Doc) => boolean {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new MongoError(ErrorCodes.BadValue, 'query filter must be an object');
  }
  const query = guard(() => new MingoQuery(filter, engineOptions({ variables: options.variables })));
  return (doc: Doc) => guard(() => query.test(doc));
}
