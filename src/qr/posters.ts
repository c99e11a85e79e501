// A4 counter posters as a PDF (pdfkit, DejaVu fonts for Vietnamese diacritics): names, the QR code, the call to rate, hotlines.
import path from 'node:path';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { Translate } from '../shared/i18n';

export interface Poster {
  officeName: string;
  counterLabel: string;
  unitName: string;
  formUrl: string;
  hotlines: Array<{ label: string; phone: string }>;
}

const fontDir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_REGULAR = path.join(fontDir, 'DejaVuSans.ttf');
const FONT_BOLD = path.join(fontDir, 'DejaVuSans-Bold.ttf');

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 48;
const INK = '#1b1f24';
const MUTED = '#4a5563';
const BRAND = '#0b5394';

/** The URL without its scheme, as printed under the code for people who type it. */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/** Draws the QR code of `text` as vector squares in a `size` × `size` box at (x, y), with a 4-module quiet zone. */
function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'H' });
  const count = qr.modules.size;
  const cell = size / (count + 8);
  doc.save();
  doc.rect(x, y, size, size).fill('#ffffff');
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (qr.modules.data[row * count + col]) doc.rect(x + (col + 4) * cell, y + (row + 4) * cell, cell + 0.01, cell + 0.01);
    }
  }
  doc.fill('#000000');
  doc.restore();
}

function drawPoster(doc: PDFKit.PDFDocument, poster: Poster, vi: Translate, en: Translate): void {
  const width = A4.width - 2 * MARGIN;
  const center = { width, align: 'center' as const };
  doc.rect(0, 0, A4.width, 14).fill(BRAND);
  doc.fillColor(MUTED).font('regular').fontSize(12).text(poster.unitName, MARGIN, MARGIN, center);
  doc.moveDown(0.3).fillColor(INK).font('bold').fontSize(18).text(poster.officeName, center);
  doc.moveDown(0.4).fillColor(BRAND).font('bold').fontSize(26).text(poster.counterLabel, center);
  doc.moveDown(0.6).fillColor(INK).font('bold').fontSize(20).text(vi('qr.poster.scan'), center);
  doc.moveDown(0.2).fillColor(MUTED).font('regular').fontSize(13).text(en('qr.poster.scan'), center);

  const qrSize = 290;
  const qrTop = doc.y + 14;
  drawQr(doc, poster.formUrl, (A4.width - qrSize) / 2, qrTop, qrSize);
  doc.fillColor(INK).font('regular').fontSize(11).text(shortUrl(poster.formUrl), MARGIN, qrTop + qrSize + 6, center);
  doc.moveDown(0.3).fillColor(MUTED).fontSize(11).text(`${vi('qr.poster.promise')} / ${en('qr.poster.promise')}`, center);

  const boxTop = Math.max(doc.y + 20, A4.height - MARGIN - 60 - 22 * Math.max(poster.hotlines.length, 1));
  doc.moveTo(MARGIN, boxTop).lineTo(A4.width - MARGIN, boxTop).lineWidth(1).strokeColor(BRAND).stroke();
  doc.fillColor(INK).font('bold').fontSize(14).text(`${vi('qr.poster.hotlines')} / ${en('qr.poster.hotlines')}`, MARGIN, boxTop + 10, center);
  doc.moveDown(0.3).font('regular').fontSize(14);
  if (!poster.hotlines.length) doc.fillColor(MUTED).text(vi('qr.poster.noHotlines'), center);
  for (const hotline of poster.hotlines) doc.fillColor(INK).text(`${hotline.label}: ${hotline.phone}`, center);
}

/** One A4 page per poster; resolves to the PDF bytes. */
export function renderPostersPdf(posters: Poster[], translators: { vi: Translate; en: Translate; title: string }): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, autoFirstPage: false, info: { Title: translators.title, Creator: 'Thước Đo' } });
  doc.registerFont('regular', FONT_REGULAR);
  doc.registerFont('bold', FONT_BOLD);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const poster of posters) {
    doc.addPage();
    drawPoster(doc, poster, translators.vi, translators.en);
  }
  doc.end();
  return done;
}
