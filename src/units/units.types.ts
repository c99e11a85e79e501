// Plain records of units, offices and counters, as the repository returns them and other components use them.
import type { CounterDoc, FormedFromEntry, Hotline, MergeRecord, OfficeDoc, RevokedToken, UnitLevel } from './units.model';

export type { FormedFromEntry, Hotline, MergeRecord, RevokedToken, UnitLevel };

export interface Unit {
  code: string;
  name: string;
  shortName: string | null;
  level: UnitLevel;
  parentCode: string | null;
  /** Codes from the root to this unit, e.g. ['01', '09817'], or ['01', '273', '09805'] for a pre-2025 commune. */
  path: string[];
  /** True for districts and for communes that existed before 1 July 2025 only. */
  legacy: boolean;
  mergedInto: MergeRecord | null;
  formedFrom: FormedFromEntry[];
}

/** Stored fields that stay inside the units component: the database id (as `id` instead), seed keys, timestamps. */
type Internal = '_id' | 'seedKey' | 'createdAt' | 'updatedAt';

export type Office = Omit<OfficeDoc, Internal> & { id: string };

export type Counter = Omit<CounterDoc, Internal | 'officeId'> & { id: string; officeId: string };

/** What a QR token leads to: the live counter, a token that no longer works, or nothing (null). */
export type CounterByToken =
  | { revoked: false; counter: Counter; office: Office; unit: Unit }
  | { revoked: true; reason: 'rotated' | 'deactivated' };

export interface UnitTreeNode {
  unit: Unit;
  children: UnitTreeNode[];
}
