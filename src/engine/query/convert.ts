// Turns any failure raised while evaluating queries, updates or pipelines into a MongoError.

import { ErrorCodes, MongoError } from '../errors';

const PATTERNS: Array<[RegExp, (m: RegExpMatchArray) => MongoError]> = [
  [/^unknown query operator (\$\w+)/, (m) => new MongoError(ErrorCodes.BadValue, `unknown operator: ${m[1]}`)],
  [/^unknown top level operator: (\$\w+)/, (m) => new MongoError(ErrorCodes.BadValue, `unknown top level operator: ${m[1]}`)],
  [/^unregistered pipeline operator (\$\w+)/, (m) => new MongoError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${m[1]}'`)],
  [/^accumulator '(\$\w+)' is not registered/, (m) => new MongoError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${m[1]}'`)],
  [/^Unknown update operator: '(\$\w+)'/, (m) => new MongoError(ErrorCodes.FailedToParse, `Unknown modifier: ${m[1]}. Expected a valid update modifier or pipeline-style update specified as an array`)],
  [/^Use of undefined variable: (\S+)/, (m) => new MongoError(17276, `Use of undefined variable: ${m[1]}`)],
  [/^timezone '(.*)' is invalid/, (m) => new MongoError(40485, `unrecognized time zone identifier: "${m[1]}"`)],
  [/^\$add expression must resolve to array of numbers/, () => new MongoError(16554, '$add only supports numeric or date types')],
  [/^cannot convert '(.*)' to (\w+)/, (m) => new MongoError(241, `Failed to parse number '${m[1]}' in $convert with no onError value`)],
  [/^\$concat expression must resolve to array of string/, () => new MongoError(16702, '$concat only supports strings')],
  [/^\$divide cannot divide by zero/, () => new MongoError(ErrorCodes.BadValue, "can't $divide by zero")],
  [/^\$(replaceRoot|replaceWith) expression must return an object/, () => new MongoError(40228, "'newRoot' expression must evaluate to an object")],
  [/^Path collision at (\S+?)\.?$/, (m) => new MongoError(31250, `Path collision at ${m[1]}`)],
];

/** Converts an unknown thrown value into a MongoError with the closest MongoDB code. */
export function toMongoError(e: unknown): MongoError {
  if (e instanceof MongoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  for (const [re, make] of PATTERNS) {
    const m = message.match(re);
    if (m) return make(m);
  }
  if (e instanceof RangeError && /call stack/i.test(message)) {
    return new MongoError(ErrorCodes.BadValue, 'expression nesting too deep');
  }
  return new MongoError(ErrorCodes.BadValue, message);
}
