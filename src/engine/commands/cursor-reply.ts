// Cursor answers: cuts results into batches (count and 16 MiB limits) and keeps the rest for getMore.
import { BSON, type Document } from 'bson';
import type { OpenCursor } from '../catalog/cursors';
import { encodeCursorReply } from '../server/wire';
import { MongoError } from '../errors';
import { RawReply, type CommandContext } from './context';

const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
const DEFAULT_FIRST_BATCH = 101;

export function serializeDoc(doc: Document): Buffer {
  const bytes = BSON.serialize(doc, { checkKeys: false, ignoreUndefined: false });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function takeBatch(
  docs: Document[],
  from: number,
  count: number,
  transform?: (doc: Document) => Document,
): { buffers: Buffer[]; next: number } {
  const buffers: Buffer[] = [];
  let bytes = 0;
  let i = from;
  while (i < docs.length && buffers.length < count) {
    const buf = serializeDoc(transform ? transform(docs[i]) : docs[i]);
    if (buffers.length > 0 && bytes + buf.length > MAX_BATCH_BYTES) break;
    buffers.push(buf);
    bytes += buf.length;
    i++;
  }
  return { buffers, next: i };
}

export interface FirstBatchOptions {
  batchSize?: number;
  singleBatch?: boolean;
  transform?: (doc: Document) => Document;
}

/** Parses a batchSize option (absent: undefined); rejects negatives like MongoDB. */
export function batchSizeOf(value: unknown, field = 'batchSize'): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new MongoError(51024, `${field} value must be non-negative, but received: ${String(value)}`);
  }
  return Math.floor(n);
}

/** `{ cursor: { firstBatch, id, ns }, ok: 1 }`, opening a cursor when documents remain. */
export function firstBatchReply(ctx: CommandContext, ns: string, docs: Document[], options: FirstBatchOptions = {}): RawReply {
  const size = options.batchSize === undefined ? DEFAULT_FIRST_BATCH : options.batchSize;
  const { buffers, next } = takeBatch(docs, 0, size, options.transform);
  let id = 0n;
  if (next < docs.length && !options.singleBatch) {
    id = ctx.cursors.open(ns, docs, next, options.transform).id;
  }
  return new RawReply(encodeCursorReply('firstBatch', buffers, id, ns));
}

/** The next batch of an open cursor; closes it when exhausted. */
export function nextBatchReply(ctx: CommandContext, cursor: OpenCursor, batchSize: number | undefined): RawReply {
  const size = batchSize === undefined || batchSize === 0 ? Infinity : batchSize;
  const { buffers, next } = takeBatch(cursor.docs, cursor.pos, size, cursor.transform);
  cursor.pos = next;
  let id = cursor.id;
  if (next >= cursor.docs.length) {
    ctx.cursors.close(cursor.id);
    id = 0n;
  }
  return new RawReply(encodeCursorReply('nextBatch', buffers, id, cursor.ns));
}
