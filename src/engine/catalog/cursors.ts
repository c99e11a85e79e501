// Open cursors: the rest of a result set kept for getMore, closed when exhausted, killed or idle too long.
import type { Document } from 'bson';
import { randomInt } from 'node:crypto';

export interface OpenCursor {
  id: bigint;
  ns: string;
  docs: Document[];
  pos: number;
  lastUsed: number;
  /** Applied to each document as it is sent (find projections). */
  transform?: (doc: Document) => Document;
}

const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export class CursorStore {
  private readonly cursors = new Map<bigint, OpenCursor>();
  private nextId = BigInt(randomInt(1, 2 ** 40)) * 1024n;

  open(ns: string, docs: Document[], pos: number, transform?: (doc: Document) => Document): OpenCursor {
    this.nextId += 1n;
    const cursor: OpenCursor = { id: this.nextId, ns, docs, pos, lastUsed: Date.now(), transform };
    this.cursors.set(cursor.id, cursor);
    return cursor;
  }

  get(id: bigint): OpenCursor | undefined {
    const cursor = this.cursors.get(id);
    if (cursor) cursor.lastUsed = Date.now();
    return cursor;
  }

  close(id: bigint): boolean {
    return this.cursors.delete(id);
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Drops cursors idle for longer than MongoDB's default 10 minutes. */
  reapIdle(now = Date.now()): void {
    for (const [id, cursor] of this.cursors) if (now - cursor.lastUsed > IDLE_TIMEOUT_MS) this.cursors.delete(id);
  }

  clear(): void {
    this.cursors.clear();
  }
}
