// Shared by the query semantics tests: the MongoError a call throws.
import { MongoError } from '../../../src/engine/errors';

/** The MongoError `fn` throws; fails the test when it throws something else or nothing. */
export function errorOf(fn: () => unknown): MongoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MongoError) return e;
    throw new Error(`expected MongoError, got ${String(e)}`);
  }
  throw new Error('expected an error');
}
