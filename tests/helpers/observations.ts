// Compares two sets of black-box observations (tests/fixtures/observer.php) and sorts each difference into "allowed"
// (an allow-list entry with its reason matches its name) or "unexplained" (a bug until fixed or listed).

export interface Allowance {
  match: RegExp;
  reason: string;
}

export interface Comparison {
  compared: number;
  identical: number;
  allowed: { key: string; reason: string }[];
  unexplained: { key: string; library: string; ours: string }[];
  unusedAllowances: Allowance[];
}

const shown = (v: unknown) => (v === undefined ? '<absent>' : JSON.stringify(v).slice(0, 1500));

export function compareObservations(
  library: Record<string, unknown>,
  ours: Record<string, unknown>,
  allowances: Allowance[],
): Comparison {
  const keys = [...new Set([...Object.keys(library), ...Object.keys(ours)])];
  const used = new Set<Allowance>();
  const out: Comparison = { compared: keys.length, identical: 0, allowed: [], unexplained: [], unusedAllowances: [] };
  for (const key of keys) {
    if (JSON.stringify(library[key]) === JSON.stringify(ours[key])) {
      out.identical++;
      continue;
    }
    const allowance = allowances.find((a) => a.match.test(key));
    if (allowance) {
      used.add(allowance);
      out.allowed.push({ key, reason: allowance.reason });
      continue;
    }
    out.unexplained.push({ key, library: shown(library[key]), ours: shown(ours[key]) });
  }
  out.unusedAllowances = allowances.filter((a) => !used.has(a));
  return out;
}

/**
 * Two event sequences as observations that survive an insertion: the events both have in the same order (a longest
 * common subsequence) are one observation; each event only one side has is its own, named by its hook.
 */
export function sequenceObservations(
  library: unknown[],
  ours: unknown[],
): [Record<string, unknown>, Record<string, unknown>] {
  const a = library.map((e) => JSON.stringify(e));
  const b = ours.map((e) => JSON.stringify(e));
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const common: string[] = [];
  const left: Record<string, unknown> = {};
  const right: Record<string, unknown> = {};
  const hook = (e: string) => (JSON.parse(e) as [string])[0];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      left[`event in common #${common.length}`] = right[`event in common #${common.length}`] = JSON.parse(a[i]);
      common.push(a[i]);
      i++;
      j++;
      continue;
    }
    if (j >= b.length || (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1])) {
      left[`event only in one: ${hook(a[i])} #${common.length}`] = JSON.parse(a[i]);
      i++;
      continue;
    }
    right[`event only in one: ${hook(b[j])} #${common.length}`] = JSON.parse(b[j]);
    j++;
  }
  left['events in common'] = common.length;
  right['events in common'] = common.length;
  return [left, right];
}
