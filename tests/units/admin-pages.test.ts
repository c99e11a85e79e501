// Administration pages for units, offices and counters: forms, field errors, CSRF, scope, audit, token rotation.
import { startTestApp, type TestApp } from '../helpers/app';
import { signIn, type SignedIn } from '../helpers/agents';
import { AuditEntryModel } from '../../src/audit/audit.model';
import request from 'supertest';
import { findCounterByToken, rollUpCodes, seedDemoUnits, successorOf } from '../../src/units';
import { CounterModel, OfficeModel, UnitModel } from '../../src/units/units.model';

/** Seeding and signing in (argon2) are CPU-bound; a busy machine needs room (no test asserts timing). */
jest.setTimeout(60_000);

let t: TestApp;
let admin: SignedIn;
let odien: SignedIn;
let viewer: SignedIn;

beforeAll(async () => {
  t = await startTestApp();
  await seedDemoUnits();
  admin = await signIn(t.app, { role: 'admin' });
  odien = await signIn(t.app, { role: 'official', scope: ['09817'] });
  viewer = await signIn(t.app, { role: 'viewer', scope: ['01'] });
});

afterAll(() => t.stop());

const validOffice = {
  name: 'Điểm tiếp nhận hồ sơ thôn Hạ Mỗ',
  address: 'Nhà văn hóa thôn Hạ Mỗ, xã Ô Diên, thành phố Hà Nội',
  openingHours: 'Thứ Hai – Thứ Sáu: 8:00–11:30',
  hotline1Label: 'Chủ tịch UBND xã',
  hotline1Phone: '024 3388 1234',
};

const audits = (action: string, targetId?: string) => AuditEntryModel.countDocuments({ action, ...(targetId ? { targetId } : {}) });

describe('unit pages', () => {
  test('when anonymous, then pages send to the sign-in page and forms are refused with 401', async () => {
    const page = await request(t.app).get('/admin/units/09817');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Fadmin%2Funits%2F09817');
    const post = await request(t.app).post('/admin/units/09817/offices').type('form').send(validOffice);
    expect(post.status).toBe(401);
  });

  test('when an official opens the tree, then only their commune is listed', async () => {
    const res = await odien.agent.get('/admin/units');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Xã Ô Diên');
    expect(res.text).not.toContain('Xã Đan Phượng');
  });

  test('when an official opens their commune, then its office and counters are shown with QR links; another commune is 404', async () => {
    const res = await odien.agent.get('/admin/units/09817');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Trung tâm Phục vụ hành chính công xã Ô Diên');
    expect(res.text).toContain('Quầy 1 – Tư pháp – Hộ tịch');
    expect(res.text).toMatch(/\/admin\/counters\/[a-f0-9]{24}\/qr\.png/);
    expect((await odien.agent.get('/admin/units/09784')).status).toBe(404);
  });

  test('when English is chosen, then the page is in English', async () => {
    const res = await viewer.agent.get('/admin/units/09817?lang=en');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Service offices');
    expect(res.text).toContain('Units merged into this one');
    await viewer.agent.get('/admin/units?lang=vi');
  });
});

describe('rename and merge (admin only)', () => {
  test('when an official tries to rename, then 403 and nothing changes', async () => {
    const res = await odien.agent.post('/admin/units/09817/rename').type('form').send({ _csrf: odien.csrf, name: 'Xã Khác' });
    expect(res.status).toBe(403);
    expect((await UnitModel.findOne({ code: '09817' }).lean())?.name).toBe('Xã Ô Diên');
  });

  test('when an admin renames with a valid name, then 303, stored and audited', async () => {
    const res = await admin.agent.post('/admin/units/09706/rename').type('form').send({ _csrf: admin.csrf, name: '  Xã   Yên Bài mới ', shortName: 'Yên Bài mới' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/units/09706?saved=1');
    expect(await UnitModel.findOne({ code: '09706' }).lean()).toMatchObject({ name: 'Xã Yên Bài mới', shortName: 'Yên Bài mới' });
    expect(await audits('unit.rename', '09706')).toBe(1);
  });

  test('when the new name is empty, then 400 with the field error and nothing stored', async () => {
    const res = await admin.agent.post('/admin/units/09700/rename').type('form').send({ _csrf: admin.csrf, name: '   ' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Trường này là bắt buộc.');
    expect((await UnitModel.findOne({ code: '09700' }).lean())?.name).toBe('Xã Ba Vì');
    expect(await audits('unit.rename', '09700')).toBe(0);
  });

  test('when the CSRF token is missing, then 403 and nothing stored', async () => {
    const res = await admin.agent.post('/admin/units/09700/rename').type('form').send({ name: 'Xã Ba Vì mới' });
    expect(res.status).toBe(403);
    expect((await UnitModel.findOne({ code: '09700' }).lean())?.name).toBe('Xã Ba Vì');
  });

  test('when merging into a unit that does not exist, then 400 with the error on the target field', async () => {
    const res = await admin.agent.post('/admin/units/09676/merge').type('form').send({ _csrf: admin.csrf, targetCode: '99999', effectiveDate: '2026-01-01' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Không tìm thấy đơn vị kế thừa');
    expect((await UnitModel.findOne({ code: '09676' }).lean())?.mergedInto).toBeNull();
  });

  test('when the date is not a real date, then 400', async () => {
    const res = await admin.agent.post('/admin/units/09676/merge').type('form').send({ _csrf: admin.csrf, targetCode: '09787', effectiveDate: '2026-02-30' });
    expect(res.status).toBe(400);
    expect((await UnitModel.findOne({ code: '09676' }).lean())?.mergedInto).toBeNull();
  });

  test('when a commune still has an active office, then the merge is refused with a clear message', async () => {
    const res = await admin.agent.post('/admin/units/09676/merge').type('form').send({ _csrf: admin.csrf, targetCode: '09694', effectiveDate: '2026-01-01' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('còn cơ quan đang hoạt động');
    expect((await UnitModel.findOne({ code: '09676' }).lean())?.mergedInto).toBeNull();
  });

  test('when an admin merges a unit without offices, then 303, the merge is recorded and audited', async () => {
    await UnitModel.create({ code: '09999', name: 'Xã Thử Nghiệm', level: 'commune', parentCode: '01', path: ['01', '09999'], legacy: false });
    const res = await admin.agent.post('/admin/units/09999/merge').type('form').send({ _csrf: admin.csrf, targetCode: '09817', effectiveDate: '2026-01-01' });
    expect(res.status).toBe(303);
    const merged = await UnitModel.findOne({ code: '09999' }).lean();
    expect(merged?.mergedInto?.code).toBe('09817');
    expect(merged?.legacy).toBe(true);
    expect(await audits('unit.merge', '09999')).toBe(1);
    expect(await successorOf('09999', new Date('2025-12-31T12:00:00+07:00'))).toBe('09999');
    expect(await successorOf('09999', new Date('2026-01-01T00:00:00+07:00'))).toBe('09817');
    expect(await rollUpCodes('09817', new Date('2026-01-02'))).toContain('09999');
    const again = await admin.agent.post('/admin/units/09999/merge').type('form').send({ _csrf: admin.csrf, targetCode: '09784', effectiveDate: '2026-02-01' });
    expect(again.status).toBe(400);
  });
});

describe('offices', () => {
  test('when an official creates an office in their commune, then 303, stored with the unit path, audited', async () => {
    const before = await OfficeModel.countDocuments({});
    const res = await odien.agent.post('/admin/units/09817/offices').type('form').send({ _csrf: odien.csrf, ...validOffice });
    expect(res.status).toBe(303);
    expect(await OfficeModel.countDocuments({})).toBe(before + 1);
    const office = await OfficeModel.findOne({ name: validOffice.name }).lean();
    expect(office).toMatchObject({ unitCode: '09817', unitPath: ['01', '09817'], hotlines: [{ label: 'Chủ tịch UBND xã', phone: '024 3388 1234' }] });
    expect(await audits('office.create', String(office?._id))).toBe(1);
  });

  test('when the form is invalid, then 400 with every field error, the values kept, and nothing stored', async () => {
    const before = await OfficeModel.countDocuments({});
    const auditsBefore = await audits('office.create');
    const res = await odien.agent
      .post('/admin/units/09817/offices')
      .type('form')
      .send({ _csrf: odien.csrf, name: 'Điểm mới', address: '', hotline1Label: 'Chủ tịch', hotline1Phone: 'gọi tôi' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Trường này là bắt buộc.');
    expect(res.text).toContain('Giá trị không đúng định dạng.');
    expect(res.text).toContain('value="Điểm mới"');
    expect(await OfficeModel.countDocuments({})).toBe(before);
    expect(await audits('office.create')).toBe(auditsBefore);
  });

  test('when the form has an unknown field, then 400 and nothing stored', async () => {
    const before = await OfficeModel.countDocuments({});
    const res = await odien.agent.post('/admin/units/09817/offices').type('form').send({ _csrf: odien.csrf, ...validOffice, active: 'false' });
    expect(res.status).toBe(400);
    expect(await OfficeModel.countDocuments({})).toBe(before);
  });

  test('when the official acts on another commune, then 404 and nothing stored', async () => {
    const before = await OfficeModel.countDocuments({});
    const res = await odien.agent.post('/admin/units/09784/offices').type('form').send({ _csrf: odien.csrf, ...validOffice });
    expect(res.status).toBe(404);
    const other = await OfficeModel.findOne({ unitCode: '09784' }).lean();
    const edit = await odien.agent.post(`/admin/offices/${String(other?._id)}`).type('form').send({ _csrf: odien.csrf, ...validOffice });
    expect(edit.status).toBe(404);
    expect(await OfficeModel.countDocuments({})).toBe(before);
    expect((await OfficeModel.findById(other?._id).lean())?.name).toBe('Trung tâm Phục vụ hành chính công xã Đan Phượng');
  });

  test('when the unit is a pre-2025 commune, then no office can be added to it', async () => {
    const before = await OfficeModel.countDocuments({});
    const res = await admin.agent.post('/admin/units/09805/offices').type('form').send({ _csrf: admin.csrf, ...validOffice });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Không thể thêm cơ quan cho đơn vị cũ');
    expect(await OfficeModel.countDocuments({})).toBe(before);
  });

  test('when a viewer posts an office, then 403', async () => {
    const res = await viewer.agent.post('/admin/units/09817/offices').type('form').send({ _csrf: viewer.csrf, ...validOffice });
    expect(res.status).toBe(403);
  });

  test('when an official edits and deactivates their office, then both are stored and audited', async () => {
    const office = await OfficeModel.findOne({ unitCode: '09817', seedKey: 'demo-office-09817' }).lean();
    const id = String(office?._id);
    const form = await odien.agent.get(`/admin/offices/${id}/edit`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('value="Trung tâm Phục vụ hành chính công xã Ô Diên"');
    const edit = await odien.agent.post(`/admin/offices/${id}`).type('form').send({
      _csrf: odien.csrf,
      name: 'Trung tâm Phục vụ hành chính công xã Ô Diên',
      address: 'Số 1 đường Tân Hội, xã Ô Diên, thành phố Hà Nội',
      openingHours: office?.openingHours,
      hotline1Label: 'Chủ tịch UBND xã',
      hotline1Phone: '024 3398 1817',
    });
    expect(edit.status).toBe(303);
    expect(await OfficeModel.findById(id).lean()).toMatchObject({ address: 'Số 1 đường Tân Hội, xã Ô Diên, thành phố Hà Nội', hotlines: [{ phone: '024 3398 1817' }] });
    expect(await audits('office.update', id)).toBe(1);
    const off = await odien.agent.post(`/admin/offices/${id}/deactivate`).type('form').send({ _csrf: odien.csrf });
    expect(off.status).toBe(303);
    expect((await OfficeModel.findById(id).lean())?.active).toBe(false);
    expect(await audits('office.deactivate', id)).toBe(1);
    const counter = await CounterModel.findOne({ officeId: office?._id }).lean();
    expect(await findCounterByToken(String(counter?.qrToken))).toEqual({ revoked: true, reason: 'deactivated' });
    await odien.agent.post(`/admin/offices/${id}/activate`).type('form').send({ _csrf: odien.csrf });
    expect((await OfficeModel.findById(id).lean())?.active).toBe(true);
  });
});

describe('counters', () => {
  const odienOffice = async () => OfficeModel.findOne({ seedKey: 'demo-office-09817' }).lean();

  test('when an official adds a counter, then 303, stored with a fresh token and its fields, audited', async () => {
    const office = await odienOffice();
    const res = await odien.agent
      .post(`/admin/offices/${String(office?._id)}/counters`)
      .type('form')
      .send({ _csrf: odien.csrf, label: 'Quầy 5 – Nội vụ', fields: 'Nội vụ\r\nThi đua – Khen thưởng\r\n\r\n' });
    expect(res.status).toBe(303);
    const counter = await CounterModel.findOne({ label: 'Quầy 5 – Nội vụ' }).lean();
    expect(counter).toMatchObject({ unitCode: '09817', unitPath: ['01', '09817'], fields: ['Nội vụ', 'Thi đua – Khen thưởng'], active: true });
    expect(counter?.qrToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await audits('counter.create', String(counter?._id))).toBe(1);
  });

  test('when the label is missing, then 400 with the error and nothing stored', async () => {
    const office = await odienOffice();
    const before = await CounterModel.countDocuments({});
    const res = await odien.agent.post(`/admin/offices/${String(office?._id)}/counters`).type('form').send({ _csrf: odien.csrf, label: '', fields: 'Hộ tịch' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Trường này là bắt buộc.');
    expect(await CounterModel.countDocuments({})).toBe(before);
  });

  test('when a field name is too long, then 400 on the fields input', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09817' }).lean();
    const res = await odien.agent.post(`/admin/counters/${String(counter?._id)}`).type('form').send({ _csrf: odien.csrf, label: 'Quầy 1', fields: 'x'.repeat(81) });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Giá trị quá lớn hoặc quá dài.');
    expect((await CounterModel.findById(counter?._id).lean())?.label).toBe(counter?.label);
  });

  test('when the token is rotated, then the old token answers revoked and the new one leads to the counter', async () => {
    const counter = await CounterModel.findOne({ seedKey: 'demo-counter-09817-1' }).lean();
    const id = String(counter?._id);
    const oldToken = String(counter?.qrToken);
    const res = await odien.agent.post(`/admin/counters/${id}/rotate-token`).type('form').send({ _csrf: odien.csrf });
    expect(res.status).toBe(303);
    const after = await CounterModel.findById(id).lean();
    expect(after?.qrToken).not.toBe(oldToken);
    expect(after?.revokedTokens.map((r) => r.token)).toEqual([oldToken]);
    expect(await findCounterByToken(oldToken)).toEqual({ revoked: true, reason: 'rotated' });
    expect(await findCounterByToken(String(after?.qrToken))).toMatchObject({ revoked: false, counter: { id } });
    expect(await audits('counter.rotate_token', id)).toBe(1);
  });

  test('when an official deactivates a counter of another commune, then 404 and it stays active', async () => {
    const other = await CounterModel.findOne({ unitCode: '09784' }).lean();
    const res = await odien.agent.post(`/admin/counters/${String(other?._id)}/deactivate`).type('form').send({ _csrf: odien.csrf });
    expect(res.status).toBe(404);
    expect((await CounterModel.findById(other?._id).lean())?.active).toBe(true);
  });

  test('when an official deactivates their counter, then it is stored, audited, and its token answers revoked', async () => {
    const counter = await CounterModel.findOne({ seedKey: 'demo-counter-09817-2' }).lean();
    const id = String(counter?._id);
    const res = await odien.agent.post(`/admin/counters/${id}/deactivate`).type('form').send({ _csrf: odien.csrf });
    expect(res.status).toBe(303);
    expect((await CounterModel.findById(id).lean())?.active).toBe(false);
    expect(await audits('counter.deactivate', id)).toBe(1);
    expect(await findCounterByToken(String(counter?.qrToken))).toEqual({ revoked: true, reason: 'deactivated' });
  });
});
