// Plain records of units, offices and counters, as the repository returns them and other components use them.
import type { FormedFromEntry, Hotline, MergeRecord, RevokedToken, UnitLevel } from './units.model';

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

export interface Office {
  id: string;
  unitCode: string;
  unitPath: string[];
  name: string;
  address: string;
  openingHours: string;
  hotlines: Hotline[];
  active: boolean;
}

export interface Counter {
  id: string;
  officeId: string;
  unitCode: string;
  unitPath: string[];
  label: string;
  fields: string[];
  qrToken: string;
  revokedTokens: RevokedToken[];
  active: boolean;
}

/** What a QR token leads to: the live counter, a token that no longer works, or nothing (null). */
export type CounterByToken =
  | { revoked: false; counter: Counter; office: Office; unit: Unit }
  | { revoked: true; reason: 'rotated' | 'deactivated' };

export interface UnitTreeNode {
  unit: Unit;
  children: UnitTreeNode[];
}
