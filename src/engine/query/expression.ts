// Aggregation expressions: evaluation through the engine's mingo context, with strict operator names.

import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject, type Doc } from './compare';
import { toMongoError } from './convert';
import { compileExpression } from './fastexpr';
import './dates';
import './strings';
import { engineOptions, evalExpr, hasExpressionOperator, registerOperators, type MingoOptions } from './mingo';

/** Throws code 168 for any `$name` key in an expression that is not a known expression operator. */
export function checkExpression(expr: unknown): void {
  if (Array.isArray(expr)) {
    for (const e of expr) checkExpression(e);
    return;
  }
  if (!isPlainObject(expr)) return;
  const keys = Object.keys(expr);
  if (keys.length > 0 && keys[0].startsWith('$')) {
    const op = keys[0];
    if (keys.length > 1) {
      throw new MongoError(15983, `an expression specification must contain exactly one field, the name of the expression. Found ${keys.length} fields in ${JSON.stringify(expr)}`);
    }
    if (op === '$literal') return;
    if (op === CAPTURE_OP || !hasExpressionOperator(op)) {
      throw new MongoError(ErrorCodes.InvalidPipelineOperator, `Unrecognized expression '${op}'`);
    }
    checkExpression(expr[op]);
    return;
  }
  for (const k of keys) checkExpression(expr[k]);
}

/**
 * mingo copies its whole operator table whenever it is handed plain options, so expressions are evaluated
 * with a prepared options object obtained from mingo itself through this internal operator.
 */
const CAPTURE_OP = '$__engineOptions';
registerOperators('expression', { [CAPTURE_OP]: (_obj: unknown, _expr: unknown, options: MingoOptions) => options });

const optionsCache = new WeakMap<object, MingoOptions>();
let plainOptions: MingoOptions | undefined;

function prepare(variables: Doc | undefined): MingoOptions {
  const captured = evalExpr({}, { [CAPTURE_OP]: 1 }, engineOptions({ variables }) as MingoOptions) as MingoOptions & {
    update(locals: Record<string, unknown>): MingoOptions;
  };
  return captured.update({ root: null });
}

function optionsFor(variables: Doc | undefined): MingoOptions {
  if (!variables) {
    plainOptions ??= prepare(undefined);
    return plainOptions;
  }
  let o = optionsCache.get(variables);
  if (!o) {
    o = prepare(variables);
    optionsCache.set(variables, o);
  }
  return o;
}

/** Compiles an expression once for repeated evaluation against documents. */
export function compileForDocs(expr: unknown, variables?: Doc): (doc: Doc) => unknown {
  checkExpression(expr);
  const options = optionsFor(variables);
  const f = compileExpression(expr);
  return (doc) => f(doc, options);
}

/** Evaluates an aggregation expression against a document (checkOnly: validate operator names only). */
export function evaluateExpression(doc: Doc, expr: unknown, variables?: Doc, checkOnly = false): unknown {
  if (checkOnly) {
    checkExpression(expr);
    return undefined;
  }
  try {
    return evalExpr(doc, expr, optionsFor(variables));
  } catch (e) {
    throw toMongoError(e);
  }
}

/** Aggregation truthiness: false, null, undefined and 0 are false; everything else is true. */
export function isTruthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0);
}
