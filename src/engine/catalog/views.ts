// Read-only views: a collection entry whose options name a source (viewOn) and a pipeline, computed on each read.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import type { Catalog } from './catalog';
import type { Collection } from './collection';
import { runPipeline } from './semantics';

const MAX_VIEW_DEPTH = 20;

export function isView(coll: Collection): boolean {
  return typeof coll.options.viewOn === 'string';
}

/** Refuses writes, index builds and other collection-only operations on a view. */
export function assertNotView(coll: Collection | undefined): void {
  if (coll && isView(coll)) {
    throw new MongoError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${coll.ns} is a view, not a collection`);
  }
}

/** The documents of a collection, or of a view (its pipeline applied to its source, recursively). */
export function documentsOf(catalog: Catalog, coll: Collection | undefined, depth = 0): Document[] {
  if (!coll) return [];
  if (!isView(coll)) return Array.from(coll.records.values(), (r) => r.doc);
  if (depth >= MAX_VIEW_DEPTH) throw new MongoError(ErrorCodes.ViewDepthLimitExceeded, `View depth too deep or view cycle detected. Maximum depth is ${MAX_VIEW_DEPTH}`);
  const source = catalog.getCollection(coll.db, String(coll.options.viewOn));
  const input = documentsOf(catalog, source, depth + 1);
  const pipeline = Array.isArray(coll.options.pipeline) ? (coll.options.pipeline as Document[]) : [];
  return runPipeline(input, pipeline, {
    collection: (name: string) => documentsOf(catalog, catalog.getCollection(coll.db, name), depth + 1),
  });
}
