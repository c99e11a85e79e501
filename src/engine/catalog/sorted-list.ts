// A sorted list of index entries kept in bounded chunks: O(log n) search, cheap inserts and removals.
import type { Document } from 'bson';

/** One stored document; index entries point at it, updates swap `doc` for a new object. */
export interface Rec {
  /** Encoded _id, the collection's primary key. */
  id: string;
  doc: Document;
}

export interface Entry {
  k: string;
  r: Rec;
}

/** A position between entries: chunk index and offset inside it. */
export interface Pos {
  c: number;
  i: number;
}

const MAX_CHUNK = 256;

function cmp(a: Entry, b: Entry): number {
  if (a.k < b.k) return -1;
  if (a.k > b.k) return 1;
  if (a.r.id < b.r.id) return -1;
  if (a.r.id > b.r.id) return 1;
  return 0;
}

export class SortedList {
  private chunks: Entry[][] = [];
  size = 0;

  /** First position whose entry is not `below` (below must be monotone: true then false). */
  lowerBound(below: (e: Entry) => boolean): Pos {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid];
      if (below(chunk[chunk.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { c: lo, i: 0 };
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (below(chunk[mid])) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  /** Position of the first entry with key >= k. */
  seekKey(k: string): Pos {
    return this.lowerBound((e) => e.k < k);
  }

  /** Whether an entry with key k exists that belongs to a record other than `self`; returns that record. */
  otherWithKey(k: string, self: Rec | null): Rec | undefined {
    const pos = this.seekKey(k);
    const chunks = this.chunks;
    for (let c = pos.c, i = pos.i; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c];
      for (; i < chunk.length; i++) {
        const e = chunk[i];
        if (e.k !== k) return undefined;
        if (e.r !== self) return e.r;
      }
    }
    return undefined;
  }

  start(): Pos {
    return { c: 0, i: 0 };
  }

  end(): Pos {
    return { c: this.chunks.length, i: 0 };
  }

  /** Entries from `from` forwards. */
  *forward(from: Pos): Generator<Entry> {
    const chunks = this.chunks;
    for (let c = from.c, i = from.i; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c];
      for (; i < chunk.length; i++) yield chunk[i];
    }
  }

  /** Entries strictly before `before`, backwards. */
  *backward(before: Pos): Generator<Entry> {
    const chunks = this.chunks;
    let c = before.c;
    let i = before.i - 1;
    if (c >= chunks.length) {
      c = chunks.length - 1;
      i = c >= 0 ? chunks[c].length - 1 : -1;
    }
    while (c >= 0) {
      const chunk = chunks[c];
      for (; i >= 0; i--) yield chunk[i];
      c--;
      if (c >= 0) i = chunks[c].length - 1;
    }
  }

  insert(e: Entry): void {
    const chunks = this.chunks;
    this.size++;
    if (chunks.length === 0) {
      chunks.push([e]);
      return;
    }
    const pos = this.lowerBound((x) => cmp(x, e) < 0);
    let c = pos.c;
    let i = pos.i;
    if (c === chunks.length) {
      c = chunks.length - 1;
      i = chunks[c].length;
    }
    const chunk = chunks[c];
    if (i === chunk.length) chunk.push(e);
    else {
      chunk.push(e);
      for (let j = chunk.length - 1; j > i; j--) chunk[j] = chunk[j - 1];
      chunk[i] = e;
    }
    if (chunk.length > MAX_CHUNK) chunks.splice(c + 1, 0, chunk.splice(MAX_CHUNK >>> 1));
  }

  /** Removes the entry equal to e (same key and record); returns whether it was there. */
  remove(e: Entry): boolean {
    const pos = this.lowerBound((x) => cmp(x, e) < 0);
    const chunk = this.chunks[pos.c];
    if (!chunk || pos.i >= chunk.length || cmp(chunk[pos.i], e) !== 0) return false;
    chunk.splice(pos.i, 1);
    if (chunk.length === 0) this.chunks.splice(pos.c, 1);
    this.size--;
    return true;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}
