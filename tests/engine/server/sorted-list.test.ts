// The chunked sorted list behind every index: order, removal and bounded scans in both directions.
import { SortedList, type Entry, type Rec } from '../../../src/engine/catalog/sorted-list';

function model(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.r.id < b.r.id ? -1 : a.r.id > b.r.id ? 1 : 0));
}

test('when thousands of entries are inserted and removed at random, then scans match a sorted array both ways', () => {
  let seed = 99;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const list = new SortedList();
  const live: Entry[] = [];
  for (let step = 0; step < 6000; step++) {
    if (live.length > 0 && rand(4) === 0) {
      const [gone] = live.splice(rand(live.length), 1);
      expect(list.remove(gone)).toBe(true);
    } else {
      const rec: Rec = { id: `r${step}`, doc: {} };
      const e = { k: `k${String(rand(500)).padStart(3, '0')}`, r: rec };
      list.insert(e);
      live.push(e);
    }
  }
  const sorted = model(live);
  expect(list.size).toBe(sorted.length);
  expect([...list.forward(list.start())]).toEqual(sorted);
  expect([...list.backward(list.end())]).toEqual([...sorted].reverse());
  for (let q = 0; q < 50; q++) {
    const lo = `k${String(rand(500)).padStart(3, '0')}`;
    const from = list.seekKey(lo);
    expect([...list.forward(from)]).toEqual(sorted.filter((e) => e.k >= lo));
    expect([...list.backward(from)]).toEqual(sorted.filter((e) => e.k < lo).reverse());
    const other = list.otherWithKey(lo, null);
    expect(other).toBe(sorted.find((e) => e.k === lo)?.r);
  }
  expect(list.remove({ k: 'missing', r: { id: 'x', doc: {} } })).toBe(false);
});
