// What other components may import from units: scoped reads, QR token lookup, merge history, the router and the demo seed.
export {
  findCounterByToken,
  listUnitsInScope,
  getUnit,
  getOffice,
  getCounter,
  unitPathOf,
  successorOf,
  resolveUnitForHistory,
  rollUpCodes,
  listCountersOfUnit,
  buildUnitTree,
  type StaffContext,
  type CounterWithFormUrl,
} from './units.service';
export { findCounters, findOffices } from './units.repository';
export { seedDemoUnits, REFORM_DATE, type SeedUnitsResult } from './units.seed';
export { formUrlFor, QR_TOKEN_PATTERN } from './units.tokens';
export { toLocalDay } from './units.json';
export { unitsRouter } from './units.routes';
export type { Unit, Office, Counter, CounterByToken, UnitTreeNode, Hotline } from './units.types';
