// Merge history and the demo tree as pure logic: successors, roll-ups, cycles, demo seed shape, tree building.
import { resolveSuccessor, rollUpCodes, wouldCreateCycle, type MergeLinks } from '../../src/units/units.history';
import { demoCounterCount, demoUnitSeeds, REFORM_DATE } from '../../src/units/units.seed';
import { buildUnitTree } from '../../src/units/units.service';
import type { Unit } from '../../src/units/units.types';

const day = (iso: string) => new Date(`${iso}T00:00:00+07:00`);

const links: MergeLinks = new Map([
  ['A', { code: 'B', effectiveDate: day('2025-07-01') }],
  ['B', { code: 'C', effectiveDate: day('2026-01-01') }],
  ['D', { code: 'B', effectiveDate: day('2025-07-01') }],
  ['E', { code: 'C', effectiveDate: day('2027-01-01') }],
]);

describe('merge history', () => {
  test('when the date is before the merge, then the unit is its own successor', () => {
    expect(resolveSuccessor(links, 'A', day('2025-06-30'))).toBe('A');
  });

  test('when the date is on the effective date, then the successor carries the history', () => {
    expect(resolveSuccessor(links, 'A', day('2025-07-01'))).toBe('B');
  });

  test('when merges chain, then the successor follows every merge effective by then', () => {
    expect(resolveSuccessor(links, 'A', day('2025-12-31'))).toBe('B');
    expect(resolveSuccessor(links, 'A', day('2026-01-01'))).toBe('C');
  });

  test('when a unit was never merged, then it is its own successor', () => {
    expect(resolveSuccessor(links, 'C', day('2030-01-01'))).toBe('C');
  });

  test('when the links contain a cycle, then resolution stops instead of looping', () => {
    const cyclic: MergeLinks = new Map([
      ['X', { code: 'Y', effectiveDate: day('2025-01-01') }],
      ['Y', { code: 'X', effectiveDate: day('2025-01-01') }],
    ]);
    expect(['X', 'Y']).toContain(resolveSuccessor(cyclic, 'X', day('2026-01-01')));
  });

  test('when rolling up, then a unit includes every predecessor merged into it by the date, transitively', () => {
    expect(rollUpCodes(links, 'C', day('2026-06-01')).sort()).toEqual(['A', 'B', 'C', 'D']);
    expect(rollUpCodes(links, 'C', day('2027-01-01')).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(rollUpCodes(links, 'B', day('2025-06-30'))).toEqual(['B']);
  });

  test('when a merge would make a unit its own successor, then it is a cycle', () => {
    expect(wouldCreateCycle(links, 'C', 'A')).toBe(true);
    expect(wouldCreateCycle(links, 'C', 'C')).toBe(true);
    expect(wouldCreateCycle(links, 'C', 'F')).toBe(false);
  });
});

describe('demo units', () => {
  const seeds = demoUnitSeeds();
  const byCode = new Map(seeds.map((unit) => [unit.code, unit]));

  test('when built from the demo file, then Hà Nội has 19 current communes and 4 former districts', () => {
    const communes = seeds.filter((unit) => unit.level === 'commune' && !unit.legacy);
    expect(communes).toHaveLength(19);
    expect(communes.every((unit) => unit.parentCode === '01' && unit.path.join('/') === `01/${unit.code}`)).toBe(true);
    expect(seeds.filter((unit) => unit.level === 'district').map((unit) => unit.code).sort()).toEqual(['271', '272', '273', '276']);
    expect(byCode.get('01')).toMatchObject({ level: 'province', path: ['01'], legacy: false });
  });

  test('when a pre-2025 commune went wholly into a 2025 commune, then it is a legacy unit under its district merged on 1 July 2025', () => {
    expect(byCode.get('09805')).toMatchObject({
      name: 'Xã Hạ Mỗ',
      path: ['01', '273', '09805'],
      legacy: true,
      mergedInto: { code: '09817', effectiveDate: REFORM_DATE },
    });
    expect(byCode.get('09805')?.mergedInto?.partial).toBeUndefined();
  });

  test('when a pre-2025 commune was split, then the partial merge lists every receiving commune', () => {
    expect(byCode.get('09796')?.mergedInto).toMatchObject({ code: '09817', partial: true, splitAmong: ['09817', '09787'] });
  });

  test('when a 2025 commune reuses an old code, then there is one unit with that code and it records what it was formed from', () => {
    expect(seeds.filter((unit) => unit.code === '09817')).toHaveLength(1);
    expect(byCode.get('09817')?.formedFrom).toContainEqual({ code: '09817', name: 'Xã Tân Hội', partial: false });
    expect(byCode.get('09817')?.formedFrom).toContainEqual({ code: '09802', name: 'Xã Liên Hà', partial: true });
  });

  test('when counting demo counters, then every commune gets 2 to 4, the same on every run, not all equal', () => {
    const counts = seeds.filter((unit) => unit.level === 'commune' && !unit.legacy).map((unit) => demoCounterCount(unit.code));
    expect(counts.every((n) => n >= 2 && n <= 4)).toBe(true);
    expect(new Set(counts).size).toBeGreaterThan(1);
    expect(demoCounterCount('09817')).toBe(demoCounterCount('09817'));
  });
});

describe('unit tree', () => {
  const unit = (code: string, parentCode: string | null, name: string): Unit => ({
    code,
    name,
    shortName: null,
    level: parentCode ? 'commune' : 'province',
    parentCode,
    path: parentCode ? [parentCode, code] : [code],
    legacy: false,
    mergedInto: null,
    formedFrom: [],
  });

  test('when units are nested, then children sit under their parent in Vietnamese alphabetical order', () => {
    const tree = buildUnitTree([unit('09817', '01', 'Xã Ô Diên'), unit('01', null, 'Thành phố Hà Nội'), unit('09700', '01', 'Xã Ba Vì')]);
    expect(tree).toHaveLength(1);
    expect(tree[0]?.children.map((node) => node.unit.code)).toEqual(['09700', '09817']);
  });

  test('when the parent is outside the list (a commune-scoped official), then the unit is a root', () => {
    const tree = buildUnitTree([unit('09817', '01', 'Xã Ô Diên')]);
    expect(tree.map((node) => node.unit.code)).toEqual(['09817']);
  });
});
