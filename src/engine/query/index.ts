// The engine's query layer: the only entry point other engine parts use for filters, updates, sorts,
// projections and aggregation.

export type { Doc } from './compare';
export { compareValues, valuesEqual, getPath } from './compare';
export { compileFilter } from './filter';
export { applyUpdate, type UpdateOptions, type UpdateResult } from './update';
export { upsertSeed } from './upsert';
export { compileSort } from './sort';
export { applyProjection, type ProjectionOptions } from './projection';
export { runPipeline, validatePipeline, type PipelineContext, type ValidatedPipeline } from './pipeline';
