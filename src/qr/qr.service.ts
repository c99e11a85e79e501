// QR images of a counter's form URL (PNG, SVG) and the PDF posters of a unit's counters, all scope-checked.
import QRCode from 'qrcode';
import { translator } from '../shared/i18n';
import type { Scope } from '../shared/scope';
import { findCounters, findOffices, formUrlFor, getCounter, getUnit, listUnitsInScope } from '../units';
import { unprocessable } from '../shared/errors';
import { renderPostersPdf, type Poster } from './posters';

/** High error correction: about 30% of the code may be worn or dirty and it still scans. */
const ERROR_CORRECTION = 'H';

/** The absolute form URL of a counter in the scope (404 outside it). */
export async function counterFormUrl(counterId: string, scope: Scope, publicBaseUrl: string): Promise<string> {
  const counter = await getCounter(counterId, scope);
  return formUrlFor(publicBaseUrl, counter.qrToken);
}

/** A PNG of the counter's QR code, large enough to print. */
export async function counterQrPng(counterId: string, scope: Scope, publicBaseUrl: string): Promise<Buffer> {
  const url = await counterFormUrl(counterId, scope, publicBaseUrl);
  return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: ERROR_CORRECTION, margin: 4, width: 600 });
}

/** An SVG of the counter's QR code (scales to any print size). */
export async function counterQrSvg(counterId: string, scope: Scope, publicBaseUrl: string): Promise<string> {
  const url = await counterFormUrl(counterId, scope, publicBaseUrl);
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: 4 });
}

/** The posters of every active counter (of active offices) in a unit and its descendants; 422 when there is none. */
export async function unitPosters(code: string, scope: Scope, publicBaseUrl: string): Promise<{ filename: string; pdf: Buffer }> {
  const unit = await getUnit(code, scope);
  const [offices, counters, units] = await Promise.all([
    findOffices(scope, { under: code, activeOnly: true }),
    findCounters(scope, { under: code, activeOnly: true }),
    listUnitsInScope(scope, { includeLegacy: true }),
  ]);
  const officeById = new Map(offices.map((office) => [office.id, office]));
  const unitNames = new Map(units.map((u) => [u.code, u.name]));
  const posters: Poster[] = counters.flatMap((counter) => {
    const office = officeById.get(counter.officeId);
    if (!office) return [];
    return [{
      officeName: office.name,
      counterLabel: counter.label,
      unitName: unitNames.get(counter.unitCode) ?? unit.name,
      formUrl: formUrlFor(publicBaseUrl, counter.qrToken),
      hotlines: office.hotlines,
    }];
  });
  if (!posters.length) throw unprocessable('qr.errors.noCounters');
  const vi = translator('vi');
  const pdf = await renderPostersPdf(posters, { vi, en: translator('en'), title: vi('qr.poster.title', { unit: unit.name }) });
  return { filename: `posters-${unit.code}.pdf`, pdf };
}
