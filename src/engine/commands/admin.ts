// Handshake, server information and other administrative commands.
import { BSON, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { compileFilter } from '../catalog/semantics';
import type { Collection } from '../catalog/collection';
import type { CommandContext, CommandHandler } from './context';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
export const VERSION = '7.0.0';

function helloReply(cmd: Document, ctx: CommandContext, legacy: boolean): Document {
  const reply: Document = {};
  if (cmd.helloOk === true) reply.helloOk = true;
  if (legacy) reply.ismaster = true;
  else reply.isWritablePrimary = true;
  Object.assign(reply, {
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  });
  return reply;
}

/** Rough BSON size of a collection's documents (for stats). */
function dataSize(coll: Collection): number {
  let total = 0;
  for (const rec of coll.records.values()) total += BSON.calculateObjectSize(rec.doc);
  return total;
}

function collectionStats(coll: Collection): Document {
  const size = dataSize(coll);
  const indexSizes: Document = {};
  for (const index of coll.indexes.values()) indexSizes[index.name] = index.list.size * 32;
  const totalIndexSize = Object.values(indexSizes).reduce((a: number, b: number) => a + b, 0);
  return {
    ns: coll.ns,
    size,
    count: coll.size,
    avgObjSize: coll.size ? Math.floor(size / coll.size) : 0,
    storageSize: size,
    nindexes: coll.indexes.size,
    totalIndexSize,
    totalSize: size + totalIndexSize,
    indexSizes,
    scaleFactor: 1,
    capped: false,
  };
}

const hello: CommandHandler = (cmd, ctx) => helloReply(cmd, ctx, false);
const isMaster: CommandHandler = (cmd, ctx) => helloReply(cmd, ctx, true);

const buildInfo: CommandHandler = () => ({
  version: VERSION,
  gitVersion: 'embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['embedded'],
  modules: [],
  javascriptEngine: 'none',
  openssl: { running: 'disabled' },
  ok: 1,
});

const getParameter: CommandHandler = (cmd) => {
  const known: Document = {
    featureCompatibilityVersion: { version: '7.0' },
    authenticationMechanisms: [],
    maxBSONDepth: 100,
    internalQueryMaxBlockingSortMemoryUsageBytes: 104857600,
  };
  if (cmd.getParameter === '*') return { ...known, ok: 1 };
  const out: Document = {};
  for (const key of Object.keys(cmd)) {
    if (key === 'getParameter' || key.startsWith('$') || key === 'lsid' || key === 'comment') continue;
    if (!(key in known)) throw new MongoError(ErrorCodes.InvalidOptions, `no option found to get`);
    out[key] = known[key];
  }
  if (Object.keys(out).length === 0) throw new MongoError(ErrorCodes.InvalidOptions, 'no option found to get');
  return { ...out, ok: 1 };
};

const listDatabases: CommandHandler = (cmd, ctx) => {
  let dbs: Document[] = [...ctx.catalog.databases.keys()].sort().map((name) => {
    const sizeOnDisk = ctx.catalog.collections(name).reduce((n, c) => n + dataSize(c), 0);
    return { name, sizeOnDisk, empty: sizeOnDisk === 0 };
  });
  if (cmd.filter !== undefined && cmd.filter !== null) {
    const pred = compileFilter(cmd.filter as Document);
    dbs = dbs.filter((d) => pred(d));
  }
  if (cmd.nameOnly === true) return { databases: dbs.map((d) => ({ name: d.name })), ok: 1 };
  const totalSize = dbs.reduce((n, d) => n + (d.sizeOnDisk as number), 0);
  return { databases: dbs, totalSize, totalSizeMb: Math.floor(totalSize / (1024 * 1024)), ok: 1 };
};

const dbStats: CommandHandler = (_cmd, ctx) => {
  const colls = ctx.catalog.collections(ctx.db);
  const stats = colls.map(collectionStats);
  const sum = (field: string): number => stats.reduce((n, s) => n + (s[field] as number), 0);
  const objects = sum('count');
  const dataSizeTotal = sum('size');
  return {
    db: ctx.db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects ? dataSizeTotal / objects : 0,
    dataSize: dataSizeTotal,
    storageSize: dataSizeTotal,
    indexes: sum('nindexes'),
    indexSize: sum('totalIndexSize'),
    totalSize: dataSizeTotal + sum('totalIndexSize'),
    scaleFactor: 1,
    ok: 1,
  };
};

const collStats: CommandHandler = (cmd, ctx) => {
  const name = String(cmd.collStats);
  const coll = ctx.catalog.getCollection(ctx.db, name);
  if (!coll) throw new MongoError(ErrorCodes.NamespaceNotFound, `Collection [${ctx.db}.${name}] not found.`);
  return { ...collectionStats(coll), ok: 1 };
};

const serverStatus: CommandHandler = (_cmd, ctx) => {
  const mem = process.memoryUsage();
  return {
    host: `${ctx.server.host}:${ctx.server.port}`,
    version: VERSION,
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor((Date.now() - ctx.server.startedAt.getTime()) / 1000),
    uptimeMillis: Date.now() - ctx.server.startedAt.getTime(),
    localTime: new Date(),
    connections: { current: ctx.server.connections(), available: 1000, totalCreated: ctx.server.totalConnections() },
    mem: { bits: 64, resident: Math.round(mem.rss / 1048576), virtual: Math.round(mem.rss / 1048576), supported: true },
    metrics: { cursor: { open: { total: ctx.cursors.size } } },
    ok: 1,
  };
};

const connectionStatus: CommandHandler = () => ({
  authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
  ok: 1,
});

const whatsmyuri: CommandHandler = (_cmd, ctx) => ({ you: ctx.remoteAddress, ok: 1 });

const authNotSupported: CommandHandler = () => {
  throw new MongoError(
    ErrorCodes.AuthenticationFailed,
    'Authentication is not supported by the embedded engine: connect without credentials',
  );
};

export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster,
  ismaster: isMaster,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: (cmd, ctx) => {
    ctx.sessions.end(cmd.endSessions);
    return { ok: 1 };
  },
  killSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => {
    throw new MongoError(ErrorCodes.CommandNotFound, "no such command: 'startSession'");
  },
  listDatabases,
  dbStats,
  collStats,
  serverStatus,
  connectionStatus,
  whatsmyuri,
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: 'localhost', cpuAddrSize: 64 }, os: { type: process.platform }, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['mongod'], parsed: {}, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  saslStart: authNotSupported,
  saslContinue: authNotSupported,
  authenticate: authNotSupported,
  logout: () => ({ ok: 1 }),
  getFreeMonitoringStatus: () => ({ state: 'disabled', ok: 1 }),
};
