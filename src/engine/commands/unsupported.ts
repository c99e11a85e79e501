// Options the engine cannot honour are refused with an error naming them, never silently ignored.
import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject } from '../catalog/semantics';

/** Accepts only the simple (binary) collation, which is what the engine implements. */
export function checkCollation(collation: unknown): void {
  if (collation === undefined || collation === null) return;
  if (!isPlainObject(collation)) throw new MongoError(ErrorCodes.TypeMismatch, "BSON field 'collation' is the wrong type, expected type 'object'");
  const keys = Object.keys(collation);
  if (keys.length === 0) return;
  if (keys.length === 1 && collation.locale === 'simple') return;
  throw new MongoError(
    ErrorCodes.NotImplemented,
    `collation ${JSON.stringify(collation)} is not supported by the embedded engine (only { locale: 'simple' })`,
  );
}
