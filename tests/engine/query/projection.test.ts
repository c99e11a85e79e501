// find() projections: field order, _id rules, nested paths, $slice, $elemMatch, positional, expressions, errors.

import { applyProjection } from '../../../src/engine/query';
import { errorOf } from './support';

const doc = () => ({ _id: 1, a: 1, b: { c: 2, d: 3 }, arr: [1, 2, 3, 4], items: [{ k: 1, v: 'x' }, { k: 2, v: 'y' }] });

describe('applyProjection', () => {
  it('when including fields, then _id comes first and document order is kept', () => {
    const out = applyProjection(doc(), { b: 1, a: 1 });
    expect(Object.keys(out)).toEqual(['_id', 'a', 'b']);
    expect(applyProjection(doc(), { a: 1, _id: 0 })).toEqual({ a: 1 });
  });

  it('when only _id is included, then only _id is returned; _id: 1 with exclusions stays an exclusion', () => {
    expect(applyProjection(doc(), { _id: 1 })).toEqual({ _id: 1 });
    expect(applyProjection(doc(), { _id: 1, arr: 0, items: 0, b: 0 })).toEqual({ _id: 1, a: 1 });
  });

  it('when excluding fields, including dotted ones through arrays, then the rest remains', () => {
    expect(applyProjection(doc(), { b: 0, arr: 0, 'items.v': 0 })).toEqual({ _id: 1, a: 1, items: [{ k: 1 }, { k: 2 }] });
    expect(applyProjection(doc(), { _id: 0, 'b.c': 0 })).toEqual({ a: 1, b: { d: 3 }, arr: [1, 2, 3, 4], items: [{ k: 1, v: 'x' }, { k: 2, v: 'y' }] });
  });

  it('when a nested projection object is used, then it equals the dotted form', () => {
    expect(applyProjection(doc(), { b: { c: 1 } })).toEqual({ _id: 1, b: { c: 2 } });
    expect(applyProjection(doc(), { 'items.v': 1 })).toEqual({ _id: 1, items: [{ v: 'x' }, { v: 'y' }] });
  });

  it('when $slice is alone, then all other fields stay; with inclusions, only those fields', () => {
    expect(applyProjection(doc(), { arr: { $slice: -2 } })).toEqual({ ...doc(), arr: [3, 4] });
    expect(applyProjection(doc(), { a: 1, arr: { $slice: [1, 2] } })).toEqual({ _id: 1, a: 1, arr: [2, 3] });
  });

  it('when $elemMatch or positional .$ is used, then only the first matching element is returned', () => {
    expect(applyProjection(doc(), { items: { $elemMatch: { k: 2 } } })).toEqual({ _id: 1, items: [{ k: 2, v: 'y' }] });
    expect(applyProjection(doc(), { 'items.$': 1 }, { query: { 'items.k': 2 } })).toEqual({ _id: 1, items: [{ k: 2, v: 'y' }] });
  });

  it('when an expression is projected, then it is computed from the document', () => {
    expect(applyProjection(doc(), { _id: 0, x: { $add: ['$a', '$b.c'] }, y: '$b.d', z: { $literal: 1 } })).toEqual({ x: 3, y: 3, z: 1 });
  });

  it('when inclusion and exclusion are mixed, then MongoDB codes 31254/31253 are raised', () => {
    expect(errorOf(() => applyProjection(doc(), { a: 1, b: 0 })).code).toBe(31254);
    expect(errorOf(() => applyProjection(doc(), { a: 0, b: 1 })).code).toBe(31253);
    expect(errorOf(() => applyProjection(doc(), { a: 1, 'a.b': 1 })).code).toBe(31249);
    expect(errorOf(() => applyProjection(doc(), { x: { $foo: 1 } })).code).toBe(168);
  });

  it('when projecting, then the input document is not mutated and results share no objects with it', () => {
    const d = doc();
    const out = applyProjection(d, { 'b.c': 0 });
    (out.items as Array<Record<string, unknown>>)[0].k = 99;
    expect(d).toEqual(doc());
  });
});
