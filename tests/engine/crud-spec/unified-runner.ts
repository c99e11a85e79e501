// A subset of MongoDB's unified test format, enough for the driver CRUD specification tests.
import {
  MongoClient,
  MongoServerError,
  MongoBulkWriteError,
  MongoClientBulkWriteError,
  ReadPreference,
  type Collection,
  type Db,
  type Document,
  type MongoClientOptions,
  type ReadPreferenceMode,
  type ClientBulkWriteModel,
  type AnyBulkWriteOperation,
} from 'mongodb';
import { EJSON } from 'bson';
import { matchValue } from './matcher';

export interface RunOnRequirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: 'require' | 'forbid' | 'allow';
  auth?: boolean;
  csfle?: boolean;
  serverParameters?: Document;
}

export interface SpecOperation {
  name: string;
  object: string;
  arguments?: Document;
  expectResult?: unknown;
  expectError?: Document;
  saveResultAsEntity?: string;
  ignoreResultAndError?: boolean;
}

export interface SpecTest {
  description: string;
  runOnRequirements?: RunOnRequirement[];
  skipReason?: string;
  operations: SpecOperation[];
  outcome?: CollectionData[];
}

export interface CollectionData {
  collectionName: string;
  databaseName: string;
  documents: Document[];
  createOptions?: Document;
}

export interface SpecFile {
  description: string;
  schemaVersion: string;
  runOnRequirements?: RunOnRequirement[];
  createEntities?: Document[];
  initialData?: CollectionData[];
  tests: SpecTest[];
}

export interface ServerInfo {
  version: string;
  topology: 'single' | 'replicaset' | 'sharded';
}

function versionParts(version: string): number[] {
  const parts = version.split(/[.-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
  while (parts.length < 3) parts.push(0);
  return parts;
}

function compareVersions(a: string, b: string): number {
  const left = versionParts(a);
  const right = versionParts(b);
  for (let i = 0; i < 3; i += 1) if (left[i] !== right[i]) return left[i] - right[i];
  return 0;
}

function requirementUnmet(requirement: RunOnRequirement, server: ServerInfo): string | null {
  if (requirement.minServerVersion && compareVersions(server.version, requirement.minServerVersion) < 0) {
    return `needs server >= ${requirement.minServerVersion} (server is ${server.version})`;
  }
  if (requirement.maxServerVersion && compareVersions(server.version, requirement.maxServerVersion) > 0) {
    return `needs server <= ${requirement.maxServerVersion} (server is ${server.version})`;
  }
  if (requirement.topologies && !requirement.topologies.includes(server.topology)) {
    return `needs topology ${requirement.topologies.join('/')} (server is ${server.topology})`;
  }
  if (requirement.serverless === 'require') return 'needs serverless';
  if (requirement.auth === true) return 'needs authentication';
  if (requirement.csfle === true) return 'needs client-side encryption';
  if (requirement.serverParameters) return 'needs specific server parameters';
  return null;
}

function requirementsUnmet(requirements: RunOnRequirement[] | undefined, server: ServerInfo): string | null {
  if (!requirements || requirements.length === 0) return null;
  const reasons = requirements.map((requirement) => requirementUnmet(requirement, server));
  return reasons.some((reason) => reason === null) ? null : reasons.join(' or ');
}

function containsKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((item) => containsKey(item, key));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([name, inner]) => name === key || containsKey(inner, key));
}

/**
 * Tests that fail with the Node.js driver this project uses whatever the server: the driver itself deviates.
 * Keyed by "<file description>: <test description>".
 */
const nodeDriverDeviations: Record<string, string> = {
  'create-null-ids: inserting _id with type null via insertOne':
    'the Node.js driver 7.8 replaces a null _id with a new ObjectId before sending (utils.ts maybeAddIdToDocuments)',
  'create-null-ids: inserting _id with type null via insertMany':
    'the Node.js driver 7.8 replaces a null _id with a new ObjectId before sending (utils.ts maybeAddIdToDocuments)',
  'create-null-ids: inserting _id with type null via bulkWrite':
    'the Node.js driver 7.8 replaces a null _id with a new ObjectId before sending (utils.ts maybeAddIdToDocuments)',
};

/** Why a test does not apply to a standalone server (or this runner), or null when it applies. */
export function notApplicableReason(file: SpecFile, test: SpecTest, server: ServerInfo): string | null {
  const deviation = nodeDriverDeviations[`${file.description}: ${test.description}`];
  if (deviation) return deviation;
  const fileReason = requirementsUnmet(file.runOnRequirements, server);
  if (fileReason) return fileReason;
  const testReason = requirementsUnmet(test.runOnRequirements, server);
  if (testReason) return testReason;
  if (test.skipReason) return `skipped by the spec: ${test.skipReason}`;
  if (test.operations.some((op) => op.name === 'failPoint' || op.name === 'targetedFailPoint')) return 'needs fail points';
  if (test.operations.some((op) => containsKey(op.arguments, 'collation'))) return 'needs collation';
  if ((file.createEntities ?? []).some((entity) => 'session' in entity) || containsKey(test.operations, 'session')) {
    return 'needs sessions/transactions';
  }
  if ((file.createEntities ?? []).some((entity) => 'clientEncryption' in entity)) return 'needs client-side encryption';
  return null;
}

type Entity = MongoClient | Db | Collection | Document | unknown;

function readPreferenceOf(value: unknown): ReadPreference | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return ReadPreference.fromString(value);
  const spec = value as { mode: string; maxStalenessSeconds?: number };
  return new ReadPreference(spec.mode as ReadPreferenceMode, undefined, { maxStalenessSeconds: spec.maxStalenessSeconds });
}

function objectOptions(options: Document | undefined): Document {
  if (!options) return {};
  const { readPreference, ...rest } = options;
  const result: Document = { ...rest };
  if (readPreference !== undefined) result.readPreference = readPreferenceOf(readPreference);
  return result;
}

function plainResult(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  if (Array.isArray(result)) return result;
  const source = result as Record<string, unknown>;
  if ('insertedCount' in source && 'matchedCount' in source && 'upsertedIds' in source) {
    return {
      insertedCount: source.insertedCount,
      matchedCount: source.matchedCount,
      modifiedCount: source.modifiedCount,
      deletedCount: source.deletedCount,
      upsertedCount: source.upsertedCount,
      insertedIds: source.insertedIds,
      upsertedIds: source.upsertedIds,
      ...(source.insertResults instanceof Map ? { insertResults: Object.fromEntries(source.insertResults) } : {}),
      ...(source.updateResults instanceof Map ? { updateResults: Object.fromEntries(source.updateResults) } : {}),
      ...(source.deleteResults instanceof Map ? { deleteResults: Object.fromEntries(source.deleteResults) } : {}),
    };
  }
  return result;
}

/** Runs one spec test; throws an Error describing every mismatch. */
export class UnifiedTestRun {
  private readonly entities = new Map<string, Entity>();
  private readonly clients: MongoClient[] = [];

  /** `internal` is the runner's own connected client, used for initial data and outcome checks. */
  constructor(
    private readonly uri: string,
    private readonly internal: MongoClient,
    private readonly file: SpecFile,
    private readonly test: SpecTest,
  ) {}

  async run(): Promise<void> {
    const internal = this.internal;
    try {
      await this.prepareData(internal, this.file.initialData ?? []);
      await this.createEntities();
      for (const [index, operation] of this.test.operations.entries()) {
        await this.runOperation(index, operation);
      }
      if (this.test.outcome) await this.checkOutcome(internal, this.test.outcome);
    } finally {
      await Promise.all(this.clients.map((client) => client.close(true).catch(() => undefined)));
    }
  }

  private async prepareData(client: MongoClient, data: CollectionData[]): Promise<void> {
    for (const collectionData of data) {
      const db = client.db(collectionData.databaseName);
      await db.dropCollection(collectionData.collectionName, { writeConcern: { w: 'majority' } }).catch(() => undefined);
      if (collectionData.documents.length > 0 && !collectionData.createOptions) {
        await db.collection(collectionData.collectionName).insertMany(collectionData.documents, { writeConcern: { w: 'majority' } });
      } else {
        await db.createCollection(collectionData.collectionName, { ...(collectionData.createOptions ?? {}), writeConcern: { w: 'majority' } });
        if (collectionData.documents.length > 0) {
          await db.collection(collectionData.collectionName).insertMany(collectionData.documents, { writeConcern: { w: 'majority' } });
        }
      }
    }
  }

  private async createEntities(): Promise<void> {
    for (const definition of this.file.createEntities ?? []) {
      if (definition.client) {
        const spec = definition.client as Document;
        const options: MongoClientOptions = { ...(spec.uriOptions as MongoClientOptions | undefined) };
        const client = new MongoClient(this.uri, options);
        this.clients.push(client);
        await client.connect();
        this.entities.set(spec.id, client);
      } else if (definition.database) {
        const spec = definition.database as Document;
        const client = this.entity<MongoClient>(spec.client);
        this.entities.set(spec.id, client.db(spec.databaseName, objectOptions(spec.databaseOptions)));
      } else if (definition.collection) {
        const spec = definition.collection as Document;
        const db = this.entity<Db>(spec.database);
        this.entities.set(spec.id, db.collection(spec.collectionName, objectOptions(spec.collectionOptions)));
      } else {
        throw new Error(`entity type not supported by this runner: ${Object.keys(definition).join(', ')}`);
      }
    }
  }

  private entity<T>(id: string): T {
    if (!this.entities.has(id)) throw new Error(`unknown entity ${id}`);
    return this.entities.get(id) as T;
  }

  private async runOperation(index: number, operation: SpecOperation): Promise<void> {
    const label = `operation ${index} (${operation.name} on ${operation.object})`;
    let result: unknown;
    let error: unknown;
    try {
      result = plainResult(await this.execute(operation));
    } catch (caught) {
      error = caught;
    }
    if (operation.ignoreResultAndError) return;
    if (operation.expectError) {
      if (error === undefined) {
        throw new Error(`${label}: expected an error ${EJSON.stringify(operation.expectError)}, got result ${EJSON.stringify(result)}`);
      }
      const problems = this.checkError(operation.expectError, error);
      if (problems.length > 0) throw new Error(`${label}: error did not match:\n  ${problems.join('\n  ')}`);
      return;
    }
    if (error !== undefined) {
      const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const code = (error as { code?: unknown }).code;
      throw new Error(`${label}: unexpected error ${described}${code !== undefined ? ` (code ${String(code)})` : ''}`);
    }
    if (operation.saveResultAsEntity) this.entities.set(operation.saveResultAsEntity, result);
    if ('expectResult' in operation) {
      const problems = matchValue(operation.expectResult, result);
      if (problems.length > 0) throw new Error(`${label}: result did not match:\n  ${problems.join('\n  ')}`);
    }
  }

  private checkError(expected: Document, error: unknown): string[] {
    const problems: string[] = [];
    const err = error as MongoServerError & Document;
    const isServer = error instanceof MongoServerError;
    const message = error instanceof Error ? error.message : String(error);
    if (expected.isClientError === true && isServer) problems.push(`expected a client-side error, got server error: ${message}`);
    if (expected.isClientError === false && !isServer) problems.push(`expected a server error, got client-side error: ${message}`);
    if (typeof expected.errorContains === 'string' && !message.toLowerCase().includes(expected.errorContains.toLowerCase())) {
      problems.push(`expected the message to contain "${expected.errorContains}", got "${message}"`);
    }
    if (expected.errorCode !== undefined && err.code !== expected.errorCode) {
      problems.push(`expected code ${expected.errorCode}, got ${String(err.code)} (${message})`);
    }
    if (expected.errorCodeName !== undefined && err.codeName !== expected.errorCodeName) {
      problems.push(`expected codeName ${expected.errorCodeName}, got ${String(err.codeName)}`);
    }
    for (const label of (expected.errorLabelsContain as string[] | undefined) ?? []) {
      if (!err.hasErrorLabel?.(label)) problems.push(`expected error label ${label}`);
    }
    for (const label of (expected.errorLabelsOmit as string[] | undefined) ?? []) {
      if (err.hasErrorLabel?.(label)) problems.push(`unexpected error label ${label}`);
    }
    if (expected.errorResponse !== undefined) {
      problems.push(...matchValue(expected.errorResponse, err.errorResponse ?? {}).map((problem) => `errorResponse ${problem}`));
    }
    if (expected.expectResult !== undefined) {
      const partial =
        error instanceof MongoBulkWriteError
          ? plainResult(error.result)
          : error instanceof MongoClientBulkWriteError
            ? plainResult(error.partialResult)
            : undefined;
      problems.push(...matchValue(expected.expectResult, partial).map((problem) => `partial result ${problem}`));
    }
    if (expected.writeErrors !== undefined) {
      const writeErrors = error instanceof MongoClientBulkWriteError ? Object.fromEntries(error.writeErrors) : undefined;
      problems.push(...matchValue(expected.writeErrors, writeErrors).map((problem) => `writeErrors ${problem}`));
    }
    if (expected.writeConcernErrors !== undefined) {
      const writeConcernErrors = error instanceof MongoClientBulkWriteError ? error.writeConcernErrors : undefined;
      problems.push(...matchValue(expected.writeConcernErrors, writeConcernErrors).map((problem) => `writeConcernErrors ${problem}`));
    }
    return problems;
  }

  private async execute(operation: SpecOperation): Promise<unknown> {
    const args: Document = { ...(operation.arguments ?? {}) };
    const target = this.entity<Entity>(operation.object);
    if (target instanceof MongoClient) return this.clientOperation(target, operation.name, args);
    if (target instanceof Object && 'collectionName' in (target as object)) {
      return this.collectionOperation(target as Collection, operation.name, args);
    }
    if (target instanceof Object && 'databaseName' in (target as object)) return this.databaseOperation(target as Db, operation.name, args);
    if (operation.name === 'iterateUntilDocumentOrError') return (target as { next(): Promise<unknown> }).next();
    if (operation.name === 'close') return (target as { close(): Promise<void> }).close();
    throw new Error(`operation ${operation.name} on ${operation.object} is not supported by this runner`);
  }

  private async clientOperation(client: MongoClient, name: string, args: Document): Promise<unknown> {
    if (name === 'clientBulkWrite') {
      const { models, ...options } = args;
      const converted = (models as Document[]).map((model) => {
        const [kind] = Object.keys(model);
        return { name: kind, ...(model[kind] as Document) };
      });
      return client.bulkWrite(converted as ClientBulkWriteModel[], options);
    }
    if (name === 'listDatabases') return (await client.db('admin').admin().listDatabases(args)).databases;
    throw new Error(`client operation ${name} is not supported by this runner`);
  }

  private async databaseOperation(db: Db, name: string, args: Document): Promise<unknown> {
    switch (name) {
      case 'aggregate': {
        const { pipeline, ...options } = args;
        return db.aggregate(pipeline as Document[], options).toArray();
      }
      case 'runCommand': {
        const { command, ...options } = args;
        return db.command(command as Document, options);
      }
      case 'dropCollection': {
        const { collection, ...options } = args;
        return db.dropCollection(String(collection), options);
      }
      case 'createCollection': {
        const { collection, ...options } = args;
        await db.createCollection(String(collection), options);
        return undefined;
      }
      case 'listCollections': {
        const { filter, ...options } = args;
        return db.listCollections(filter as Document | undefined, options).toArray();
      }
      case 'listCollectionNames': {
        const { filter, ...options } = args;
        return (await db.listCollections(filter as Document | undefined, { ...options, nameOnly: true }).toArray()).map(
          (entry) => entry.name,
        );
      }
      case 'modifyCollection': {
        const { collection, ...options } = args;
        return db.command({ collMod: collection, ...options });
      }
      default:
        throw new Error(`database operation ${name} is not supported by this runner`);
    }
  }

  private async collectionOperation(coll: Collection, name: string, args: Document): Promise<unknown> {
    const { filter, ...rest } = args;
    const query = (filter ?? {}) as Document;
    switch (name) {
      case 'find':
        return coll.find(query, rest).toArray();
      case 'findOne':
        return coll.findOne(query, rest);
      case 'createFindCursor':
        return coll.find(query, rest);
      case 'aggregate': {
        const { pipeline, ...options } = rest;
        return coll.aggregate(pipeline as Document[], options).toArray();
      }
      case 'countDocuments':
        return coll.countDocuments(query, rest);
      case 'estimatedDocumentCount':
        return coll.estimatedDocumentCount(rest);
      case 'count':
        return coll.count(query, rest);
      case 'distinct': {
        const { fieldName, ...options } = rest;
        return coll.distinct(String(fieldName), query, options);
      }
      case 'insertOne': {
        const { document, ...options } = rest;
        return coll.insertOne(document as Document, options);
      }
      case 'insertMany': {
        const { documents, ...options } = rest;
        return coll.insertMany(documents as Document[], options);
      }
      case 'updateOne':
      case 'updateMany': {
        const { update, ...options } = rest;
        return name === 'updateOne'
          ? coll.updateOne(query, update as Document, options)
          : coll.updateMany(query, update as Document, options);
      }
      case 'replaceOne': {
        const { replacement, ...options } = rest;
        return coll.replaceOne(query, replacement as Document, options);
      }
      case 'deleteOne':
        return coll.deleteOne(query, rest);
      case 'deleteMany':
        return coll.deleteMany(query, rest);
      case 'findOneAndUpdate': {
        const { update, returnDocument, ...options } = rest;
        return coll.findOneAndUpdate(query, update as Document, { ...options, ...returnDocumentOption(returnDocument) });
      }
      case 'findOneAndReplace': {
        const { replacement, returnDocument, ...options } = rest;
        return coll.findOneAndReplace(query, replacement as Document, { ...options, ...returnDocumentOption(returnDocument) });
      }
      case 'findOneAndDelete':
        return coll.findOneAndDelete(query, rest);
      case 'bulkWrite': {
        const { requests, ...options } = rest;
        return coll.bulkWrite(requests as AnyBulkWriteOperation[], options);
      }
      case 'createIndex': {
        const { keys, ...options } = rest;
        return coll.createIndex(keys as Document, options);
      }
      case 'dropIndex': {
        const { name: indexName, ...options } = rest;
        return coll.dropIndex(String(indexName), options);
      }
      case 'listIndexes':
        return coll.listIndexes(rest).toArray();
      case 'drop':
        return coll.drop(rest);
      default:
        throw new Error(`collection operation ${name} is not supported by this runner`);
    }
  }

  private async checkOutcome(client: MongoClient, outcome: CollectionData[]): Promise<void> {
    const problems: string[] = [];
    for (const expected of outcome) {
      const docs = await client
        .db(expected.databaseName)
        .collection(expected.collectionName)
        .find({}, { readConcern: { level: 'local' }, readPreference: 'primary' })
        .sort({ _id: 1 })
        .toArray();
      problems.push(
        ...matchValue(expected.documents, docs, `${expected.databaseName}.${expected.collectionName}`, false),
      );
    }
    if (problems.length > 0) throw new Error(`outcome did not match:\n  ${problems.join('\n  ')}`);
  }
}

function returnDocumentOption(value: unknown): { returnDocument?: 'before' | 'after' } {
  if (value === undefined) return {};
  return { returnDocument: String(value).toLowerCase() === 'after' ? 'after' : 'before' };
}
