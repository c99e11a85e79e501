// Command-level `let`: each value is an aggregation expression, evaluated once before the command runs.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject, runPipeline } from '../catalog/semantics';

/** The variables a command's `let` option defines, or undefined without one. */
export function evaluateLet(raw: unknown, command = 'command'): Document | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) {
    throw new MongoError(ErrorCodes.TypeMismatch, `BSON field '${command}.let' is the wrong type, expected type 'object'`);
  }
  const names = Object.keys(raw);
  if (names.length === 0) return {};
  for (const name of names) {
    if (!/^[a-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(name)) {
      throw new MongoError(ErrorCodes.FailedToParse, `'${name}' starts with an invalid character for a user variable name`);
    }
  }
  const [evaluated] = runPipeline([{}], [{ $set: raw }], { collection: () => [] });
  const vars: Document = {};
  for (const name of names) vars[name] = evaluated?.[name];
  return vars;
}
