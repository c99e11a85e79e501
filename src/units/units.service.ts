// Use cases for units, offices and counters: scoped reads, the tree, merges, and the audited administration actions.
import { recordAudit } from '../audit';
import { AppError, conflict, notFound } from '../shared/errors';
import { ALL_UNITS, type Scope } from '../shared/scope';
import * as repo from './units.repository';
import { resolveSuccessor, rollUpCodes as rollUpCodesIn, wouldCreateCycle, type MergeLinks } from './units.history';
import type { CounterInput, MergeUnitInput, OfficeInput, RenameUnitInput } from './units.schema';
import { formUrlFor, newQrToken, QR_TOKEN_PATTERN } from './units.tokens';
import type { Counter, CounterByToken, Office, Unit, UnitTreeNode } from './units.types';

/** Who acts, and from where (the address is only ever stored hashed by the audit log). */
export interface StaffContext {
  actor: Actor;
  ip?: string;
}

const auditActor = (ctx: StaffContext) => ({ id: ctx.actor.id, username: ctx.actor.username });

// Reads other components use

/** Units the scope may see (current units only unless includeLegacy), ordered root first. */
export function listUnitsInScope(scope: Scope, options: { includeLegacy?: boolean } = {}): Promise<Unit[]> {
  return repo.findUnits(scope, options);
}

/** One unit in scope; 404 when it does not exist or lies outside the scope (existence does not leak). */
export async function getUnit(code: string, scope: Scope): Promise<Unit> {
  const unit = await repo.findUnit(code, scope);
  if (!unit) throw notFound('unit');
  return unit;
}

export async function getOffice(id: string, scope: Scope): Promise<Office> {
  const office = await repo.findOffice(id, scope);
  if (!office) throw notFound('office');
  return office;
}

export async function getCounter(id: string, scope: Scope): Promise<Counter> {
  const counter = await repo.findCounter(id, scope);
  if (!counter) throw notFound('counter');
  return counter;
}

/** The path (codes root → unit) of a unit, or null when there is no such unit. System use: not scoped. */
export async function unitPathOf(code: string): Promise<string[] | null> {
  const unit = await repo.findUnit(code, ALL_UNITS);
  return unit ? unit.path : null;
}

/**
 * What a QR token leads to, for the public form: the active counter with its office and unit,
 * `{ revoked: true }` for a rotated token or a deactivated counter/office, or null for an unknown token.
 */
export async function findCounterByToken(token: string): Promise<CounterByToken | null> {
  if (!QR_TOKEN_PATTERN.test(token)) return null;
  const counter = await repo.findCounterByQrToken(token, ALL_UNITS);
  if (!counter) {
    const previous = await repo.findCounterByRevokedToken(token, ALL_UNITS);
    return previous ? { revoked: true, reason: 'rotated' } : null;
  }
  const [office, unit] = await Promise.all([repo.findOffice(counter.officeId, ALL_UNITS), repo.findUnit(counter.unitCode, ALL_UNITS)]);
  if (!office || !unit || !counter.active || !office.active) return { revoked: true, reason: 'deactivated' };
  return { revoked: false, counter, office, unit };
}

async function mergeLinks(): Promise<MergeLinks> {
  const merged = await repo.findMergedUnits(ALL_UNITS);
  return new Map(merged.flatMap((unit) => (unit.mergedInto ? [[unit.code, unit.mergedInto] as const] : [])));
}

/** The unit code that carries `code`'s history on `date` (follows merges effective by then). */
export async function successorOf(code: string, date: Date): Promise<string> {
  return resolveSuccessor(await mergeLinks(), code, date);
}

/** The current unit into which a (possibly merged) unit's history rolls up, or null for an unknown code. */
export async function resolveUnitForHistory(code: string, at: Date = new Date()): Promise<Unit | null> {
  return repo.findUnit(await successorOf(code, at), ALL_UNITS);
}

/** `code` and every unit merged into it (transitively) by `at`: the codes whose history a report on `code` includes. */
export async function rollUpCodes(code: string, at: Date = new Date()): Promise<string[]> {
  return rollUpCodesIn(await mergeLinks(), code, at);
}

export interface CounterWithFormUrl extends Counter {
  formUrl: string;
  officeName: string;
}

/** Active counters of a unit and its descendants, each with its absolute form URL; 404 outside the scope. */
export async function listCountersOfUnit(code: string, scope: Scope, publicBaseUrl: string): Promise<{ unit: Unit; counters: CounterWithFormUrl[] }> {
  const unit = await getUnit(code, scope);
  const [offices, counters] = await Promise.all([
    repo.findOffices(scope, { under: code, activeOnly: true }),
    repo.findCounters(scope, { under: code, activeOnly: true }),
  ]);
  const officeNames = new Map(offices.map((office) => [office.id, office.name]));
  return {
    unit,
    counters: counters
      .filter((counter) => officeNames.has(counter.officeId))
      .map((counter) => ({ ...counter, officeName: officeNames.get(counter.officeId) ?? '', formUrl: formUrlFor(publicBaseUrl, counter.qrToken) })),
  };
}

/** Nests units under their parents; a unit whose parent is not in the list becomes a root. */
export function buildUnitTree(units: Unit[]): UnitTreeNode[] {
  const nodes = new Map(units.map((unit) => [unit.code, { unit, children: [] as UnitTreeNode[] }]));
  const roots: UnitTreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.unit.parentCode ? nodes.get(node.unit.parentCode) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: UnitTreeNode[]) => {
    list.sort((a, b) => (a.unit.shortName ?? a.unit.name).localeCompare(b.unit.shortName ?? b.unit.name, 'vi'));
    list.forEach((node) => sort(node.children));
  };
  sort(roots);
  return roots;
}

// Administration pages

export interface UnitTreePage {
  tree: UnitTreeNode[];
  legacy: Unit[];
}

export async function loadUnitTree(scope: Scope): Promise<UnitTreePage> {
  const units = await repo.findUnits(scope, { includeLegacy: true });
  return { tree: buildUnitTree(units.filter((unit) => !unit.legacy)), legacy: units.filter((unit) => unit.legacy) };
}

export interface UnitPage {
  unit: Unit;
  parent: Unit | null;
  children: Unit[];
  predecessors: Unit[];
  successor: Unit | null;
  offices: Array<Office & { counters: Counter[] }>;
}

/** A unit with its children, the units merged into it, its offices and their counters; 404 outside the scope. */
export async function loadUnitPage(code: string, scope: Scope): Promise<UnitPage> {
  const unit = await getUnit(code, scope);
  const [parent, children, merged, offices, successor] = await Promise.all([
    unit.parentCode ? repo.findUnit(unit.parentCode, scope) : null,
    repo.findUnits(scope, { includeLegacy: true, under: code }),
    repo.findMergedUnits(scope),
    repo.findOffices(scope, { under: code }),
    unit.mergedInto ? repo.findUnit(unit.mergedInto.code, scope) : null,
  ]);
  const ownOffices = offices.filter((office) => office.unitCode === code);
  const counters = await repo.findCounters(scope, { officeIds: ownOffices.map((office) => office.id) });
  return {
    unit,
    parent,
    children: children.filter((child) => child.parentCode === code),
    predecessors: merged.filter((other) => other.mergedInto?.code === code),
    successor,
    offices: ownOffices.map((office) => ({ ...office, counters: counters.filter((counter) => counter.officeId === office.id) })),
  };
}

const fieldError = (field: string, key: string, status = 400) =>
  new AppError(status, 'validation_failed', 'errors.validationFailed', {}, { [field]: key });

/** Renames a unit (admin). */
export async function renameUnit(ctx: StaffContext, code: string, input: RenameUnitInput): Promise<Unit> {
  const before = await getUnit(code, ctx.actor.scope);
  const unit = await repo.renameUnit(code, ctx.actor.scope, input);
  if (!unit) throw notFound('unit');
  await recordAudit(auditActor(ctx), 'unit.rename', { type: 'unit', id: code, unitPath: unit.path }, {
    previousName: before.name,
    name: unit.name,
  }, { ip: ctx.ip });
  return unit;
}

/** Merges unit `code` into `input.targetCode` from the effective date on (admin); history then rolls up into the target. */
export async function mergeUnit(ctx: StaffContext, code: string, input: MergeUnitInput): Promise<Unit> {
  const scope = ctx.actor.scope;
  const unit = await getUnit(code, scope);
  const target = await repo.findUnit(input.targetCode, scope);
  if (!target) throw fieldError('targetCode', 'units.errors.targetNotFound');
  if (unit.mergedInto) throw fieldError('targetCode', 'units.errors.alreadyMerged');
  if (target.legacy || target.mergedInto) throw fieldError('targetCode', 'units.errors.targetLegacy');
  if (target.level !== unit.level || target.path.includes(code)) throw fieldError('targetCode', 'units.errors.targetLevel');
  if (wouldCreateCycle(await mergeLinks(), code, target.code)) throw fieldError('targetCode', 'units.errors.targetLevel');
  if ((await repo.countActiveOffices(code, scope)) > 0) throw fieldError('targetCode', 'units.errors.hasActiveOffices');
  const effectiveDate = new Date(`${input.effectiveDate}T00:00:00+07:00`);
  const merged = await repo.recordUnitMerge(code, scope, { code: target.code, effectiveDate });
  if (!merged) throw conflict();
  await recordAudit(auditActor(ctx), 'unit.merge', { type: 'unit', id: code, unitPath: unit.path }, {
    into: target.code,
    effectiveDate: input.effectiveDate,
  }, { ip: ctx.ip });
  return merged;
}

/** Creates an office in a current unit of the actor's scope. */
export async function createOffice(ctx: StaffContext, unitCode: string, input: OfficeInput): Promise<Office> {
  const unit = await getUnit(unitCode, ctx.actor.scope);
  if (unit.legacy) throw fieldError('name', 'offices.errors.legacyUnit');
  const office = await repo.insertOffice(unit, input);
  await recordAudit(auditActor(ctx), 'office.create', { type: 'office', id: office.id, unitPath: office.unitPath }, {
    unitCode,
  }, { ip: ctx.ip });
  return office;
}

export async function updateOffice(ctx: StaffContext, id: string, input: OfficeInput): Promise<Office> {
  const office = await repo.updateOffice(id, ctx.actor.scope, input);
  if (!office) throw notFound('office');
  await recordAudit(auditActor(ctx), 'office.update', { type: 'office', id, unitPath: office.unitPath }, {
    hotlines: office.hotlines.length,
  }, { ip: ctx.ip });
  return office;
}

/** Deactivates (or reactivates) an office; its counters' QR codes stop (or resume) working with it. */
export async function setOfficeActive(ctx: StaffContext, id: string, active: boolean): Promise<Office> {
  const office = await repo.updateOffice(id, ctx.actor.scope, { active });
  if (!office) throw notFound('office');
  await recordAudit(auditActor(ctx), active ? 'office.activate' : 'office.deactivate', {
    type: 'office',
    id,
    unitPath: office.unitPath,
  }, {}, { ip: ctx.ip });
  return office;
}

/** Creates a counter with a fresh QR token in an office of the actor's scope. */
export async function createCounter(ctx: StaffContext, officeId: string, input: CounterInput): Promise<Counter> {
  const office = await getOffice(officeId, ctx.actor.scope);
  if (!office.active) throw fieldError('label', 'counters.errors.officeInactive');
  const counter = await repo.insertCounter(office, input, newQrToken());
  await recordAudit(auditActor(ctx), 'counter.create', { type: 'counter', id: counter.id, unitPath: counter.unitPath }, {
    officeId,
  }, { ip: ctx.ip });
  return counter;
}

export async function updateCounter(ctx: StaffContext, id: string, input: CounterInput): Promise<Counter> {
  const counter = await repo.updateCounter(id, ctx.actor.scope, input);
  if (!counter) throw notFound('counter');
  await recordAudit(auditActor(ctx), 'counter.update', { type: 'counter', id, unitPath: counter.unitPath }, {
    fields: counter.fields.length,
  }, { ip: ctx.ip });
  return counter;
}

export async function setCounterActive(ctx: StaffContext, id: string, active: boolean): Promise<Counter> {
  const counter = await repo.updateCounter(id, ctx.actor.scope, { active });
  if (!counter) throw notFound('counter');
  await recordAudit(auditActor(ctx), active ? 'counter.activate' : 'counter.deactivate', {
    type: 'counter',
    id,
    unitPath: counter.unitPath,
  }, {}, { ip: ctx.ip });
  return counter;
}

/** Gives a counter a new QR token; the old one is kept as revoked so old posters answer "this code was replaced". */
export async function rotateCounterToken(ctx: StaffContext, id: string): Promise<Counter> {
  const current = await getCounter(id, ctx.actor.scope);
  const counter = await repo.replaceQrToken(id, ctx.actor.scope, current.qrToken, newQrToken(), new Date());
  if (!counter) throw conflict();
  await recordAudit(auditActor(ctx), 'counter.rotate_token', { type: 'counter', id, unitPath: counter.unitPath }, {
    revokedTokens: counter.revokedTokens.length,
  }, { ip: ctx.ip });
  return counter;
}
