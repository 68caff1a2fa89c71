// Bar geometry for the throughput chart: fills gaps so each minute (or hour) has a bar, and scales to the tallest.
export interface Point {
  time: string;
  completed: number;
  failed: number;
}

/** Returns `count` consecutive slots ending at `endMs`, each `stepMs` wide, filled from `points` (UTC "Y-m-d H:i:s"). */
export function fillSeries(points: Point[], endMs: number, stepMs: number, count: number): Point[] {
  const byStart = new Map<number, Point>();
  for (const p of points) byStart.set(Math.floor(Date.parse(p.time.replace(' ', 'T') + 'Z') / stepMs) * stepMs, p);
  const last = Math.floor(endMs / stepMs) * stepMs;
  const out: Point[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = last - i * stepMs;
    const p = byStart.get(start);
    out.push({
      time: new Date(start).toISOString().slice(0, 19).replace('T', ' '),
      completed: p?.completed ?? 0,
      failed: p?.failed ?? 0,
    });
  }
  return out;
}

export function scale(series: Point[], height: number): Array<{ completed: number; failed: number }> {
  const max = Math.max(1, ...series.map((p) => p.completed + p.failed));
  return series.map((p) => ({ completed: (p.completed / max) * height, failed: (p.failed / max) * height }));
}
