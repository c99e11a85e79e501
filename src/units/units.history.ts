// Merge history as pure functions: which unit carries a code's history at a date, and which codes roll up into a unit.
import type { MergeRecord } from './units.model';

/** code → where that unit was merged (only merged units appear). */
export type MergeLinks = ReadonlyMap<string, Pick<MergeRecord, 'code' | 'effectiveDate'>>;

/** Follows merges that took effect on or before `at`; a broken cycle in the data stops at the first repeat. */
export function resolveSuccessor(links: MergeLinks, code: string, at: Date): string {
  const seen = new Set<string>([code]);
  let current = code;
  for (;;) {
    const link = links.get(current);
    if (!link || link.effectiveDate.getTime() > at.getTime() || seen.has(link.code)) return current;
    seen.add(link.code);
    current = link.code;
  }
}

/** Every code whose history rolls up into `code` by `at` (itself first, then predecessors, transitively). */
export function rollUpCodes(links: MergeLinks, code: string, at: Date): string[] {
  const result = [code];
  // `result` doubles as the breadth-first queue: every code added is visited once, in order.
  for (let next = 0; next < result.length; next += 1) {
    const target = result[next];
    for (const [from, link] of links) {
      if (link.code !== target || link.effectiveDate.getTime() > at.getTime() || result.includes(from)) continue;
      result.push(from);
    }
  }
  return result;
}

/** True when merging `from` into `into` would make a unit its own successor. */
export function wouldCreateCycle(links: MergeLinks, from: string, into: string): boolean {
  const far = new Date(8640000000000000);
  return from === into || resolveSuccessor(links, into, far) === from;
}
