// Unit scope: the set of units a staff member may see; a scope includes every descendant of its units.

/** `all` for administrators; otherwise the unit codes granted (descendants included through unit paths). */
export type Scope = { kind: 'all' } | { kind: 'units'; codes: readonly string[] };

export const ALL_UNITS: Scope = Object.freeze({ kind: 'all' });

/** True when a unit whose path (codes from the root to itself) is `unitPath` lies inside the scope. */
export function scopeAllows(scope: Scope, unitPath: readonly string[]): boolean {
  if (scope.kind === 'all') return true;
  return unitPath.some((code) => scope.codes.includes(code));
}

/** A MongoDB filter restricting documents whose `field` holds a unit path to the scope. */
export function scopeFilter(scope: Scope, field: string): Record<string, unknown> {
  if (scope.kind === 'all') return {};
  return { [field]: { $in: [...scope.codes] } };
}
