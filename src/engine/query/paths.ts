// Dotted-path writes on plain documents (creating intermediate objects as MongoDB does).

import { cloneValue, isPlainObject, type Doc } from './compare';

/** Sets a dotted path on a document in place, creating intermediate objects. */
export function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Doc | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    const container = cur as Record<string, unknown>;
    let next = container[p];
    if (!isPlainObject(next) && !Array.isArray(next)) {
      next = {};
      container[p] = next;
    }
    cur = next as Doc | unknown[];
  }
  (cur as Record<string, unknown>)[parts[parts.length - 1]] = cloneValue(value);
}
