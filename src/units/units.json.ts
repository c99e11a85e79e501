// JSON shapes of the units API: what /api/v1/units and /api/v1/units/:code/counters promise to clients.
import type { CounterWithFormUrl } from './units.service';
import type { Unit } from './units.types';

const localDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' });

/** A date as the local day in Hà Nội, YYYY-MM-DD. */
export function toLocalDay(date: Date): string {
  return localDay.format(date);
}

/** A date for people: "1 tháng 7, 2025" in Vietnamese, "1 July 2025" in English (Hà Nội time). */
export function formatDay(date: Date, lang: string): string {
  return date.toLocaleDateString(lang === 'en' ? 'en-GB' : 'vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: 'numeric', month: 'long', year: 'numeric' });
}

export function toUnitJson(unit: Unit) {
  return {
    code: unit.code,
    name: unit.name,
    shortName: unit.shortName,
    level: unit.level,
    parentCode: unit.parentCode,
    path: unit.path,
    legacy: unit.legacy,
    mergedInto: unit.mergedInto
      ? {
          code: unit.mergedInto.code,
          effectiveDate: toLocalDay(unit.mergedInto.effectiveDate),
          partial: Boolean(unit.mergedInto.partial),
          ...(unit.mergedInto.splitAmong ? { splitAmong: unit.mergedInto.splitAmong } : {}),
        }
      : null,
  };
}

export function toCounterJson(counter: CounterWithFormUrl) {
  return {
    id: counter.id,
    label: counter.label,
    fields: counter.fields,
    officeId: counter.officeId,
    officeName: counter.officeName,
    unitCode: counter.unitCode,
    formUrl: counter.formUrl,
  };
}
