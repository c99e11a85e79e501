// The positional `$` operator: which array element the query matched, for updates and projections.

import { isPlainObject, type Doc } from './compare';
import { compileFilter } from './filter';
import { setPath } from './paths';

/**
 * The index of the first element of `array` (found at arrayPath) that satisfies the query's conditions on
 * that array, or -1 when the query has no condition on it or no element matches.
 */
export function positionalMatchIndex(query: Doc | undefined, arrayPath: string, array: unknown[], variables?: Doc): number {
  if (!query) return -1;
  const conditions: Doc[] = [];
  const gather = (q: Doc): void => {
    for (const [k, v] of Object.entries(q)) {
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) gather(sub);
      } else if (k === arrayPath || k.startsWith(`${arrayPath}.`)) {
        conditions.push({ [k]: v });
      }
    }
  };
  gather(query);
  if (conditions.length === 0) return -1;
  const test = compileFilter({ $and: conditions }, { variables });
  for (let i = 0; i < array.length; i++) {
    const probe: Doc = {};
    setPath(probe, arrayPath, [array[i]]);
    if (test(probe)) return i;
  }
  return -1;
}
