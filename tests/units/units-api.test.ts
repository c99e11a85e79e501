// The units JSON API: units in the caller's scope, counters with absolute form URLs, and 404 outside the scope.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { bearerToken, signIn, type SignedIn } from '../helpers/agents';
import { seedDemoUnits } from '../../src/units';
import { CounterModel, UnitModel } from '../../src/units/units.model';
import { demoCounterCount } from '../../src/units/units.seed';

/** Seeding and signing in (argon2) are CPU-bound; a busy machine needs room (no test asserts timing). */
jest.setTimeout(60_000);

let t: TestApp;
let odien: SignedIn;
let hanoi: SignedIn;

beforeAll(async () => {
  t = await startTestApp();
  await seedDemoUnits();
  odien = await signIn(t.app, { role: 'official', scope: ['09817'] });
  hanoi = await signIn(t.app, { role: 'viewer', scope: ['01'] });
});

afterAll(() => t.stop());

describe('GET /api/v1/units', () => {
  test('when anonymous, then 401 with a JSON error', async () => {
    const res = await request(t.app).get('/api/v1/units');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  test('when an official of Ô Diên asks, then only Ô Diên comes back', async () => {
    const res = await odien.agent.get('/api/v1/units');
    expect(res.status).toBe(200);
    expect(res.body.units).toEqual([
      { code: '09817', name: 'Xã Ô Diên', shortName: 'Ô Diên', level: 'commune', parentCode: '01', path: ['01', '09817'], legacy: false, mergedInto: null },
    ]);
  });

  test('when a Hà Nội viewer asks, then the city and its 19 communes come back, and legacy units on request', async () => {
    const res = await hanoi.agent.get('/api/v1/units');
    expect(res.status).toBe(200);
    expect(res.body.units).toHaveLength(20);
    const withLegacy = await hanoi.agent.get('/api/v1/units?legacy=true');
    expect(withLegacy.body.units).toHaveLength(await UnitModel.countDocuments({}));
    const hamo = withLegacy.body.units.find((u: { code: string }) => u.code === '09805');
    expect(hamo).toMatchObject({ legacy: true, path: ['01', '273', '09805'], mergedInto: { code: '09817', effectiveDate: '2025-07-01', partial: false } });
  });

  test('when the query has an unknown parameter, then 400', async () => {
    const res = await hanoi.agent.get('/api/v1/units?foo=1');
    expect(res.status).toBe(400);
  });

  test('when called with a personal API token, then the scope of its owner applies', async () => {
    const { token } = await bearerToken({ role: 'hotline', scope: ['09700'] });
    const res = await request(t.app).get('/api/v1/units').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.units.map((u: { code: string }) => u.code)).toEqual(['09700']);
  });
});

describe('GET /api/v1/units/:code/counters', () => {
  test('when in scope, then each active counter comes with its absolute form URL built from PUBLIC_BASE_URL', async () => {
    const res = await odien.agent.get('/api/v1/units/09817/counters');
    expect(res.status).toBe(200);
    expect(res.body.unit).toEqual({ code: '09817', name: 'Xã Ô Diên' });
    expect(res.body.counters).toHaveLength(demoCounterCount('09817'));
    const stored = await CounterModel.find({ unitCode: '09817' }).lean();
    for (const counter of res.body.counters) {
      const match = stored.find((c) => String(c._id) === counter.id);
      expect(counter.formUrl).toBe(`http://thuocdo.test/f/${match?.qrToken}`);
      expect(counter.officeName).toBe('Trung tâm Phục vụ hành chính công xã Ô Diên');
      expect(counter.label).toMatch(/^Quầy \d – /);
    }
  });

  test('when asked for the city, then the counters of every commune below are included', async () => {
    const res = await hanoi.agent.get('/api/v1/units/01/counters');
    expect(res.status).toBe(200);
    expect(res.body.counters).toHaveLength(await CounterModel.countDocuments({ active: true }));
  });

  test('when the unit is outside the scope, then 404 exactly as for a unit that does not exist', async () => {
    const outside = await odien.agent.get('/api/v1/units/09784/counters');
    const missing = await odien.agent.get('/api/v1/units/99999/counters');
    expect(outside.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(outside.body).toEqual(missing.body);
  });

  test('when the code is malformed, then 400', async () => {
    const res = await hanoi.agent.get('/api/v1/units/abc/counters');
    expect(res.status).toBe(400);
  });
});
