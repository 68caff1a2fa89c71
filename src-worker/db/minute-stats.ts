// The per-minute statistics table behind the admin page's charts.
import type { Tables } from './database';
import { mysqlUtc } from './site-time';
import { STATEMENT_SECONDS, TimedQuery } from './timed';

export interface MinuteRow {
  minute: string;
  slug: string;
  completed: number;
  failed: number;
  waitSum: number;
  p50: number;
  p95: number;
  runMs: number;
}

/** Adds a minute's counts; several sidecars add to the same (minute, group) row, and the percentiles keep the worst. */
export function addMinuteStats(q: TimedQuery, t: Tables, s: MinuteRow) {
  return q(
    `INSERT INTO ${t.stats} (minute_gmt, group_slug, completed, failed, wait_ms_sum, wait_ms_p50, wait_ms_p95, run_ms_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE completed = completed + VALUES(completed), failed = failed + VALUES(failed), wait_ms_sum = wait_ms_sum + VALUES(wait_ms_sum),
       wait_ms_p50 = GREATEST(wait_ms_p50, VALUES(wait_ms_p50)), wait_ms_p95 = GREATEST(wait_ms_p95, VALUES(wait_ms_p95)), run_ms_sum = run_ms_sum + VALUES(run_ms_sum)`,
    [s.minute, s.slug, s.completed, s.failed, s.waitSum, s.p50, s.p95, s.runMs],
    STATEMENT_SECONDS.stats,
  );
}

/** Statistics older than 8 days (the charts show a week). */
export function pruneMinuteStats(q: TimedQuery, t: Tables, now: number) {
  return q(
    `DELETE FROM ${t.stats} WHERE minute_gmt < ?`,
    [mysqlUtc(now - 8 * 86400_000)],
    STATEMENT_SECONDS.maintenance,
  );
}
