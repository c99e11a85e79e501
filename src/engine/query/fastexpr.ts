// Compiled forms of the aggregation expressions that dominate grouping workloads (field paths, literals,
// date formatting and truncation with constant arguments); anything else is evaluated by mingo.

import { isPlainObject, type Doc } from './compare';
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
    const arg = expr[keys[0]];
    let fast: Compiled | undefined;
    if (keys[0] === '$dateToString' && isPlainObject(arg)) fast = compileDateToString(arg);
    if (keys[0] === '$dateTrunc' && isPlainObject(arg)) fast = compileDateTrunc(arg);
    return fast ?? fallback(expr);
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
