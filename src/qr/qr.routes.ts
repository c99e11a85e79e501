// QR endpoints for staff: a counter's QR code as PNG or SVG, and a unit's printable posters as PDF.
import { Router, type Request, type Response } from 'express';
import { requirePermission } from '../auth/permissions';
import type { Config } from '../config';
import { unauthorized } from '../shared/errors';
import type { Scope } from '../shared/scope';
import { validate } from '../shared/http/validate';
import { IdParams, UnitCodeParams } from './qr.schema';
import { counterQrPng, counterQrSvg, unitPosters } from './qr.service';

function scopeOf(req: Request): Scope {
  if (!req.actor) throw unauthorized();
  return req.actor.scope;
}

/** Route parameters after validate(): one string each (zod has checked the format). */
const codeParam = (req: Request) => String(req.params.code);
const idParam = (req: Request) => String(req.params.id);

/** Staff-only files: never stored by shared caches, and revalidated so a rotated token shows at once. */
function privateFile(res: Response, type: string): Response {
  return res.type(type).set('Cache-Control', 'private, no-cache').set('X-Content-Type-Options', 'nosniff');
}

export function qrRouter(deps: { config: Config }): Router {
  const router = Router();
  const baseUrl = deps.config.publicBaseUrl;

  router.get('/admin/counters/:id/qr.png', requirePermission('qr:print'), validate({ params: IdParams }), async (req, res) => {
    const png = await counterQrPng(idParam(req), scopeOf(req), baseUrl);
    privateFile(res, 'image/png').send(png);
  });

  router.get('/admin/counters/:id/qr.svg', requirePermission('qr:print'), validate({ params: IdParams }), async (req, res) => {
    const svg = await counterQrSvg(idParam(req), scopeOf(req), baseUrl);
    privateFile(res, 'image/svg+xml').send(svg);
  });

  router.get('/admin/units/:code/posters.pdf', requirePermission('qr:print'), validate({ params: UnitCodeParams }), async (req, res) => {
    const { filename, pdf } = await unitPosters(codeParam(req), scopeOf(req), baseUrl);
    privateFile(res, 'application/pdf').set('Content-Disposition', `inline; filename="${filename}"`).send(pdf);
  });

  return router;
}
