// The bench's statistics (pure): the paired bootstrap interval it puts beside the cleanup scenario's p99 shift.
import { pairedShift, percentile, seededRandom } from '../bench/stats';

const window = (base: number, n: number, random: () => number) =>
  Array.from({ length: n }, () => base + 10 * random() ** 8 * 5); // a long right tail, as claim times have

test('percentile: nearest rank, as the bench tables use it', () => {
  expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
  expect(percentile([], 0.5)).toBeNaN();
});

test('the seeded generator is reproducible and in [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const xs = Array.from({ length: 1000 }, () => a());
  expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...xs)).toBeLessThan(1);
  expect(seededRandom(8)()).not.toBe(xs[0]);
});

test('a real shift of 10 ms is found, with an interval that holds it and excludes 0', () => {
  const random = seededRandom(3);
  const pairs = Array.from({ length: 30 }, (_, i) => {
    const load = 5 * Math.sin(i / 3); // the machine's drift, shared by both windows of a pair
    return { without: window(20 + load, 100, random), with: window(30 + load, 100, random) };
  });
  const r = pairedShift(pairs, 0.99, 0.95, 500);
  expect(r.shift).toBeGreaterThan(5);
  expect(r.low).toBeGreaterThan(0);
  expect(r.low).toBeLessThanOrEqual(r.shift);
  expect(r.high).toBeGreaterThanOrEqual(r.shift);
});

test('no shift: the 95 % interval holds 0 for at least 90 of 100 machines, and a call is reproducible (seeded)', () => {
  let held = 0;
  let first: ReturnType<typeof pairedShift> | undefined;
  let firstPairs: Parameters<typeof pairedShift>[0] = [];
  for (let s = 0; s < 100; s++) {
    const random = seededRandom(100 + s);
    const pairs = Array.from({ length: 20 }, (_, i) => {
      const load = 8 * Math.sin(i / 4);
      return { without: window(20 + load, 50, random), with: window(20 + load, 50, random) };
    });
    const r = pairedShift(pairs, 0.99, 0.95, 200);
    if (r.low <= 0 && r.high >= 0) held++;
    if (!first) [first, firstPairs] = [r, pairs];
  }
  expect(held).toBeGreaterThanOrEqual(90);
  expect(pairedShift(firstPairs, 0.99, 0.95, 200)).toEqual(first);
});

test('pairs with an empty side are left out; none usable gives NaN', () => {
  expect(pairedShift([{ without: [], with: [1] }], 0.99).shift).toBeNaN();
  const r = pairedShift(
    [
      { without: [1, 1, 1], with: [3, 3, 3] },
      { without: [], with: [100] },
    ],
    0.5,
  );
  expect(r).toEqual({ shift: 2, low: 2, high: 2 });
});
