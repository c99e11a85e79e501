// The audit log: recordAudit() for other components, and the admin page's filters and pages.
import { startTestApp, type TestApp } from '../helpers/app';
import { signIn } from '../helpers/agents';
import { recordAudit } from '../../src/audit';
import { AuditEntryModel } from '../../src/audit/audit.model';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});
afterAll(async () => {
  await testApp.stop();
});

describe('recordAudit', () => {
  test('when a component records an action, then the entry keeps actor, target, unit path and details, and a hashed address', async () => {
    await recordAudit({ id: 'u1', username: 'official.odien' }, 'counter.rotate_qr', { type: 'counter', id: 'c1', unitPath: ['01', '09817'] }, { label: 'Quầy 1' }, { ip: '10.1.2.3' });
    const entry = await AuditEntryModel.findOne({ action: 'counter.rotate_qr' }).lean();
    expect(entry).toMatchObject({ actorId: 'u1', actorUsername: 'official.odien', targetType: 'counter', targetId: 'c1', unitPath: ['01', '09817'], details: { label: 'Quầy 1' } });
    expect(entry?.ipHash).toBeTruthy();
    expect(entry?.ipHash).not.toContain('10.1.2.3');
    expect(entry?.at).toBeInstanceOf(Date);
  });
});

describe('audit page', () => {
  beforeAll(async () => {
    const base = new Date('2026-03-10T03:00:00Z').getTime();
    const entries = Array.from({ length: 60 }, (_, i) => ({
      at: new Date(base + i * 3600 * 1000),
      actorId: 'x',
      actorUsername: i % 2 ? 'alpha' : 'beta',
      action: i % 3 ? 'office.update' : 'counter.create',
      targetType: 'office',
      targetId: `o${i}`,
      unitPath: ['01'],
      details: {},
      ipHash: null,
    }));
    await AuditEntryModel.insertMany(entries);
  });

  test('when the admin filters by actor and action, then only matching entries are listed', async () => {
    const { agent } = await signIn(testApp.app, { role: 'admin' });
    const res = await agent.get('/admin/audit?actor=alpha&action=counter.create');
    expect(res.status).toBe(200);
    // i odd and i % 3 == 0 → i in {3, 9, ..., 57}: 10 entries.
    expect(res.text).toContain('10 mục');
    expect(res.text).not.toContain('>beta<');
  });

  test('when the admin filters by local dates, then the day bounds are Việt Nam days', async () => {
    const { agent } = await signIn(testApp.app, { role: 'admin' });
    // 2026-03-10T03:00Z is 10:00 in Hà Nội; entries run hourly, so 10/3 local holds hours 10..23 → 14 entries.
    const res = await agent.get('/admin/audit?from=2026-03-10&to=2026-03-10&actor=');
    expect(res.status).toBe(200);
    expect(res.text).toContain('14 mục');
  });

  test('when there are more entries than a page, then pages link to each other', async () => {
    const { agent } = await signIn(testApp.app, { role: 'admin' });
    const onePage = await agent.get('/admin/audit?action=office.update');
    expect(onePage.text).toContain('40 mục');
    expect(onePage.text).not.toContain('rel="next"');
    const everything = await agent.get('/admin/audit?from=2026-03-01&to=2026-03-31');
    expect(everything.text).toContain('Trang 1/2');
    expect(everything.text).toContain('rel="next"');
    const second = await agent.get('/admin/audit?from=2026-03-01&to=2026-03-31&page=2');
    expect(second.text).toContain('Trang 2/2');
    expect(second.text).toContain('rel="prev"');
  });

  test('when a filter is malformed, then the page answers 400 with the field error', async () => {
    const { agent } = await signIn(testApp.app, { role: 'admin' });
    const res = await agent.get('/admin/audit?from=10-03-2026');
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="from-error"');
  });
});
