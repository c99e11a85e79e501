// What every command handler receives: the catalog, cursors, the journal and facts about the connection.
import type { Document } from 'bson';
import type { Catalog, JournalRecord } from '../catalog/catalog';
import type { CursorStore } from '../catalog/cursors';
import type { SessionRegistry } from '../catalog/sessions';

export interface EngineLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** A reply already serialized to BSON (cursor batches are built this way to avoid re-encoding documents). */
export class RawReply {
  constructor(readonly bytes: Buffer) {}
}

export type CommandReply = Document | RawReply;

export interface ServerInfo {
  host: string;
  port: number;
  startedAt: Date;
  connections(): number;
  /** Total connections accepted since start. */
  totalConnections(): number;
}

export interface CommandContext {
  catalog: Catalog;
  cursors: CursorStore;
  sessions: SessionRegistry;
  /** The command's database (`$db`, or the OP_QUERY namespace's database). */
  db: string;
  connectionId: number;
  remoteAddress: string;
  server: ServerInfo;
  logger: EngineLogger;
  /** Makes records durable; resolves once they are fsync'd. Call in the same synchronous step as the memory change. */
  commit(records: JournalRecord[]): Promise<void>;
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => CommandReply | Promise<CommandReply>;
