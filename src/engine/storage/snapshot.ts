// Snapshot files: records streamed into ~1 MiB checksummed frames, closed by an end frame holding the count.
import fs from 'node:fs';
import { deserialize, serialize, serializeWithBufferAndIndex } from 'bson';
import {
  DESERIALIZE_OPTIONS,
  HEADER_BYTES,
  MAX_FRAME_PAYLOAD,
  SNAPSHOT_END_MAGIC,
  SNAPSHOT_MAGIC,
  documentRanges,
  encodeFrame,
  readFrameAt,
  sealFrame,
} from './frame';
import { StorageError, type StoredRecord } from './types';

const CHUNK_BYTES = 1024 * 1024;
/** Room for one more record past a full chunk (the bson serializer's own buffer is 17 MiB). */
const CHUNK_SLACK = 17 * 1024 * 1024;
const SNAPSHOT_MAGICS = [SNAPSHOT_MAGIC, SNAPSHOT_END_MAGIC];

function writeAllSync(fd: number, buf: Buffer, position: number): void {
  let written = 0;
  while (written < buf.length) {
    written += fs.writeSync(fd, buf, written, buf.length - written, position + written);
  }
}

/**
 * Writes every record of `records` to `fd` synchronously (the source is only consistent during this call),
 * serializing into one reused chunk buffer. Returns the record count and bytes written; the caller fsyncs.
 */
export function writeSnapshotSync(fd: number, records: Iterable<StoredRecord>): { count: number; bytes: number } {
  const chunk = Buffer.allocUnsafe(HEADER_BYTES + CHUNK_BYTES + CHUNK_SLACK);
  let used = HEADER_BYTES;
  let position = 0;
  let count = 0;
  const flush = (): void => {
    const frame = chunk.subarray(0, used);
    sealFrame(SNAPSHOT_MAGIC, frame);
    writeAllSync(fd, frame, position);
    position += frame.length;
    used = HEADER_BYTES;
  };
  for (const record of records) {
    used = serializeWithBufferAndIndex(record, chunk, { index: used }) + 1;
    count += 1;
    if (used - HEADER_BYTES >= CHUNK_BYTES) flush();
  }
  if (used > HEADER_BYTES) flush();
  const end = encodeFrame(SNAPSHOT_END_MAGIC, [serialize({ count })]);
  writeAllSync(fd, end, position);
  return { count, bytes: position + end.length };
}

function readExactSync(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    const n = fs.readSync(fd, buf, read, length - read, position + read);
    if (n === 0) return buf.subarray(0, read);
    read += n;
  }
  return buf;
}

interface SnapshotFrame {
  offset: number;
  magic: string;
  payload: Buffer;
}

/** Reads the frames of a snapshot file one by one (each verified), throwing a StorageError on damage. */
function* snapshotFrames(file: string): Generator<SnapshotFrame> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let offset = 0;
    let ended = false;
    while (offset < size) {
      if (ended) throw damaged(file, offset, 'data after the end frame');
      const header = readExactSync(fd, HEADER_BYTES, offset);
      const payloadBytes = header.length === HEADER_BYTES ? header.readUInt32LE(4) : 0;
      if (payloadBytes > MAX_FRAME_PAYLOAD) throw damaged(file, offset, `frame length ${payloadBytes} too large`);
      const frameBuf = header.length === HEADER_BYTES
        ? Buffer.concat([header, readExactSync(fd, payloadBytes, offset + HEADER_BYTES)])
        : header;
      const frame = readFrameAt(frameBuf, 0, SNAPSHOT_MAGICS);
      if (!frame.ok) throw damaged(file, offset, frame.reason);
      ended = frame.magic === SNAPSHOT_END_MAGIC.toString('latin1');
      yield { offset, magic: frame.magic, payload: frameBuf.subarray(frame.payloadStart, frame.end) };
      offset += frameBuf.length;
    }
    if (!ended) throw damaged(file, offset, 'snapshot has no end frame (incomplete)');
  } finally {
    fs.closeSync(fd);
  }
}

function damaged(file: string, offset: number, reason: string): StorageError {
  return new StorageError('ECORRUPT', `snapshot ${file} is damaged at offset ${offset}: ${reason}`);
}

function endCount(file: string, frame: SnapshotFrame): number {
  const ranges = documentRanges(frame.payload, 0, frame.payload.length);
  const doc = ranges && ranges.length === 1 ? deserialize(frame.payload, DESERIALIZE_OPTIONS) : null;
  const count = doc ? Number(doc.count) : NaN;
  if (!Number.isInteger(count)) throw damaged(file, frame.offset, 'bad end frame');
  return count;
}

/** Checks every frame checksum and the record count without deserializing records. */
export function verifySnapshot(file: string): number {
  let count = 0;
  for (const frame of snapshotFrames(file)) {
    const ranges = documentRanges(frame.payload, 0, frame.payload.length);
    if (!ranges) throw damaged(file, frame.offset, 'payload is not a sequence of BSON documents');
    if (frame.magic === SNAPSHOT_MAGIC.toString('latin1')) {
      count += ranges.length;
    } else if (endCount(file, frame) !== count) {
      throw damaged(file, frame.offset, `end frame count does not match ${count} records`);
    }
  }
  return count;
}

/** Streams the records of a snapshot file. */
export function* readSnapshot(file: string): Generator<StoredRecord> {
  for (const frame of snapshotFrames(file)) {
    if (frame.magic !== SNAPSHOT_MAGIC.toString('latin1')) continue;
    const ranges = documentRanges(frame.payload, 0, frame.payload.length);
    if (!ranges) throw damaged(file, frame.offset, 'payload is not a sequence of BSON documents');
    for (const [from, to] of ranges) {
      let record: StoredRecord;
      try {
        record = deserialize(frame.payload.subarray(from, to), DESERIALIZE_OPTIONS);
      } catch (err) {
        throw damaged(file, frame.offset, `bad BSON (${(err as Error).message})`);
      }
      yield record;
    }
  }
}
