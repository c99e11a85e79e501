// Updates: operator documents, replacement documents and pipeline updates, returning a new document.

import { update as mingoUpdate } from 'mingo';
import { ErrorCodes, MongoError } from '../errors';
import { cloneValue, valuesEqual, isPlainObject, type Doc } from './compare';
import { guard } from './convert';
import { runPipeline } from './pipeline';

export interface UpdateOptions {
  isUpsertInsert?: boolean;
  arrayFilters?: Doc[];
  variables?: Doc;
  query?: Doc;
}

export interface UpdateResult {
  doc: Doc;
  changed: boolean;
}

/** Applies an update to a copy of doc. */
export function applyUpdate(doc: Doc, update: Doc | Doc[], options: UpdateOptions = {}): UpdateResult {
  let out: Doc;
  if (Array.isArray(update)) {
    const [res] = runPipeline([doc], update, { collection: () => [], variables: options.variables });
    out = res ?? {};
    if (!('_id' in out) && '_id' in doc) out = { _id: doc._id, ...out };
  } else if (!isPlainObject(update)) {
    throw new MongoError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  } else if (Object.keys(update).some((k) => k.startsWith('$'))) {
    out = cloneValue(doc);
    const mod = { ...update };
    const setOnInsert = mod.$setOnInsert;
    delete mod.$setOnInsert;
    if (options.isUpsertInsert && isPlainObject(setOnInsert)) {
      mod.$set = { ...(isPlainObject(mod.$set) ? mod.$set : {}), ...setOnInsert };
    }
    if (Object.keys(mod).length > 0) {
      guard(() => mingoUpdate(out, mod, options.arrayFilters, options.query, { cloneMode: 'deep' }));
    }
  } else {
    out = '_id' in doc ? { _id: doc._id, ...cloneValue(update) } : cloneValue(update);
  }
  if ('_id' in doc && !valuesEqual(doc._id, out._id)) {
    throw new MongoError(
      ErrorCodes.ImmutableField,
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  return { doc: out, changed: !valuesEqual(doc, out) };
}
