// Demo seed: Hà Nội, its former districts and pre-2025 communes (merged on 1 July 2025), 19 communes, offices and counters.
import type { Logger } from '../shared/logger';
import demoData from './demo/hanoi-demo-units.json';
import { insertCounterOnce, insertMissingUnits, insertOfficeOnce, type UnitSeed } from './units.repository';
import { newQrToken } from './units.tokens';

export interface DemoUnitsFile {
  province: { code: string; name: string; shortName: string };
  formerDistricts: Array<{ code: string; name: string }>;
  communes: Array<{ code: string; name: string; formerDistrict: string; formedFrom: string[][] }>;
}

/** 1 July 2025, 00:00 in Hà Nội: the day the two-level local government took effect. */
export const REFORM_DATE = new Date('2025-07-01T00:00:00+07:00');

export const OPENING_HOURS = 'Thứ Hai – Thứ Sáu: 7:30–11:30, 13:30–17:00; Sáng thứ Bảy: 8:00–11:30';

const COUNTER_TEMPLATES = [
  { label: 'Quầy 1 – Tư pháp – Hộ tịch', fields: ['Tư pháp – Hộ tịch', 'Chứng thực'] },
  { label: 'Quầy 2 – Đất đai – Xây dựng', fields: ['Đất đai', 'Xây dựng', 'Tài nguyên và Môi trường'] },
  { label: 'Quầy 3 – Lao động – Thương binh và Xã hội', fields: ['Lao động – Thương binh và Xã hội', 'Bảo trợ xã hội'] },
  { label: 'Quầy 4 – Đăng ký kinh doanh', fields: ['Đăng ký kinh doanh', 'Hộ kinh doanh cá thể'] },
] as const;

const stripPrefix = (name: string) => name.replace(/^(Xã|Phường|Thị trấn|Huyện|Thành phố)\s+/, '');
const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** 2, 3 or 4 counters, always the same for a given commune code. */
export function demoCounterCount(code: string): number {
  // Statistics codes step by 3, so a third of the code varies where the code itself would not.
  return 2 + (Math.floor(Number(code) / 3) % 3);
}

/** Every unit of the demo file: province, former districts, 2025 communes and the pre-2025 communes merged into them. */
export function demoUnitSeeds(data: DemoUnitsFile = demoData): UnitSeed[] {
  const province = data.province;
  const units: UnitSeed[] = [
    { code: province.code, name: province.name, shortName: province.shortName, level: 'province', parentCode: null, path: [province.code], legacy: false, mergedInto: null },
  ];
  for (const district of data.formerDistricts) {
    units.push({
      code: district.code,
      name: district.name,
      shortName: stripPrefix(district.name),
      level: 'district',
      parentCode: province.code,
      path: [province.code, district.code],
      legacy: true,
      mergedInto: null,
    });
  }
  const currentCodes = new Set(data.communes.map((commune) => commune.code));
  const formerCommunes = new Map<string, { name: string; district: string; successors: string[]; whole: string | null }>();
  for (const commune of data.communes) {
    units.push({
      code: commune.code,
      name: commune.name,
      shortName: stripPrefix(commune.name),
      level: 'commune',
      parentCode: province.code,
      path: [province.code, commune.code],
      legacy: false,
      mergedInto: null,
      formedFrom: commune.formedFrom.map(([code, name, part]) => ({ code, name, partial: part === 'part' })),
    });
    for (const [code, name, part] of commune.formedFrom) {
      // A reused code continues as the 2025 commune itself; only the other pre-2025 communes become legacy units.
      if (currentCodes.has(code)) continue;
      const former = formerCommunes.get(code) ?? { name, district: commune.formerDistrict, successors: [], whole: null };
      former.successors.push(commune.code);
      if (part !== 'part') former.whole = commune.code;
      formerCommunes.set(code, former);
    }
  }
  for (const [code, former] of formerCommunes) {
    const primary = former.whole ?? former.successors[0];
    const partial = former.whole === null;
    units.push({
      code,
      name: former.name,
      shortName: stripPrefix(former.name),
      level: 'commune',
      parentCode: former.district,
      path: [province.code, former.district, code],
      legacy: true,
      mergedInto: { code: primary, effectiveDate: REFORM_DATE, ...(partial ? { partial: true, splitAmong: former.successors } : {}) },
    });
  }
  return units;
}

function demoOffice(commune: DemoUnitsFile['communes'][number]) {
  const short = stripPrefix(commune.name);
  const seat = commune.formedFrom.find(([code]) => code === commune.code)?.[1];
  const digits = commune.code.padStart(5, '0');
  return {
    name: `Trung tâm Phục vụ hành chính công xã ${short}`,
    address: `Trụ sở UBND xã ${short}${seat ? ` (trụ sở ${lowerFirst(seat)} cũ)` : ''}, thành phố Hà Nội`,
    openingHours: OPENING_HOURS,
    hotlines: [
      { label: 'Chủ tịch UBND xã', phone: `024 3${digits.slice(1, 4)} ${digits.slice(1)}` },
      { label: 'Giám đốc Trung tâm Phục vụ hành chính công', phone: `0912 ${digits.slice(2)} ${digits.slice(0, 3)}` },
    ],
  };
}

export interface SeedUnitsResult {
  units: number;
  offices: number;
  counters: number;
  inserted: number;
}

/** Seeds the demo units, offices and counters; idempotent (existing records, and their QR tokens, are kept). */
export async function seedDemoUnits(deps: { logger?: Logger } = {}, data: DemoUnitsFile = demoData): Promise<SeedUnitsResult> {
  const seeds = demoUnitSeeds(data);
  const inserted = await insertMissingUnits(seeds);
  let offices = 0;
  let counters = 0;
  for (const commune of data.communes) {
    const unit = { code: commune.code, path: [data.province.code, commune.code] };
    const office = await insertOfficeOnce(`demo-office-${commune.code}`, unit, demoOffice(commune));
    offices += 1;
    for (const [index, template] of COUNTER_TEMPLATES.slice(0, demoCounterCount(commune.code)).entries()) {
      const key = `demo-counter-${commune.code}-${index + 1}`;
      await insertCounterOnce(key, office, { label: template.label, fields: [...template.fields] }, newQrToken());
      counters += 1;
    }
  }
  deps.logger?.info({ units: seeds.length, offices, counters, newUnits: inserted }, 'demo units ready');
  return { units: seeds.length, offices, counters, inserted };
}
