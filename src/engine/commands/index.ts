// Command dispatch: finds the handler, applies the rules every command shares, turns failures into error replies.
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors';
import { isPlainObject } from '../catalog/semantics';
import { adminCommands } from './admin';
import { aggregateCommands } from './aggregate';
import type { CommandContext, CommandHandler, CommandReply } from './context';
import { collectionName, ddlCommands } from './ddl';
import { explainQuery, findShape, objectField, readCommands } from './reads';
import { writeCommands } from './writes';
import { StorageError } from '../storage';

export { RawReply, type CommandContext, type CommandReply, type EngineLogger, type ServerInfo } from './context';

const TXN_MESSAGE = 'Transaction numbers are only allowed on a replica set member or mongos';

const transactionCommand: CommandHandler = () => {
  throw new MongoError(ErrorCodes.IllegalOperation, TXN_MESSAGE);
};

const explain: CommandHandler = (cmd, ctx) => {
  const inner = cmd.explain;
  if (!isPlainObject(inner)) throw new MongoError(ErrorCodes.FailedToParse, 'explain command requires a nested object');
  const name = Object.keys(inner)[0];
  switch (name) {
    case 'find': {
      const shape = findShape(inner);
      return explainQuery(ctx, collectionName(inner, ctx), shape);
    }
    case 'count':
    case 'distinct': {
      const filter = objectField(inner, 'query') ?? {};
      return explainQuery(ctx, collectionName(inner, ctx), { filter, skip: 0, limit: 0, reverseNatural: false });
    }
    case 'findAndModify':
    case 'findandmodify': {
      const filter = objectField(inner, 'query') ?? {};
      const sort = objectField(inner, 'sort');
      return explainQuery(ctx, collectionName(inner, ctx), { filter, sort, skip: 0, limit: 1, reverseNatural: false });
    }
    case 'update':
    case 'delete': {
      const list = inner[name === 'update' ? 'updates' : 'deletes'];
      const first = Array.isArray(list) && isPlainObject(list[0]) ? list[0] : {};
      const filter = isPlainObject(first.q) ? first.q : {};
      const multi = name === 'update' ? first.multi === true : Number(first.limit ?? 0) === 0;
      return explainQuery(ctx, collectionName(inner, ctx), { filter, skip: 0, limit: multi ? 0 : 1, reverseNatural: false });
    }
    case 'aggregate':
      return aggregateCommands.aggregate({ ...inner, explain: true }, ctx);
    default:
      throw new MongoError(ErrorCodes.CommandNotFound, `Explain failed due to unknown command: ${name}`);
  }
};

const handlers: Record<string, CommandHandler> = {
  ...adminCommands,
  ...ddlCommands,
  ...readCommands,
  ...writeCommands,
  ...aggregateCommands,
  explain,
  commitTransaction: transactionCommand,
  abortTransaction: transactionCommand,
};

/** Commands whose reply is answered before the caller's database is checked (handshake and the like). */
function commandName(cmd: Document): string {
  const name = Object.keys(cmd)[0];
  if (name === undefined) throw new MongoError(ErrorCodes.FailedToParse, 'empty command document');
  return name;
}

/** Runs one command and always returns a reply (error replies included). */
export async function runCommand(cmd: Document, ctx: CommandContext): Promise<CommandReply> {
  let name = '';
  try {
    name = commandName(cmd);
    const handler = Object.prototype.hasOwnProperty.call(handlers, name) ? handlers[name] : undefined;
    if (!handler) throw new MongoError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
    if ('txnNumber' in cmd || 'startTransaction' in cmd || 'autocommit' in cmd) {
      throw new MongoError(ErrorCodes.IllegalOperation, TXN_MESSAGE);
    }
    return await handler(cmd, ctx);
  } catch (error) {
    if (error instanceof MongoError) return error.toReply();
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return new MongoError(ErrorCodes.Overflow, `'${name}' is nested too deeply for the embedded engine`).toReply();
    }
    if (error instanceof StorageError) {
      ctx.logger.error({ command: name, code: error.code, err: error.message }, 'storage failure: the write is not durable');
      return new MongoError(ErrorCodes.UnknownError, `storage failure (${error.code}): ${error.message}`).toReply();
    }
    const err = error instanceof Error ? error : new Error(String(error));
    ctx.logger.error({ command: name, err: { message: err.message, stack: err.stack } }, 'command failed with an internal error');
    return new MongoError(ErrorCodes.InternalError, `internal error in '${name}': ${err.message}`).toReply();
  }
}
