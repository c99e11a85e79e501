// The $group stage: hashing of group keys and the common accumulators done natively; other accumulators
// are computed by mingo over each group's documents.

import { MongoError } from '../errors';
import { compareValues, isPlainObject, toNumber, typeRank, TypeRank, valuesEqual, type Doc } from './compare';
import { checkExpression } from './expression';
import { groupKey } from './hashkey';
import { compileExpression, type Compiled } from './fastexpr';
import { evalExpr, Lazy, registerOperators, type Iter, type MingoOptions } from './mingo';

interface Accumulator {
  add(doc: Doc): void;
  result(): unknown;
}

type AccFactory = () => Accumulator;

const NATIVE = new Set(['$sum', '$avg', '$min', '$max', '$first', '$last', '$push', '$addToSet', '$count']);

function isNumber(v: unknown): boolean {
  return typeof v === 'number' || (v !== null && typeof v === 'object' && typeRank(v) === TypeRank.Number);
}

function nativeFactory(op: string, arg: unknown, options: MingoOptions): AccFactory {
  const f: Compiled = compileExpression(arg);
  switch (op) {
    case '$count':
      return () => {
        let n = 0;
        return { add: () => { n++; }, result: () => n };
      };
    case '$sum':
      if (typeof arg === 'number') {
        return () => {
          let n = 0;
          return { add: () => { n++; }, result: () => n * arg };
        };
      }
      return () => {
        let total = 0;
        return {
          add: (d) => {
            const v = f(d, options);
            if (typeof v === 'number') total += v;
            else if (isNumber(v)) total += toNumber(v);
            else if (Array.isArray(v) && !Array.isArray(arg)) return;
          },
          result: () => total,
        };
      };
    case '$avg':
      return () => {
        let total = 0;
        let count = 0;
        return {
          add: (d) => {
            const v = f(d, options);
            if (isNumber(v)) {
              total += toNumber(v);
              count++;
            }
          },
          result: () => (count === 0 ? null : total / count),
        };
      };
    case '$min':
    case '$max':
      return () => {
        let best: unknown;
        return {
          add: (d) => {
            const v = f(d, options);
            if (v === null || v === undefined) return;
            if (best === undefined) best = v;
            else {
              const c = compareValues(v, best);
              if (op === '$min' ? c < 0 : c > 0) best = v;
            }
          },
          result: () => (best === undefined ? null : best),
        };
      };
    case '$first':
      return () => {
        let seen = false;
        let value: unknown = null;
        return {
          add: (d) => {
            if (!seen) {
              seen = true;
              const v = f(d, options);
              value = v === undefined ? null : v;
            }
          },
          result: () => value,
        };
      };
    case '$last':
      return () => {
        let value: unknown = null;
        return {
          add: (d) => {
            const v = f(d, options);
            value = v === undefined ? null : v;
          },
          result: () => value,
        };
      };
    case '$push':
      return () => {
        const values: unknown[] = [];
        return {
          add: (d) => {
            const v = f(d, options);
            if (v !== undefined) values.push(v);
          },
          result: () => values,
        };
      };
    default:
      return () => {
        const values: unknown[] = [];
        const keys = new Set<string>();
        return {
          add: (d) => {
            const v = f(d, options);
            if (v === undefined) return;
            const k = groupKey(v);
            if (keys.has(k)) return;
            if (!k.startsWith('x') || !values.some((x) => valuesEqual(x, v))) {
              keys.add(k);
              values.push(v);
            }
          },
          result: () => values,
        };
      };
  }
}

function fallbackFactory(op: string, arg: unknown, options: MingoOptions): AccFactory {
  return () => {
    const members: Doc[] = [];
    return {
      add: (d) => { members.push(d); },
      result: () => evalExpr(members, { [op]: arg }, options),
    };
  };
}

function $group(coll: Iter, expr: unknown, options: MingoOptions): Iter {
  if (!isPlainObject(expr)) throw new MongoError(15947, 'a group\'s fields must be specified in an object');
  if (!('_id' in expr)) throw new MongoError(15955, 'a group specification must specify an _id');
  checkExpression(expr._id);
  const idOf = compileExpression(expr._id);
  const fields: Array<[string, AccFactory]> = [];
  for (const [name, spec] of Object.entries(expr)) {
    if (name === '_id') continue;
    if (name.includes('.')) throw new MongoError(40235, `The field name '${name}' cannot contain '.'`);
    if (!isPlainObject(spec) || Object.keys(spec).length !== 1) {
      throw new MongoError(40234, `The field '${name}' must be an accumulator object`);
    }
    const [op] = Object.keys(spec);
    const arg = spec[op];
    if (op === '$count' && !(isPlainObject(arg) && Object.keys(arg).length === 0)) {
      throw new MongoError(40234, `$count takes no arguments, i.e. $count:{}`);
    }
    checkExpression(arg);
    if (NATIVE.has(op)) fields.push([name, nativeFactory(op, arg, options)]);
    else if (evalExprKnowsAccumulator(op, options)) fields.push([name, fallbackFactory(op, arg, options)]);
    else throw new MongoError(15952, `unknown group operator '${op}'`);
  }
  return coll.transform((docs: Doc[]) => {
    const groups = new Map<string, { id: unknown; accs: Accumulator[] }>();
    for (const doc of docs) {
      let id = idOf(doc, options);
      if (id === undefined) id = null;
      const key = groupKey(id);
      let g = groups.get(key);
      if (!g) {
        g = { id, accs: fields.map(([, make]) => make()) };
        groups.set(key, g);
      }
      for (const acc of g.accs) acc.add(doc);
    }
    const out: Doc[] = [];
    for (const g of groups.values()) {
      const row: Doc = { _id: g.id };
      fields.forEach(([name], i) => {
        row[name] = g.accs[i].result();
      });
      out.push(row);
    }
    return Lazy(out);
  });
}

function evalExprKnowsAccumulator(op: string, options: MingoOptions): boolean {
  return options.context.getOperator('accumulator' as never, op) !== null;
}

registerOperators('pipeline', { $group });
