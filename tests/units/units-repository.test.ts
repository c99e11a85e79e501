// Units against the database: demo seeding (twice), scope filtering, merge resolution and QR token lookup.
import mongoose from 'mongoose';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { ALL_UNITS, type Scope } from '../../src/shared/scope';
import {
  findCounterByToken,
  findCounters,
  findOffices,
  getCounter,
  getUnit,
  listUnitsInScope,
  resolveUnitForHistory,
  rollUpCodes,
  seedDemoUnits,
  successorOf,
  unitPathOf,
} from '../../src/units';
import { CounterModel, OfficeModel, UnitModel } from '../../src/units/units.model';
import { demoCounterCount } from '../../src/units/units.seed';

/** Seeding and signing in (argon2) are CPU-bound; a busy machine needs room (no test asserts timing). */
jest.setTimeout(60_000);

let database: TestDatabase;
const odien: Scope = { kind: 'units', codes: ['09817'] };
const hanoi: Scope = { kind: 'units', codes: ['01'] };

beforeAll(async () => {
  database = await startTestDatabase('units_repo');
  await mongoose.connect(database.uri, { serverSelectionTimeoutMS: 5000 });
  await mongoose.connection.syncIndexes();
  await seedDemoUnits();
});

afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await database.stop();
});

const tokens = async () =>
  (await CounterModel.find({ seedKey: { $ne: null } }).lean()).map((c) => `${c.seedKey}=${c.qrToken}`).sort();

describe('demo seed', () => {
  test('when seeded, then Hà Nội, 4 districts, 19 communes with one office each and 2–4 counters each are stored', async () => {
    expect(await UnitModel.countDocuments({ level: 'province' })).toBe(1);
    expect(await UnitModel.countDocuments({ level: 'district', legacy: true })).toBe(4);
    expect(await UnitModel.countDocuments({ level: 'commune', legacy: false })).toBe(19);
    expect(await OfficeModel.countDocuments({})).toBe(19);
    const communes = await UnitModel.find({ level: 'commune', legacy: false }).lean();
    const expected = communes.reduce((sum, unit) => sum + demoCounterCount(unit.code), 0);
    expect(await CounterModel.countDocuments({})).toBe(expected);
    const office = await OfficeModel.findOne({ unitCode: '09817' }).lean();
    expect(office).toMatchObject({
      name: 'Trung tâm Phục vụ hành chính công xã Ô Diên',
      openingHours: 'Thứ Hai – Thứ Sáu: 7:30–11:30, 13:30–17:00; Sáng thứ Bảy: 8:00–11:30',
    });
    expect(office?.hotlines).toHaveLength(2);
  });

  test('when seeded a second time, then the counts and every QR token stay the same', async () => {
    const before = { units: await UnitModel.countDocuments({}), offices: await OfficeModel.countDocuments({}), tokens: await tokens() };
    const result = await seedDemoUnits();
    expect(result.inserted).toBe(0);
    expect(await UnitModel.countDocuments({})).toBe(before.units);
    expect(await OfficeModel.countDocuments({})).toBe(before.offices);
    expect(await tokens()).toEqual(before.tokens);
  });

  test('when an admin renamed a seeded unit, then re-seeding keeps the new name', async () => {
    await UnitModel.updateOne({ code: '09706' }, { $set: { name: 'Xã Yên Bài (đổi tên thử)' } });
    await seedDemoUnits();
    expect((await getUnit('09706', ALL_UNITS)).name).toBe('Xã Yên Bài (đổi tên thử)');
    await UnitModel.updateOne({ code: '09706' }, { $set: { name: 'Xã Yên Bài' } });
  });

  test('every QR token is unguessable: at least 128 random bits in base64url, all distinct', async () => {
    const all = (await CounterModel.find({}).lean()).map((c) => c.qrToken);
    expect(all.every((token) => /^[A-Za-z0-9_-]{22,}$/.test(token))).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('scope', () => {
  test('when an official is scoped to Ô Diên, then they see only Ô Diên, its office and its counters', async () => {
    expect((await listUnitsInScope(odien, { includeLegacy: true })).map((u) => u.code)).toEqual(['09817']);
    const offices = await findOffices(odien);
    expect(offices.map((o) => o.unitCode)).toEqual(['09817']);
    const counters = await findCounters(odien);
    expect(counters.length).toBe(demoCounterCount('09817'));
    expect(counters.every((c) => c.unitCode === '09817')).toBe(true);
  });

  test('when the scope is Hà Nội, then every unit, office and counter is visible', async () => {
    expect(await listUnitsInScope(hanoi)).toHaveLength(20);
    expect((await listUnitsInScope(hanoi, { includeLegacy: true })).length).toBe(await UnitModel.countDocuments({}));
    expect((await findCounters(hanoi)).length).toBe(await CounterModel.countDocuments({}));
  });

  test('when a unit or counter lies outside the scope, then it is reported as not found', async () => {
    await expect(getUnit('09784', odien)).rejects.toMatchObject({ status: 404 });
    const other = await CounterModel.findOne({ unitCode: '09784' }).lean();
    await expect(getCounter(String(other?._id), odien)).rejects.toMatchObject({ status: 404 });
    await expect(getCounter('not-an-id', ALL_UNITS)).rejects.toMatchObject({ status: 404 });
  });

  test('when asked for a unit path, then the codes from the root are returned', async () => {
    expect(await unitPathOf('09805')).toEqual(['01', '273', '09805']);
    expect(await unitPathOf('99999')).toBeNull();
  });
});

describe('merges', () => {
  test('when a pre-2025 commune is resolved on or after 1 July 2025, then its 2025 commune carries the history', async () => {
    expect(await successorOf('09805', new Date('2025-06-30T12:00:00+07:00'))).toBe('09805');
    expect(await successorOf('09805', new Date('2025-07-01T00:00:00+07:00'))).toBe('09817');
    expect((await resolveUnitForHistory('09805'))?.name).toBe('Xã Ô Diên');
  });

  test('when rolling up Ô Diên, then its merged predecessors are included and other communes are not', async () => {
    const codes = await rollUpCodes('09817');
    expect(codes[0]).toBe('09817');
    expect(codes).toEqual(expect.arrayContaining(['09805', '09802', '09796']));
    expect(codes).not.toContain('09811');
    expect(await rollUpCodes('09817', new Date('2025-01-01'))).toEqual(['09817']);
  });
});

describe('QR token lookup', () => {
  test('when the token belongs to an active counter, then the counter, its office and unit come back', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09817' }).lean();
    const found = await findCounterByToken(String(counter?.qrToken));
    expect(found).toMatchObject({ revoked: false, counter: { id: String(counter?._id) }, office: { unitCode: '09817' }, unit: { code: '09817' } });
  });

  test('when the token is unknown or malformed, then the answer is null', async () => {
    expect(await findCounterByToken('AAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
    expect(await findCounterByToken('{"$gt":""}')).toBeNull();
    expect(await findCounterByToken('')).toBeNull();
  });

  test('when the counter is deactivated, then its token answers revoked', async () => {
    const counter = await CounterModel.findOne({ unitCode: '09700' }).lean();
    await CounterModel.updateOne({ _id: counter?._id }, { $set: { active: false } });
    expect(await findCounterByToken(String(counter?.qrToken))).toEqual({ revoked: true, reason: 'deactivated' });
    await CounterModel.updateOne({ _id: counter?._id }, { $set: { active: true } });
    expect(await findCounterByToken(String(counter?.qrToken))).toMatchObject({ revoked: false });
  });
});
