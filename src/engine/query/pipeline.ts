// Aggregation pipelines: shape validation and execution over in-memory documents.

import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject, type Doc } from './compare';
import { guard } from './convert';
import { MingoAggregator, engineOptions, hasPipelineOperator } from './mingo';

export interface PipelineContext {
  collection(name: string): Doc[];
  variables?: Doc;
}

export interface ValidatedPipeline {
  stages: Doc[];
  output?: { kind: '$out' | '$merge'; spec: unknown };
}

/** Checks a pipeline's shape: an array of one-key stage documents, known stages, $out/$merge only last. */
export function validatePipeline(pipeline: unknown): ValidatedPipeline {
  if (!Array.isArray(pipeline)) {
    throw new MongoError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  }
  const stages: Doc[] = [];
  let output: ValidatedPipeline['output'];
  pipeline.forEach((stage: unknown, i: number) => {
    if (!isPlainObject(stage)) {
      throw new MongoError(ErrorCodes.TypeMismatch, 'Each element of the \'pipeline\' array must be an object');
    }
    const keys = Object.keys(stage);
    if (keys.length !== 1) {
      throw new MongoError(
        ErrorCodes.Location40323,
        'A pipeline stage specification object must contain exactly one field.',
      );
    }
    const name = keys[0];
    if (name === '$out' || name === '$merge') {
      if (i !== pipeline.length - 1) {
        throw new MongoError(40601, `${name} can only be the final stage in the pipeline`);
      }
      output = { kind: name, spec: stage[name] };
      return;
    }
    if (!hasPipelineOperator(name) || !name.startsWith('$')) {
      throw new MongoError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    }
    stages.push(stage);
  });
  return output ? { stages, output } : { stages };
}

/** Runs pipeline stages (no $out/$merge) over docs; inputs are never mutated. */
export function runPipeline(docs: Iterable<Doc>, pipeline: Doc[], ctx: PipelineContext): Doc[] {
  const { stages, output } = validatePipeline(pipeline);
  if (output) throw new MongoError(ErrorCodes.BadValue, `${output.kind} must be handled by the caller`);
  return guard(() => {
    const agg = new MingoAggregator(
      stages,
      engineOptions({ collectionResolver: (name: string) => ctx.collection(name), variables: ctx.variables }),
    );
    return agg.run(Array.from(docs)) as Doc[];
  });
}
