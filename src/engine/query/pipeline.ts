// Aggregation pipelines: shape validation and execution over in-memory documents.

import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject, type Doc } from './compare';
import { toMongoError } from './convert';
import './dates';
import './strings';
import './group';
import { MingoAggregator, engineOptions, hasPipelineOperator, type MingoOptions } from './mingo';
import { COPY_STAGE, setSubPipelineRunner } from './stages';

export interface PipelineContext {
  collection(name: string): Doc[];
  variables?: Doc;
}

export interface ValidatedPipeline {
  stages: Doc[];
  output?: { kind: '$out' | '$merge'; spec: unknown };
}

/** Stages that only read documents or build new ones, so earlier stages need no copy of the input. */
const NON_MUTATING = new Set(['$match', '$sort', '$limit', '$skip', '$count', '$group', '$sortByCount', '$bucket', '$sample', '$project']);

/** Stages MongoDB has that this engine does not provide. */
const UNSUPPORTED_STAGES = new Set([
  '$collStats', '$indexStats', '$geoNear', '$search', '$searchMeta', '$vectorSearch', '$changeStream',
  '$currentOp', '$listSessions', '$listLocalSessions', '$planCacheStats', '$listSearchIndexes',
  // Window functions are not implemented; the library underneath would answer with an unrelated error.
  '$setWindowFields',
]);

/** Checks a pipeline's shape: an array of one-key stage documents, known stages, $out/$merge only last. */
export function validatePipeline(pipeline: unknown): ValidatedPipeline {
  if (!Array.isArray(pipeline)) {
    throw new MongoError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  }
  const stages: Doc[] = [];
  let output: ValidatedPipeline['output'];
  pipeline.forEach((stage: unknown, i: number) => {
    if (!isPlainObject(stage)) {
      throw new MongoError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
    }
    const keys = Object.keys(stage);
    if (keys.length !== 1) {
      throw new MongoError(ErrorCodes.Location40323, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = keys[0];
    if (name === '$out' || name === '$merge') {
      if (i !== pipeline.length - 1) {
        throw new MongoError(40601, `${name} can only be the final stage in the pipeline`);
      }
      output = { kind: name, spec: stage[name] };
      return;
    }
    if (UNSUPPORTED_STAGES.has(name)) {
      throw new MongoError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}' (not supported by this engine)`);
    }
    if (!name.startsWith('$') || name === COPY_STAGE || !hasPipelineOperator(name)) {
      throw new MongoError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    }
    stages.push(stage);
  });
  return output ? { stages, output } : { stages };
}

/** Inserts the copy stage before the first stage that may modify documents in place. */
function withCopy(stages: Doc[]): Doc[] {
  const i = stages.findIndex((s) => !NON_MUTATING.has(Object.keys(s)[0]));
  if (i < 0) return stages;
  return [...stages.slice(0, i), { [COPY_STAGE]: 1 }, ...stages.slice(i)];
}

function execute(docs: Doc[], stages: Doc[], options: Partial<MingoOptions>): Doc[] {
  try {
    return new MingoAggregator(withCopy(stages), options).run(docs) as Doc[];
  } catch (e) {
    throw toMongoError(e);
  }
}

setSubPipelineRunner((docs, stages, variables, options) => {
  const { stages: checked, output } = validatePipeline(stages);
  if (output) throw new MongoError(51047, `${output.kind} is not allowed to be used within a $lookup stage`);
  return execute(docs, checked, engineOptions({ collectionResolver: options.collectionResolver, variables }));
});

/** Runs pipeline stages (no $out/$merge) over docs; inputs are never mutated. */
export function runPipeline(docs: Iterable<Doc>, pipeline: Doc[], ctx: PipelineContext): Doc[] {
  const { stages, output } = validatePipeline(pipeline);
  if (output) throw new MongoError(ErrorCodes.BadValue, `${output.kind} must be handled by the caller`);
  const source = Array.isArray(docs) ? docs : Array.from(docs);
  return execute(source, stages, engineOptions({
    collectionResolver: (name: string) => ctx.collection(name),
    variables: ctx.variables,
  }));
}
