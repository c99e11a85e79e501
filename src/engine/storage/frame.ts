// Checksummed frames: the unit every storage file is made of (magic, length, CRC32, payload of BSON documents).
import { crc32 } from 'node:zlib';
import { deserialize, serialize, type Document } from 'bson';

/** Frame header: 4-byte magic, u32 LE payload length, u32 LE CRC32 over (length bytes + payload). */
export const HEADER_BYTES = 12;
/** A journal frame: one group commit; its payload is one BSON document `{ e: [...] }` per logical write. */
export const JOURNAL_MAGIC = Buffer.from('TDJ1', 'latin1');
/** A snapshot data frame: its payload is one BSON document per record. */
export const SNAPSHOT_MAGIC = Buffer.from('TDS1', 'latin1');
/** The last frame of a complete snapshot: one BSON document `{ count }`. */
export const SNAPSHOT_END_MAGIC = Buffer.from('TDSE', 'latin1');
/** Refuse frames larger than this (a corrupt length field must not make us allocate gigabytes). */
export const MAX_FRAME_PAYLOAD = 1024 * 1024 * 1024;

/** Options that keep BSON types intact on the way back (Long stays Long). */
export const DESERIALIZE_OPTIONS = { promoteLongs: false } as const;

/** Builds one frame around the concatenation of `parts`. */
export function encodeFrame(magic: Buffer, parts: readonly Uint8Array[]): Buffer {
  let payloadBytes = 0;
  for (const part of parts) payloadBytes += part.length;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  let offset = HEADER_BYTES;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.length;
  }
  sealFrame(magic, frame);
  return frame;
}

/** Fills in the header of a frame whose payload is already at `frame[HEADER_BYTES..]`. */
export function sealFrame(magic: Buffer, frame: Buffer): void {
  magic.copy(frame, 0);
  frame.writeUInt32LE(frame.length - HEADER_BYTES, 4);
  frame.writeUInt32LE(frameChecksum(frame, 4, HEADER_BYTES, frame.length), 8);
}

function frameChecksum(buf: Uint8Array, lengthAt: number, payloadStart: number, payloadEnd: number): number {
  const lengthCrc = crc32(buf.subarray(lengthAt, lengthAt + 4));
  return crc32(buf.subarray(payloadStart, payloadEnd), lengthCrc);
}

export type FrameRead =
  | { ok: true; magic: string; payloadStart: number; end: number }
  | { ok: false; reason: string };

/** Reads and verifies the frame at `offset` of `buf` (whose end is the end of the file). */
export function readFrameAt(buf: Buffer, offset: number, allowed: readonly Buffer[]): FrameRead {
  if (buf.length - offset < HEADER_BYTES) return { ok: false, reason: 'short frame header' };
  const magic = buf.subarray(offset, offset + 4);
  if (!allowed.some((m) => m.equals(magic))) return { ok: false, reason: 'bad frame magic' };
  const payloadBytes = buf.readUInt32LE(offset + 4);
  if (payloadBytes > MAX_FRAME_PAYLOAD) return { ok: false, reason: `frame length ${payloadBytes} too large` };
  const payloadStart = offset + HEADER_BYTES;
  const end = payloadStart + payloadBytes;
  if (end > buf.length) return { ok: false, reason: 'frame extends past the end of the file' };
  if (frameChecksum(buf, offset + 4, payloadStart, end) !== buf.readUInt32LE(offset + 8)) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  return { ok: true, magic: magic.toString('latin1'), payloadStart, end };
}

/** Splits a payload into the byte ranges of its BSON documents; null when the layout is not well formed. */
export function documentRanges(buf: Buffer, start: number, end: number): Array<[number, number]> | null {
  const ranges: Array<[number, number]> = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 5) return null;
    const size = buf.readInt32LE(pos);
    if (size < 5 || pos + size > end || buf[pos + size - 1] !== 0) return null;
    ranges.push([pos, pos + size]);
    pos += size;
  }
  return ranges;
}

/** Deserializes every document of a payload; throws when one is not valid BSON. */
export function decodeDocuments(buf: Buffer, start: number, end: number): Document[] {
  const ranges = documentRanges(buf, start, end);
  if (!ranges) throw new Error('payload is not a sequence of BSON documents');
  return ranges.map(([from, to]) => deserialize(buf.subarray(from, to), DESERIALIZE_OPTIONS));
}

/**
 * Encodes one logical write as the BSON document `{ e: [entries] }`. Entries are serialized one by one, so a
 * write is not bound by the serializer's 16 MiB buffer (only each entry is).
 */
export function encodeWrite(entries: readonly Record<string, unknown>[]): Buffer {
  const parts: Uint8Array[] = [];
  let arrayBytes = 4 + 1;
  entries.forEach((entry, i) => {
    const key = Buffer.from(`\x03${i}\x00`, 'latin1');
    const doc = serialize(entry);
    parts.push(key, doc);
    arrayBytes += key.length + doc.length;
  });
  const total = 4 + 3 + arrayBytes + 1;
  const out = Buffer.allocUnsafe(total);
  out.writeInt32LE(total, 0);
  out.write('\x04e\x00', 4, 'latin1');
  out.writeInt32LE(arrayBytes, 7);
  let offset = 11;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out[offset] = 0;
  out[offset + 1] = 0;
  return out;
}
