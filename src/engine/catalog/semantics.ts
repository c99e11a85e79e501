// The query semantics the catalog and commands use: a thin facade over the engine's query module.
export {
  applyProjection,
  applyUpdate,
  compareValues,
  compileFilter,
  compileSort,
  getPath,
  runPipeline,
  upsertSeed,
  validatePipeline,
  valuesEqual,
  type Doc,
} from '../query';
export { cloneValue as cloneDoc, isPlainObject } from '../query/compare';
