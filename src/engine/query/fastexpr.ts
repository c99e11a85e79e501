// Compiled forms of the aggregation expressions that dominate grouping workloads (field paths, literals,
// date formatting and truncation with constant arguments); anything else is evaluated by mingo.

import { compareValues, isPlainObject, type Doc } from './compare';
import { formatDate, toInstant, truncateDate } from './dates';
import { evalExpr, type MingoOptions } from './mingo';
import { resolveZone } from './timezone';
import { toMongoError } from './convert';

export type Compiled = (doc: Doc, options: MingoOptions) => unknown;

function fallback(expr: unknown): Compiled {
  return (doc, options) => {
    try {
      return evalExpr(doc, expr, options);
    } catch (e) {
      throw toMongoError(e);
    }
  };
}

function isSimplePath(expr: unknown): expr is string {
  return typeof expr === 'string' && expr.length > 1 && expr[0] === '$' && expr[1] !== '$';
}

function compilePath(expr: string): Compiled {
  const parts = expr.slice(1).split('.');
  const slow = fallback(expr);
  if (parts.length === 1) {
    const key = parts[0];
    return (doc, options) => {
      const v = doc[key];
      return Array.isArray(v) ? slow(doc, options) : v;
    };
  }
  return (doc, options) => {
    let cur: unknown = doc;
    for (const p of parts) {
      if (Array.isArray(cur)) return slow(doc, options);
      if (!isPlainObject(cur)) return undefined;
      cur = cur[p];
    }
    return cur;
  };
}

function constantString(v: unknown): v is string {
  return typeof v === 'string' && !v.startsWith('$');
}

function compileDateToString(spec: Doc): Compiled | undefined {
  const keys = Object.keys(spec);
  if (!keys.every((k) => k === 'date' || k === 'format' || k === 'timezone')) return undefined;
  if (!isSimplePath(spec.date)) return undefined;
  if (spec.format !== undefined && !constantString(spec.format)) return undefined;
  if (spec.timezone !== undefined && !constantString(spec.timezone)) return undefined;
  const format = spec.format ?? '%Y-%m-%dT%H:%M:%S.%LZ';
  const zone = resolveZone(spec.timezone);
  formatDate(0, format, zone);
  const date = compilePath(spec.date);
  return (doc, options) => {
    const instant = toInstant(date(doc, options), '$dateToString');
    return instant === null ? null : formatDate(instant, format, zone);
  };
}

function compileDateTrunc(spec: Doc): Compiled | undefined {
  const keys = Object.keys(spec);
  if (!keys.every((k) => ['date', 'unit', 'timezone', 'startOfWeek', 'binSize'].includes(k))) return undefined;
  if (!isSimplePath(spec.date) || !constantString(spec.unit)) return undefined;
  if (!['year', 'quarter', 'month', 'day', 'hour', 'minute', 'second', 'millisecond'].includes(spec.unit)) return undefined;
  if (spec.timezone !== undefined && !constantString(spec.timezone)) return undefined;
  if (spec.startOfWeek !== undefined || (spec.binSize !== undefined && spec.binSize !== 1)) return undefined;
  const zone = resolveZone(spec.timezone);
  const unit = spec.unit;
  const date = compilePath(spec.date);
  return (doc, options) => {
    const instant = toInstant(date(doc, options), '$dateTrunc');
    return instant === null ? null : new Date(truncateDate(instant, unit, 1, zone, 0));
  };
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  $eq: (c) => c === 0,
  $ne: (c) => c !== 0,
  $gt: (c) => c > 0,
  $gte: (c) => c >= 0,
  $lt: (c) => c < 0,
  $lte: (c) => c <= 0,
};

/** Aggregation comparison: full BSON order, with a missing value below null. */
function compareExpr(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) {
    if (a === undefined && b === undefined) return 0;
    return a === undefined ? -1 : 1;
  }
  return compareValues(a, b);
}

function truthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0);
}

function compileOperator(op: string, arg: unknown): Compiled | undefined {
  if (op === '$cmp' && Array.isArray(arg) && arg.length === 2) {
    const [l, r] = [compileExpression(arg[0]), compileExpression(arg[1])];
    return (doc, options) => Math.sign(compareExpr(l(doc, options), r(doc, options)));
  }
  const cmp = COMPARISONS[op];
  if (cmp && Array.isArray(arg) && arg.length === 2) {
    const [l, r] = [compileExpression(arg[0]), compileExpression(arg[1])];
    return (doc, options) => cmp(compareExpr(l(doc, options), r(doc, options)));
  }
  if ((op === '$and' || op === '$or') && Array.isArray(arg)) {
    const parts = arg.map((a) => compileExpression(a));
    return op === '$and'
      ? (doc, options) => parts.every((p) => truthy(p(doc, options)))
      : (doc, options) => parts.some((p) => truthy(p(doc, options)));
  }
  if (op === '$dateToString' && isPlainObject(arg)) return compileDateToString(arg);
  if (op === '$dateTrunc' && isPlainObject(arg)) return compileDateTrunc(arg);
  return undefined;
}

/** Compiles an expression; the result behaves exactly like mingo's evaluation with the engine's operators. */
export function compileExpression(expr: unknown): Compiled {
  if (isSimplePath(expr)) return compilePath(expr);
  if (expr === null || typeof expr !== 'object') {
    if (typeof expr === 'string' && expr.startsWith('$$')) return fallback(expr);
    return () => expr;
  }
  if (expr instanceof Date || !isPlainObject(expr)) return fallback(expr);
  const keys = Object.keys(expr);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    return compileOperator(keys[0], expr[keys[0]]) ?? fallback(expr);
  }
  if (keys.length > 0 && !keys.some((k) => k.startsWith('$'))) {
    const fields = keys.map((k) => [k, compileExpression(expr[k])] as const);
    return (doc, options) => {
      const out: Doc = {};
      for (const [k, f] of fields) {
        const v = f(doc, options);
        if (v !== undefined) out[k] = v;
      }
      return out;
    };
  }
  return fallback(expr);
}
