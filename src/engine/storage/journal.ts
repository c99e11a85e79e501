// Journal files: verification at open (torn tail vs damage in the middle) and replay of their entries.
import { JOURNAL_MAGIC, decodeDocuments, readFrameAt } from './frame';
import { StorageError, type StoredRecord } from './types';

const JOURNAL_MAGICS = [JOURNAL_MAGIC];

export interface JournalFrame {
  offset: number;
  payloadStart: number;
  end: number;
}

export interface JournalScan {
  file: string;
  buf: Buffer;
  frames: JournalFrame[];
  /** Offset just past the last good frame. */
  validEnd: number;
  /** Set when the file ends with a torn or corrupt frame at `validEnd`. */
  torn: { reason: string } | null;
}

function writesOf(buf: Buffer, frame: JournalFrame): StoredRecord[][] {
  return decodeDocuments(buf, frame.payloadStart, frame.end).map((doc) => {
    const entries: unknown = doc.e;
    if (!Array.isArray(entries)) throw new Error('journal write without an entry array');
    return entries as StoredRecord[];
  });
}

/** A frame whose checksum holds and whose payload decodes; null otherwise, with the reason in `why`. */
function goodFrameAt(buf: Buffer, offset: number, why: { reason: string }): JournalFrame | null {
  const read = readFrameAt(buf, offset, JOURNAL_MAGICS);
  if (!read.ok) {
    why.reason = read.reason;
    return null;
  }
  const frame = { offset, payloadStart: read.payloadStart, end: read.end };
  try {
    writesOf(buf, frame);
  } catch (err) {
    why.reason = `bad BSON (${(err as Error).message})`;
    return null;
  }
  return frame;
}

/**
 * Verifies every frame of a journal. A bad frame with no good frame after it is a torn tail (reported in
 * `torn`); a bad frame followed by a good one is damage and throws, naming the file and offset.
 */
export function scanJournal(file: string, buf: Buffer): JournalScan {
  const frames: JournalFrame[] = [];
  let offset = 0;
  const why = { reason: '' };
  while (offset < buf.length) {
    const frame = goodFrameAt(buf, offset, why);
    if (!frame) break;
    frames.push(frame);
    offset = frame.end;
  }
  if (offset >= buf.length) return { file, buf, frames, validEnd: offset, torn: null };
  const badReason = why.reason;
  for (let at = buf.indexOf(JOURNAL_MAGIC, offset + 1); at >= 0; at = buf.indexOf(JOURNAL_MAGIC, at + 1)) {
    if (goodFrameAt(buf, at, { reason: '' })) {
      throw new StorageError(
        'ECORRUPT',
        `journal ${file} is damaged at offset ${offset} (${badReason}) and a valid frame follows at offset ${at}: ` +
          'this is disk damage, not a torn write; restore the data directory from a backup',
      );
    }
  }
  return { file, buf, frames, validEnd: offset, torn: { reason: badReason } };
}

/** The entries of a verified journal, in write order. */
export function* journalEntries(scan: JournalScan): Generator<StoredRecord> {
  for (const frame of scan.frames) {
    for (const write of writesOf(scan.buf, frame)) yield* write;
  }
}
