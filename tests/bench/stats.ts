// Medians with min and max over repeated runs, and percentiles within one run.
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** Runs that did not happen (NaN: failed, or not measured) are left out; none at all gives NaN everywhere. */
export function summarize(values: number[]): Summary {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return { median: NaN, min: NaN, max: NaN, runs: values };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const fmtSummary = (s: Summary | undefined, digits = 1) =>
  s ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : 'n/a';

/** A small seeded generator (mulberry32): the same resamples every run, so a table can be reproduced from its data. */
/* eslint-disable no-bitwise -- a PRNG is 32-bit integer arithmetic; Math.random() cannot be seeded */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

export interface WindowPair {
  without: number[];
  with: number[];
}

/**
 * How sure one run can be of a percentile's shift: the pooled percentile `p` of the "with" samples minus that of the
 * "without" samples, with a percentile bootstrap interval (`level`, e.g. 0.95) from resampling whole pairs of
 * adjacent windows with replacement. Whole pairs, not single samples, because a machine's load drifts: the samples of
 * one window are alike, and pairing keeps each "with" window beside the "without" window that ran just before it.
 */
export function pairedShift(
  pairs: WindowPair[],
  p: number,
  level = 0.95,
  resamples = 2000,
  random = seededRandom(1),
): { shift: number; low: number; high: number } {
  const pooled = (chosen: WindowPair[], side: keyof WindowPair) => chosen.flatMap((w) => w[side]);
  const shiftOf = (chosen: WindowPair[]) =>
    percentile(pooled(chosen, 'with'), p) - percentile(pooled(chosen, 'without'), p);
  const usable = pairs.filter((w) => w.with.length && w.without.length);
  if (!usable.length) return { shift: NaN, low: NaN, high: NaN };
  const shifts: number[] = [];
  for (let r = 0; r < resamples; r++) {
    shifts.push(shiftOf(Array.from(usable, () => usable[Math.floor(random() * usable.length)])));
  }
  return {
    shift: shiftOf(usable),
    low: percentile(shifts, (1 - level) / 2),
    high: percentile(shifts, 1 - (1 - level) / 2),
  };
}
