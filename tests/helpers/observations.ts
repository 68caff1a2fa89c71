// Compares two sets of black-box observations (tests/fixtures/observer.php) and sorts each difference into "allowed"
// (an allow-list entry with its reason matches its name) or "unexplained" (a bug until fixed or listed).

export interface Allowance { match: RegExp; reason: string }

export interface Comparison {
  compared: number;
  identical: number;
  allowed: { key: string; reason: string }[];
  unexplained: { key: string; library: string; ours: string }[];
  unusedAllowances: Allowance[];
}

const shown = (v: unknown) => (v === undefined ? '<absent>' : JSON.stringify(v).slice(0, 1500));

export function compareObservations(library: Record<string, unknown>, ours: Record<string, unknown>, allowances: Allowance[]): Comparison {
  const keys = [...new Set([...Object.keys(library), ...Object.keys(ours)])];
  const used = new Set<Allowance>();
  const out: Comparison = { compared: keys.length, identical: 0, allowed: [], unexplained: [], unusedAllowances: [] };
  for (const key of keys) {
    if (JSON.stringify(library[key]) === JSON.stringify(ours[key])) { out.identical++; continue; }
    const allowance = allowances.find((a) => a.match.test(key));
    if (allowance) { used.add(allowance); out.allowed.push({ key, reason: allowance.reason }); continue; }
    out.unexplained.push({ key, library: shown(library[key]), ours: shown(ours[key]) });
  }
  out.unusedAllowances = allowances.filter((a) => !used.has(a));
  return out;
}
