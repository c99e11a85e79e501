// The mingo operator context the engine runs on: mingo's built-ins with the engine's corrections on top.
// mingo's package `exports` are not visible to TypeScript's node10 resolution, so its subpaths are
// loaded with require() and typed from its shipped declarations.

import type * as CoreT from '../../../node_modules/mingo/types/core';
import type * as QueryT from '../../../node_modules/mingo/types/query';
import type * as AggregatorT from '../../../node_modules/mingo/types/aggregator';
import type * as LazyT from '../../../node_modules/mingo/types/lazy';
import type * as AccumulatorOpsT from '../../../node_modules/mingo/types/operators/accumulator';
import type * as ExpressionOpsT from '../../../node_modules/mingo/types/operators/expression';
import type * as PipelineOpsT from '../../../node_modules/mingo/types/operators/pipeline';
import type * as ProjectionOpsT from '../../../node_modules/mingo/types/operators/projection';
import type * as QueryOpsT from '../../../node_modules/mingo/types/operators/query';
import type * as WindowOpsT from '../../../node_modules/mingo/types/operators/window';
import type { Options } from '../../../node_modules/mingo/types/types';

/* eslint-disable @typescript-eslint/no-require-imports */
const core: typeof CoreT = require('mingo/core');
const queryMod: typeof QueryT = require('mingo/query');
const aggregatorMod: typeof AggregatorT = require('mingo/aggregator');
const lazyMod: typeof LazyT = require('mingo/lazy');
const accumulatorOps: typeof AccumulatorOpsT = require('mingo/operators/accumulator');
const expressionOps: typeof ExpressionOpsT = require('mingo/operators/expression');
const pipelineOps: typeof PipelineOpsT = require('mingo/operators/pipeline');
const projectionOps: typeof ProjectionOpsT = require('mingo/operators/projection');
const queryOps: typeof QueryOpsT = require('mingo/operators/query');
const windowOps: typeof WindowOpsT = require('mingo/operators/window');
/* eslint-enable @typescript-eslint/no-require-imports */

export type MingoOptions = Options;
export type ExpressionFn = (obj: unknown, expr: unknown, options: Options) => unknown;
export type Iter = Parameters<(typeof pipelineOps)['$match']>[0];
export type PipelineFn = (coll: Iter, expr: unknown, options: Options) => Iter;
export type QueryFn = (selector: string, value: unknown, options: Options) => (obj: Record<string, unknown>) => boolean;
export type AccumulatorFn = (coll: unknown[], expr: unknown, options: Options) => unknown;

export const MingoQuery = queryMod.Query;
export const MingoAggregator = aggregatorMod.Aggregator;
export const evalExpr = core.evalExpr;
export const Lazy = lazyMod.Lazy;
export const builtinPipelineOps = pipelineOps as unknown as Record<string, PipelineFn>;
export const builtinExpressionOps = expressionOps as unknown as Record<string, ExpressionFn>;

interface Overrides {
  expression: Record<string, ExpressionFn>;
  pipeline: Record<string, PipelineFn>;
  query: Record<string, QueryFn>;
  accumulator: Record<string, AccumulatorFn>;
}

const overrides: Overrides = { expression: {}, pipeline: {}, query: {}, accumulator: {} };
let context: CoreT.Context | undefined;

/** Registers engine operators that replace or add to mingo's; call at module load, before first use. */
export function registerOperators(kind: keyof Overrides, ops: Record<string, unknown>): void {
  Object.assign(overrides[kind], ops);
  context = undefined;
}

type OpsArg = NonNullable<Parameters<typeof core.Context.init>[0]>;

/** The operator context: built-ins overlaid with the engine's registered operators. */
export function engineContext(): CoreT.Context {
  if (context) return context;
  const ops = {
    accumulator: { ...accumulatorOps, ...overrides.accumulator },
    expression: { ...expressionOps, ...overrides.expression },
    pipeline: { ...pipelineOps, ...overrides.pipeline },
    projection: { ...projectionOps },
    query: { ...queryOps, ...overrides.query },
    window: { ...windowOps },
  } as unknown as OpsArg;
  context = core.Context.init(ops);
  return context;
}

/** Options for mingo calls made by the engine. */
export function engineOptions(extra: Partial<Options> = {}): Partial<Options> {
  return {
    context: engineContext(),
    processingMode: core.ProcessingMode.CLONE_OFF,
    useStrictMode: true,
    scriptEnabled: false,
    ...extra,
  };
}

/** Whether an expression operator name is known to the context. */
export function hasExpressionOperator(name: string): boolean {
  return engineContext().getOperator(core.OpType.EXPRESSION, name) !== null
    || engineContext().getOperator(core.OpType.ACCUMULATOR, name) !== null;
}

/** Whether a pipeline stage name is known to the context. */
export function hasPipelineOperator(name: string): boolean {
  return engineContext().getOperator(core.OpType.PIPELINE, name) !== null;
}
