// Audit log pages: GET /admin/audit (admin), filtered by actor, action and local date, paginated.
import { Router } from 'express';
import { requirePermission } from '../auth/permissions';
import { parseForm } from '../shared/http/validate';
import { AuditQuerySchema } from './audit.schema';
import { searchAudit } from './audit.service';

const PAGE_SIZE = 50;

/** Start of a local day in Việt Nam (UTC+7, no daylight saving). */
function localDayStart(day: string, offsetDays = 0): Date {
  const start = new Date(`${day}T00:00:00+07:00`);
  return new Date(start.getTime() + offsetDays * 24 * 3600 * 1000);
}

/** The submitted filters as typed, to show them again next to their errors. */
function rawFilters(query: unknown): Record<string, string> {
  const raw = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 60) : '');
  return { actor: text(raw.actor), action: text(raw.action), from: text(raw.from), to: text(raw.to) };
}

export function auditRouter(): Router {
  const router = Router();

  router.get('/admin/audit', requirePermission('audit:read'), async (req, res) => {
    const form = parseForm(AuditQuerySchema, req.query);
    const filters = form.ok ? form.data : { page: 1 };
    const result = await searchAudit(req.actor?.scope ?? { kind: 'units', codes: [] }, {
      actor: form.ok ? form.data.actor?.toLowerCase() : undefined,
      action: form.ok ? form.data.action : undefined,
      from: form.ok && form.data.from ? localDayStart(form.data.from) : undefined,
      to: form.ok && form.data.to ? localDayStart(form.data.to, 1) : undefined,
      page: filters.page,
      pageSize: PAGE_SIZE,
    });
    res.status(form.ok ? 200 : 400).render('admin/audit/index', {
      title: req.t('audit.title'),
      result,
      filters: form.ok ? form.data : rawFilters(req.query),
      errors: form.ok ? {} : form.errors,
    });
  });

  return router;
}
