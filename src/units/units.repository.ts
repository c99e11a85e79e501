// The only place that queries units, offices and counters; returns plain objects and applies the caller's scope.
import { isValidObjectId, Types, type Model } from 'mongoose';
import { scopeFilter, type Scope } from '../shared/scope';
import {
  CounterModel,
  OfficeModel,
  UnitModel,
  type CounterDoc,
  type FormedFromEntry,
  type Hotline,
  type MergeRecord,
  type OfficeDoc,
  type UnitDoc,
} from './units.model';
import type { Counter, Office, Unit } from './units.types';

type Filter = Record<string, unknown>;

/** Adds the scope restriction on `field` to a filter (an `$and`, so a filter on the same field still applies). */
function scoped(filter: Filter, scope: Scope, field: string): Filter {
  const restriction = scopeFilter(scope, field);
  return Object.keys(restriction).length ? { $and: [filter, restriction] } : filter;
}

type Lean<T> = Omit<T, '_id'> & { _id: unknown };

function toUnit(doc: Lean<UnitDoc>): Unit {
  return {
    code: doc.code,
    name: doc.name,
    shortName: doc.shortName ?? null,
    level: doc.level,
    parentCode: doc.parentCode ?? null,
    path: [...doc.path],
    legacy: Boolean(doc.legacy),
    mergedInto: doc.mergedInto
      ? {
          code: doc.mergedInto.code,
          effectiveDate: new Date(doc.mergedInto.effectiveDate),
          ...(doc.mergedInto.partial ? { partial: true, splitAmong: [...(doc.mergedInto.splitAmong ?? [])] } : {}),
        }
      : null,
    formedFrom: (doc.formedFrom ?? []).map((entry) => ({ code: entry.code, name: entry.name, partial: Boolean(entry.partial) })),
  };
}

function toOffice(doc: Lean<OfficeDoc>): Office {
  return {
    id: String(doc._id),
    unitCode: doc.unitCode,
    unitPath: [...doc.unitPath],
    name: doc.name,
    address: doc.address ?? '',
    openingHours: doc.openingHours ?? '',
    hotlines: (doc.hotlines ?? []).map((h) => ({ label: h.label, phone: h.phone })),
    active: doc.active !== false,
  };
}

function toCounter(doc: Lean<CounterDoc>): Counter {
  return {
    id: String(doc._id),
    officeId: String(doc.officeId),
    unitCode: doc.unitCode,
    unitPath: [...doc.unitPath],
    label: doc.label,
    fields: [...(doc.fields ?? [])],
    qrToken: doc.qrToken,
    revokedTokens: (doc.revokedTokens ?? []).map((r) => ({ token: r.token, revokedAt: new Date(r.revokedAt) })),
    active: doc.active !== false,
  };
}

function objectId(id: string): Types.ObjectId | null {
  return isValidObjectId(id) && /^[a-f0-9]{24}$/i.test(id) ? new Types.ObjectId(id) : null;
}

const byPath = (a: Unit, b: Unit) => a.path.join('/').localeCompare(b.path.join('/'));

// Units

export async function findUnits(scope: Scope, options: { includeLegacy?: boolean; under?: string } = {}): Promise<Unit[]> {
  const filter: Filter = {};
  if (!options.includeLegacy) filter.legacy = false;
  if (options.under) filter.path = options.under;
  const docs = await UnitModel.find(scoped(filter, scope, 'path')).lean<Lean<UnitDoc>[]>();
  return docs.map(toUnit).sort(byPath);
}

export async function findUnit(code: string, scope: Scope): Promise<Unit | null> {
  const doc = await UnitModel.findOne(scoped({ code }, scope, 'path')).lean<Lean<UnitDoc>>();
  return doc ? toUnit(doc) : null;
}

/** Units that were merged into another one (the links that history follows). */
export async function findMergedUnits(scope: Scope): Promise<Unit[]> {
  const docs = await UnitModel.find(scoped({ mergedInto: { $ne: null } }, scope, 'path')).lean<Lean<UnitDoc>[]>();
  return docs.map(toUnit);
}

export async function renameUnit(code: string, scope: Scope, names: { name: string; shortName: string | null }): Promise<Unit | null> {
  const doc = await UnitModel.findOneAndUpdate(scoped({ code }, scope, 'path'), { $set: names }, { returnDocument: 'after' }).lean<
    Lean<UnitDoc>
  >();
  return doc ? toUnit(doc) : null;
}

/** Records the merge only if the unit has not been merged meanwhile; null when nothing matched. */
export async function recordUnitMerge(code: string, scope: Scope, merge: MergeRecord): Promise<Unit | null> {
  const doc = await UnitModel.findOneAndUpdate(
    scoped({ code, mergedInto: null }, scope, 'path'),
    { $set: { mergedInto: merge, legacy: true } },
    { returnDocument: 'after' },
  ).lean<Lean<UnitDoc>>();
  return doc ? toUnit(doc) : null;
}

/** A unit as the demo seed describes it: what a stored unit has, its history of predecessors optional. */
export type UnitSeed = Omit<Unit, 'formedFrom'> & { formedFrom?: FormedFromEntry[] };

/** Inserts units that do not exist yet (by code); existing units, possibly renamed by an admin, stay as they are. */
export async function insertMissingUnits(units: UnitSeed[]): Promise<number> {
  if (!units.length) return 0;
  const result = await UnitModel.bulkWrite(
    units.map((unit) => ({
      updateOne: { filter: { code: unit.code }, update: { $setOnInsert: unit }, upsert: true },
    })),
    { ordered: false },
  );
  return result.upsertedCount;
}

// Offices

export async function findOffices(scope: Scope, options: { under?: string; activeOnly?: boolean } = {}): Promise<Office[]> {
  const filter: Filter = {};
  if (options.under) filter.unitPath = options.under;
  if (options.activeOnly) filter.active = true;
  const docs = await OfficeModel.find(scoped(filter, scope, 'unitPath')).sort({ unitCode: 1, name: 1 }).lean<Lean<OfficeDoc>[]>();
  return docs.map(toOffice);
}

export async function findOffice(id: string, scope: Scope): Promise<Office | null> {
  const _id = objectId(id);
  if (!_id) return null;
  const doc = await OfficeModel.findOne(scoped({ _id }, scope, 'unitPath')).lean<Lean<OfficeDoc>>();
  return doc ? toOffice(doc) : null;
}

export interface OfficeFields {
  name: string;
  address: string;
  openingHours: string;
  hotlines: Hotline[];
}

export async function insertOffice(unit: Pick<Unit, 'code' | 'path'>, fields: OfficeFields): Promise<Office> {
  const doc = await OfficeModel.create({ ...fields, unitCode: unit.code, unitPath: unit.path, active: true });
  return toOffice(doc.toObject());
}

/** Sets fields of one office or counter inside the scope; null when the id is malformed, unknown or out of scope. */
async function patchInScope<D>(model: Model<D>, id: string, scope: Scope, patch: object): Promise<Lean<D> | null> {
  const _id = objectId(id);
  if (!_id) return null;
  return model.findOneAndUpdate(scoped({ _id }, scope, 'unitPath'), { $set: patch }, { returnDocument: 'after' }).lean<Lean<D>>();
}

export async function updateOffice(id: string, scope: Scope, patch: Partial<OfficeFields> & { active?: boolean }): Promise<Office | null> {
  const doc = await patchInScope(OfficeModel, id, scope, patch);
  return doc ? toOffice(doc) : null;
}

export async function countActiveOffices(unitCode: string, scope: Scope): Promise<number> {
  return OfficeModel.countDocuments(scoped({ unitCode, active: true }, scope, 'unitPath'));
}

/** Inserts an office under a stable seed key unless one exists; returns the office either way. */
export async function insertOfficeOnce(seedKey: string, unit: Pick<Unit, 'code' | 'path'>, fields: OfficeFields): Promise<Office> {
  const doc = await OfficeModel.findOneAndUpdate(
    { seedKey },
    { $setOnInsert: { ...fields, seedKey, unitCode: unit.code, unitPath: unit.path, active: true } },
    { upsert: true, returnDocument: 'after' },
  ).lean<Lean<OfficeDoc>>();
  if (!doc) throw new Error(`office ${seedKey} was not stored`);
  return toOffice(doc);
}

// Counters

export async function findCounters(
  scope: Scope,
  options: { under?: string; officeIds?: string[]; activeOnly?: boolean } = {},
): Promise<Counter[]> {
  const filter: Filter = {};
  if (options.under) filter.unitPath = options.under;
  if (options.officeIds) filter.officeId = { $in: options.officeIds.map(objectId).filter((id) => id !== null) };
  if (options.activeOnly) filter.active = true;
  const docs = await CounterModel.find(scoped(filter, scope, 'unitPath')).lean<Lean<CounterDoc>[]>();
  return docs.map(toCounter).sort((a, b) => a.unitCode.localeCompare(b.unitCode) || a.label.localeCompare(b.label, 'vi'));
}

export async function findCounter(id: string, scope: Scope): Promise<Counter | null> {
  const _id = objectId(id);
  if (!_id) return null;
  const doc = await CounterModel.findOne(scoped({ _id }, scope, 'unitPath')).lean<Lean<CounterDoc>>();
  return doc ? toCounter(doc) : null;
}

export async function findCounterByQrToken(token: string, scope: Scope): Promise<Counter | null> {
  const doc = await CounterModel.findOne(scoped({ qrToken: token }, scope, 'unitPath')).lean<Lean<CounterDoc>>();
  return doc ? toCounter(doc) : null;
}

export async function findCounterByRevokedToken(token: string, scope: Scope): Promise<Counter | null> {
  const doc = await CounterModel.findOne(scoped({ 'revokedTokens.token': token }, scope, 'unitPath')).lean<Lean<CounterDoc>>();
  return doc ? toCounter(doc) : null;
}

export interface CounterFields {
  label: string;
  fields: string[];
}

/** A new, active counter of `office` with its first QR token. */
function newCounter(office: Office, fields: CounterFields, qrToken: string) {
  return {
    ...fields,
    officeId: new Types.ObjectId(office.id),
    unitCode: office.unitCode,
    unitPath: office.unitPath,
    qrToken,
    revokedTokens: [],
    active: true,
  };
}

export async function insertCounter(office: Office, fields: CounterFields, qrToken: string): Promise<Counter> {
  const doc = await CounterModel.create(newCounter(office, fields, qrToken));
  return toCounter(doc.toObject());
}

export async function updateCounter(id: string, scope: Scope, patch: Partial<CounterFields> & { active?: boolean }): Promise<Counter | null> {
  const doc = await patchInScope(CounterModel, id, scope, patch);
  return doc ? toCounter(doc) : null;
}

/** Replaces the QR token only if it is still `currentToken`, keeping the old one as revoked; null when it changed meanwhile. */
export async function replaceQrToken(id: string, scope: Scope, currentToken: string, newToken: string, at: Date): Promise<Counter | null> {
  const _id = objectId(id);
  if (!_id) return null;
  const doc = await CounterModel.findOneAndUpdate(
    scoped({ _id, qrToken: currentToken }, scope, 'unitPath'),
    { $set: { qrToken: newToken }, $push: { revokedTokens: { token: currentToken, revokedAt: at } } },
    { returnDocument: 'after' },
  ).lean<Lean<CounterDoc>>();
  return doc ? toCounter(doc) : null;
}

/** Inserts a counter under a stable seed key unless one exists; an existing counter keeps its QR token. */
export async function insertCounterOnce(seedKey: string, office: Office, fields: CounterFields, qrToken: string): Promise<Counter> {
  const doc = await CounterModel.findOneAndUpdate(
    { seedKey },
    { $setOnInsert: { ...newCounter(office, fields, qrToken), seedKey } },
    { upsert: true, returnDocument: 'after' },
  ).lean<Lean<CounterDoc>>();
  if (!doc) throw new Error(`counter ${seedKey} was not stored`);
  return toCounter(doc);
}
