// The TCP side: accepts connections, frames messages, runs their commands one at a time per connection, replies.
import net from 'node:net';
import { BSON, type Document } from 'bson';
import { runCommand, RawReply, type CommandContext, type EngineLogger, type ServerInfo } from '../commands';
import type { Catalog, JournalRecord } from '../catalog/catalog';
import type { CursorStore } from '../catalog/cursors';
import type { SessionRegistry } from '../catalog/sessions';
import { ErrorCodes, MongoError } from '../errors';
import { encodeOpMsg, encodeOpReply, parseMessage, ProtocolError, type Request } from './wire';

const HEADER_BYTES = 16;
/** MongoDB's largest reply document: 16 MiB plus its 16 KiB allowance for command overhead. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024 + 16 * 1024;
const LEGACY_COMMANDS = new Set(['ismaster', 'isMaster', 'hello']);

function tooLarge(size: number): MongoError {
  return new MongoError(ErrorCodes.BSONObjectTooLarge, `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and 16793600(16MB)`);
}

/**
 * False when the command's write concern asks for no journal wait (`j: false` or `j: 0`). Any other write concern,
 * or none, waits for the fsync: the embedded engine's default is stricter than a standalone mongod's (which waits
 * only with `j: true`), so no write of the app is acknowledged before it is durable unless the app chose so.
 */
function waitsForJournal(command: Document): boolean {
  const concern: unknown = command.writeConcern;
  if (typeof concern !== 'object' || concern === null) return true;
  const j = (concern as { j?: unknown }).j;
  return !(j === false || j === 0);
}

export interface WireServerOptions {
  catalog: Catalog;
  cursors: CursorStore;
  sessions: SessionRegistry;
  logger: EngineLogger;
  maxMessageBytes: number;
  commit(records: JournalRecord[]): Promise<void>;
}

export class WireServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new Set<Promise<void>>();
  private nextConnectionId = 1;
  private nextResponseId = 1;
  private totalConnections = 0;
  private readonly info: ServerInfo;
  /**
   * A write sent with `{ j: false }` is answered once applied, as mongod answers w:1 without a journal wait: the
   * records are journaled by the next group commit, whose failure still stops the engine (the commit function's own
   * fail-stop).
   */
  private readonly commitWithoutWaiting = (records: JournalRecord[]): Promise<void> => {
    this.options.commit(records).catch(() => {});
    return Promise.resolve();
  };

  constructor(private readonly options: WireServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.info = {
      host: '127.0.0.1',
      port: 0,
      startedAt: new Date(),
      connections: () => this.sockets.size,
      totalConnections: () => this.totalConnections,
    };
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.options.logger.error({ err: error.message }, 'server error'));
        const address = this.server.address();
        const actual = typeof address === 'object' && address ? address.port : port;
        this.info.host = host;
        this.info.port = actual;
        resolve({ host, port: actual });
      });
    });
  }

  /** Stops accepting, closes every connection and waits for commands already running. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await Promise.allSettled([...this.inFlight]);
    await closed;
  }

  private accept(socket: net.Socket): void {
    const connectionId = this.nextConnectionId++;
    this.totalConnections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const remoteAddress = `${socket.remoteAddress ?? '127.0.0.1'}:${socket.remotePort ?? 0}`;
    const { logger, maxMessageBytes } = this.options;
    const chunks: Buffer[] = [];
    let buffered = 0;
    const queue: Buffer[] = [];
    let running = false;

    const fail = (reason: string): void => {
      logger.warn({ connectionId, remoteAddress, reason }, 'closing connection after a malformed message');
      chunks.length = 0;
      buffered = 0;
      queue.length = 0;
      socket.destroy();
    };

    const take = (n: number): Buffer => {
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
      const rest = all.subarray(n);
      chunks.length = 0;
      buffered = rest.length;
      if (rest.length > 0) chunks.push(rest);
      return all.subarray(0, n);
    };

    const peekLength = (): number => {
      const first = chunks[0];
      if (first.length >= 4) return first.readInt32LE(0);
      const head = Buffer.concat(chunks, buffered).subarray(0, 4);
      return head.readInt32LE(0);
    };

    const pump = async (): Promise<void> => {
      if (running) return;
      running = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const message = queue.shift() as Buffer;
          let request: Request;
          try {
            request = parseMessage(message);
          } catch (error) {
            fail(error instanceof ProtocolError ? error.message : String(error));
            return;
          }
          const reply = await this.handle(request, { connectionId, remoteAddress });
          if (reply && !socket.destroyed) socket.write(reply);
        }
      } catch (error) {
        logger.error({ connectionId, err: error instanceof Error ? error.message : String(error) }, 'connection handler failed');
        socket.destroy();
      } finally {
        running = false;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      while (buffered >= 4) {
        const length = peekLength();
        if (length < HEADER_BYTES || length > maxMessageBytes) {
          fail(`invalid message length ${length}`);
          return;
        }
        if (buffered < length) break;
        queue.push(take(length));
      }
      if (queue.length > 0 && !running) {
        const task = pump();
        this.inFlight.add(task);
        void task.finally(() => this.inFlight.delete(task));
      }
    });
    socket.on('error', (error) => logger.info({ connectionId, err: error.message }, 'connection error'));
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async handle(request: Request, conn: { connectionId: number; remoteAddress: string }): Promise<Buffer | undefined> {
    let db: string;
    const command: Document = request.command;
    if (request.kind === 'query') {
      const name = Object.keys(command)[0] ?? '';
      if (!request.collection.endsWith('.$cmd') || !LEGACY_COMMANDS.has(name)) {
        const error = new MongoError(352, `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`);
        return encodeOpReply(this.nextResponseId++, request.requestId, BSON.serialize(error.toReply()));
      }
      db = request.collection.slice(0, -'.$cmd'.length);
    } else {
      const $db = command.$db;
      if (typeof $db !== 'string' || $db === '') {
        const error = new MongoError(40571, 'OP_MSG requests require a $db argument');
        return request.moreToCome ? undefined : encodeOpMsg(this.nextResponseId++, request.requestId, BSON.serialize(error.toReply()));
      }
      db = $db;
    }
    const ctx: CommandContext = {
      catalog: this.options.catalog,
      cursors: this.options.cursors,
      sessions: this.options.sessions,
      db,
      connectionId: conn.connectionId,
      remoteAddress: conn.remoteAddress,
      server: this.info,
      logger: this.options.logger,
      commit: waitsForJournal(command) ? this.options.commit : this.commitWithoutWaiting,
    };
    if (command.lsid !== undefined) this.options.sessions.touch(command.lsid);
    const reply = await runCommand(command, ctx);
    if (request.kind === 'msg' && request.moreToCome) return undefined;
    let body: Uint8Array;
    if (reply instanceof RawReply) body = reply.bytes;
    else {
      try {
        body = BSON.serialize(reply, { checkKeys: false, ignoreUndefined: true });
      } catch (error) {
        let size = 0;
        try {
          size = BSON.calculateObjectSize(reply, { ignoreUndefined: true });
        } catch {
          size = 0;
        }
        const err = size > MAX_REPLY_BYTES
          ? tooLarge(size)
          : new MongoError(ErrorCodes.InternalError, `reply could not be serialized: ${(error as Error).message}`);
        body = BSON.serialize(err.toReply());
      }
    }
    if (body.length > MAX_REPLY_BYTES) body = BSON.serialize(tooLarge(body.length).toReply());
    return request.kind === 'query'
      ? encodeOpReply(this.nextResponseId++, request.requestId, body)
      : encodeOpMsg(this.nextResponseId++, request.requestId, body);
  }
}
