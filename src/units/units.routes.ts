// Units endpoints: the JSON API (/api/v1/units…) and the administration pages for units, offices and counters.
import { Router, type Request, type Response } from 'express';
import { requirePermission } from '../auth/permissions';
import type { Config } from '../config';
import type { FieldErrors } from '../shared/errors';
import { validate } from '../shared/http/validate';
import { handleForm, staffContext } from './units.forms';
import { CounterForm, HOTLINE_ROWS, IdParams, MergeUnitForm, OfficeForm, RenameUnitForm, UnitCodeParams, UnitsQuery, type UnitsQueryValue } from './units.schema';
import * as units from './units.service';
import { formUrlFor } from './units.tokens';
import type { Counter, Office, Unit } from './units.types';
import { formatDay, toCounterJson, toUnitJson } from './units.json';

type Values = Record<string, unknown>;
const view = (req: Request) => ({ styles: ['css/admin.css'], localDay: (date: Date) => formatDay(date, req.lang) });
const scopeOf = (req: Request) => staffContext(req).actor.scope;
/** Route parameters after validate(): one string each (zod has checked the format). */
const codeParam = (req: Request) => String(req.params.code);
const idParam = (req: Request) => String(req.params.id);

function officeValues(office: Office): Values {
  const values: Values = { name: office.name, address: office.address, openingHours: office.openingHours };
  HOTLINE_ROWS.forEach((row, index) => {
    values[`hotline${row}Label`] = office.hotlines[index]?.label ?? '';
    values[`hotline${row}Phone`] = office.hotlines[index]?.phone ?? '';
  });
  return values;
}

const counterValues = (counter: Counter): Values => ({ label: counter.label, fields: counter.fields.join('\n') });

export function unitsRouter(deps: { config: Config }): Router {
  const router = Router();
  const baseUrl = deps.config.publicBaseUrl;

  async function renderUnitPage(req: Request, res: Response, forms: { rename?: FieldErrors; merge?: FieldErrors; values?: Values } = {}) {
    const page = await units.loadUnitPage(codeParam(req), scopeOf(req));
    const formUrl = (counter: Counter) => formUrlFor(baseUrl, counter.qrToken);
    res.render('admin/units/show', { ...view(req), title: page.unit.name, ...page, formUrl, forms, saved: req.query.saved === '1' });
  }

  async function renderOfficeForm(req: Request, res: Response, unit: Unit, office: Office | null, values: Values, errors: FieldErrors = {}) {
    const title = office ? req.t('offices.editTitle') : req.t('offices.newTitle');
    res.render('admin/offices/form', { ...view(req), title, unit, office, values, errors, hotlineRows: HOTLINE_ROWS });
  }

  async function renderCounterForm(req: Request, res: Response, office: Office, counter: Counter | null, values: Values, errors: FieldErrors = {}) {
    const title = counter ? req.t('counters.editTitle') : req.t('counters.newTitle');
    res.render('admin/counters/form', { ...view(req), title, office, counter, values, errors });
  }

  // JSON API

  router.get('/api/v1/units', requirePermission('units:read'), validate({ query: UnitsQuery }), async (req, res) => {
    const list = await units.listUnitsInScope(scopeOf(req), { includeLegacy: (req.query as unknown as UnitsQueryValue).legacy });
    res.json({ units: list.map(toUnitJson) });
  });

  router.get('/api/v1/units/:code/counters', requirePermission('units:read'), validate({ params: UnitCodeParams }), async (req, res) => {
    const { unit, counters } = await units.listCountersOfUnit(codeParam(req), scopeOf(req), baseUrl);
    res.json({ unit: { code: unit.code, name: unit.name }, counters: counters.map(toCounterJson) });
  });

  // Units (tree, rename, merge)

  router.get('/admin/units', requirePermission('units:read'), async (req, res) => {
    const page = await units.loadUnitTree(scopeOf(req));
    res.render('admin/units/index', { ...view(req), title: req.t('units.title'), ...page });
  });

  router.get('/admin/units/:code', requirePermission('units:read'), validate({ params: UnitCodeParams }), (req, res) => renderUnitPage(req, res));

  router.post('/admin/units/:code/rename', requirePermission('units:manage'), validate({ params: UnitCodeParams }), (req, res) =>
    handleForm(
      req,
      res,
      RenameUnitForm,
      async (input) => `/admin/units/${(await units.renameUnit(staffContext(req), codeParam(req), input)).code}?saved=1`,
      (errors, values) => renderUnitPage(req, res, { rename: errors, values }),
    ),
  );

  router.post('/admin/units/:code/merge', requirePermission('units:manage'), validate({ params: UnitCodeParams }), (req, res) =>
    handleForm(
      req,
      res,
      MergeUnitForm,
      async (input) => `/admin/units/${(await units.mergeUnit(staffContext(req), codeParam(req), input)).code}?saved=1`,
      (errors, values) => renderUnitPage(req, res, { merge: errors, values }),
    ),
  );

  // Offices

  router.get('/admin/units/:code/offices/new', requirePermission('offices:manage'), validate({ params: UnitCodeParams }), async (req, res) => {
    const unit = await units.getUnit(codeParam(req), scopeOf(req));
    await renderOfficeForm(req, res, unit, null, { openingHours: '' });
  });

  router.post('/admin/units/:code/offices', requirePermission('offices:manage'), validate({ params: UnitCodeParams }), (req, res) =>
    handleForm(
      req,
      res,
      OfficeForm,
      async (input) => `/admin/units/${(await units.createOffice(staffContext(req), codeParam(req), input)).unitCode}?saved=1`,
      async (errors, values) => renderOfficeForm(req, res, await units.getUnit(codeParam(req), scopeOf(req)), null, values, errors),
    ),
  );

  router.get('/admin/offices/:id/edit', requirePermission('offices:manage'), validate({ params: IdParams }), async (req, res) => {
    const office = await units.getOffice(idParam(req), scopeOf(req));
    await renderOfficeForm(req, res, await units.getUnit(office.unitCode, scopeOf(req)), office, officeValues(office));
  });

  router.post('/admin/offices/:id', requirePermission('offices:manage'), validate({ params: IdParams }), (req, res) =>
    handleForm(
      req,
      res,
      OfficeForm,
      async (input) => `/admin/units/${(await units.updateOffice(staffContext(req), idParam(req), input)).unitCode}?saved=1`,
      async (errors, values) => {
        const office = await units.getOffice(idParam(req), scopeOf(req));
        await renderOfficeForm(req, res, await units.getUnit(office.unitCode, scopeOf(req)), office, values, errors);
      },
    ),
  );

  for (const [action, active] of [['deactivate', false], ['activate', true]] as const) {
    router.post(`/admin/offices/:id/${action}`, requirePermission('offices:manage'), validate({ params: IdParams }), async (req, res) => {
      const office = await units.setOfficeActive(staffContext(req), idParam(req), active);
      res.redirect(303, `/admin/units/${office.unitCode}?saved=1`);
    });
  }

  // Counters

  router.get('/admin/offices/:id/counters/new', requirePermission('counters:manage'), validate({ params: IdParams }), async (req, res) => {
    await renderCounterForm(req, res, await units.getOffice(idParam(req), scopeOf(req)), null, {});
  });

  router.post('/admin/offices/:id/counters', requirePermission('counters:manage'), validate({ params: IdParams }), (req, res) =>
    handleForm(
      req,
      res,
      CounterForm,
      async (input) => `/admin/units/${(await units.createCounter(staffContext(req), idParam(req), input)).unitCode}?saved=1`,
      async (errors, values) => renderCounterForm(req, res, await units.getOffice(idParam(req), scopeOf(req)), null, values, errors),
    ),
  );

  router.get('/admin/counters/:id/edit', requirePermission('counters:manage'), validate({ params: IdParams }), async (req, res) => {
    const counter = await units.getCounter(idParam(req), scopeOf(req));
    await renderCounterForm(req, res, await units.getOffice(counter.officeId, scopeOf(req)), counter, counterValues(counter));
  });

  router.post('/admin/counters/:id', requirePermission('counters:manage'), validate({ params: IdParams }), (req, res) =>
    handleForm(
      req,
      res,
      CounterForm,
      async (input) => `/admin/units/${(await units.updateCounter(staffContext(req), idParam(req), input)).unitCode}?saved=1`,
      async (errors, values) => {
        const counter = await units.getCounter(idParam(req), scopeOf(req));
        await renderCounterForm(req, res, await units.getOffice(counter.officeId, scopeOf(req)), counter, values, errors);
      },
    ),
  );

  for (const [action, active] of [['deactivate', false], ['activate', true]] as const) {
    router.post(`/admin/counters/:id/${action}`, requirePermission('counters:manage'), validate({ params: IdParams }), async (req, res) => {
      const counter = await units.setCounterActive(staffContext(req), idParam(req), active);
      res.redirect(303, `/admin/units/${counter.unitCode}?saved=1`);
    });
  }

  router.post('/admin/counters/:id/rotate-token', requirePermission('counters:manage'), validate({ params: IdParams }), async (req, res) => {
    const counter = await units.rotateCounterToken(staffContext(req), idParam(req));
    res.redirect(303, `/admin/units/${counter.unitCode}?saved=1`);
  });

  return router;
}
