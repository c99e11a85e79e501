// Wire protocol framing: parses OP_MSG and legacy OP_QUERY messages, builds OP_MSG and OP_REPLY answers.
import { BSON, type Document } from 'bson';
import { crc32c } from './crc32c';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const FLAG_CHECKSUM_PRESENT = 1;
const FLAG_MORE_TO_COME = 2;
const HEADER_BYTES = 16;

/** A malformed message: the connection that sent it is closed. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface OpMsgRequest {
  kind: 'msg';
  requestId: number;
  /** The command document with every kind-1 document sequence merged in under its identifier. */
  command: Document;
  moreToCome: boolean;
}

export interface OpQueryRequest {
  kind: 'query';
  requestId: number;
  collection: string;
  command: Document;
}

export type Request = OpMsgRequest | OpQueryRequest;

function readCString(buf: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated cstring');
  return { value: buf.toString('utf8', offset, zero), next: zero + 1 };
}

function readDocument(buf: Buffer, offset: number, end: number): { doc: Document; next: number } {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new ProtocolError('invalid BSON document length');
  let doc: Document;
  try {
    doc = BSON.deserialize(buf.subarray(offset, offset + size), { validation: { utf8: false } });
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`);
  }
  return { doc, next: offset + size };
}

/** Parses one whole message (header included). Throws ProtocolError when it is malformed. */
export function parseMessage(buf: Buffer): Request {
  if (buf.length < HEADER_BYTES) throw new ProtocolError('message shorter than its header');
  const length = buf.readInt32LE(0);
  if (length !== buf.length) throw new ProtocolError('message length mismatch');
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OP_MSG) return parseOpMsg(buf, requestId);
  if (opCode === OP_QUERY) return parseOpQuery(buf, requestId);
  if (opCode === OP_COMPRESSED) throw new ProtocolError('compression was not negotiated');
  throw new ProtocolError(`unsupported opCode ${opCode}`);
}

function parseOpMsg(buf: Buffer, requestId: number): OpMsgRequest {
  if (buf.length < HEADER_BYTES + 5) throw new ProtocolError('OP_MSG too short');
  const flags = buf.readUInt32LE(HEADER_BYTES);
  // Bits 0, 1 and 16 are defined; any other required bit (0-15) must be refused.
  if ((flags & 0xfffc) !== 0) throw new ProtocolError(`unknown required OP_MSG flag bits ${flags}`);
  let end = buf.length;
  if (flags & FLAG_CHECKSUM_PRESENT) {
    end -= 4;
    if (end < HEADER_BYTES + 5) throw new ProtocolError('OP_MSG too short for its checksum');
    const expected = buf.readUInt32LE(end);
    if (crc32c(buf, 0, end) !== expected) throw new ProtocolError('OP_MSG checksum mismatch');
  }
  let offset = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = buf[offset];
    offset += 1;
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG with two body sections');
      const read = readDocument(buf, offset, end);
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = buf.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end) throw new ProtocolError('invalid document sequence length');
      const name = readCString(buf, offset + 4, seqEnd);
      let pos = name.next;
      const docs: Document[] = [];
      while (pos < seqEnd) {
        const read = readDocument(buf, pos, seqEnd);
        docs.push(read.doc);
        pos = read.next;
      }
      sequences.push([name.value, docs]);
      offset = seqEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section');
  for (const [name, docs] of sequences) {
    if (Object.prototype.hasOwnProperty.call(body, name)) {
      throw new ProtocolError(`document sequence '${name}' duplicates a body field`);
    }
    body[name] = docs;
  }
  return { kind: 'msg', requestId, command: body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 };
}

function parseOpQuery(buf: Buffer, requestId: number): OpQueryRequest {
  let offset = HEADER_BYTES + 4;
  const name = readCString(buf, offset, buf.length);
  offset = name.next + 8;
  const read = readDocument(buf, offset, buf.length);
  let command = read.doc;
  // Legacy wrapped form: { $query: {...}, $readPreference: ... }.
  if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
  return { kind: 'query', requestId, collection: name.value, command };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** An OP_MSG answer with one body section holding the given BSON bytes. */
export function encodeOpMsg(requestId: number, responseTo: number, body: Uint8Array): Buffer {
  const length = HEADER_BYTES + 4 + 1 + body.length;
  const prefix = Buffer.allocUnsafe(5);
  prefix.writeUInt32LE(0, 0);
  prefix[4] = 0;
  return Buffer.concat([header(length, requestId, responseTo, OP_MSG), prefix, body], length);
}

/** A legacy OP_REPLY holding one document. */
export function encodeOpReply(requestId: number, responseTo: number, body: Uint8Array): Buffer {
  const length = HEADER_BYTES + 20 + body.length;
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(8, 0); // AwaitCapable
  fields.writeInt32LE(1, 16); // numberReturned
  return Buffer.concat([header(length, requestId, responseTo, OP_REPLY), fields, body], length);
}

class BsonWriter {
  private readonly parts: Buffer[] = [];
  size = 0;

  push(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }

  key(type: number, name: string): void {
    const b = Buffer.allocUnsafe(Buffer.byteLength(name) + 2);
    b[0] = type;
    const n = b.write(name, 1, 'utf8');
    b[n + 1] = 0;
    this.push(b);
  }

  toDocument(): Buffer {
    const total = 4 + this.size + 1;
    const head = Buffer.allocUnsafe(4);
    head.writeInt32LE(total, 0);
    return Buffer.concat([head, ...this.parts, Buffer.from([0])], total);
  }
}

function stringValue(value: string): Buffer {
  const len = Buffer.byteLength(value);
  const b = Buffer.allocUnsafe(4 + len + 1);
  b.writeInt32LE(len + 1, 0);
  b.write(value, 4, 'utf8');
  b[4 + len] = 0;
  return b;
}

/** Builds `{ cursor: { <batchField>: [docs...], id, ns }, ok: 1 }` from already serialized documents. */
export function encodeCursorReply(
  batchField: 'firstBatch' | 'nextBatch',
  docs: Buffer[],
  cursorId: bigint,
  ns: string,
): Buffer {
  const arr = new BsonWriter();
  for (let i = 0; i < docs.length; i++) {
    arr.key(0x03, String(i));
    arr.push(docs[i]);
  }
  const cursor = new BsonWriter();
  cursor.key(0x04, batchField);
  cursor.push(arr.toDocument());
  cursor.key(0x12, 'id');
  const id = Buffer.allocUnsafe(8);
  id.writeBigInt64LE(cursorId, 0);
  cursor.push(id);
  cursor.key(0x02, 'ns');
  cursor.push(stringValue(ns));
  const reply = new BsonWriter();
  reply.key(0x03, 'cursor');
  reply.push(cursor.toDocument());
  reply.key(0x01, 'ok');
  const ok = Buffer.allocUnsafe(8);
  ok.writeDoubleLE(1, 0);
  reply.push(ok);
  return reply.toDocument();
}
