// The heartbeat table: one row per running sidecar (PHP's health check, the admin page and the fallback read it).
import type { Pool, Tables } from './database';
import { mysqlUtc } from './site-time';
import { STATEMENT_SECONDS, TimedQuery } from './timed';

export interface HeartbeatRow {
  sidecarId: string;
  host: string;
  pid: number;
  version: string;
  channel: string;
  lanes: number;
  startedAt: number;
  running: Array<{ id: number; hook: string; since: number; lane: number }>;
}

/** Writes the row on the first beat, then refreshes what changes (last seen, running actions, lane count). */
export function upsertHeartbeat(q: TimedQuery, t: Tables, row: HeartbeatRow, now: number) {
  return q(
    `INSERT INTO ${t.heartbeats} (sidecar_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE last_seen_gmt = VALUES(last_seen_gmt), running = VALUES(running), concurrency = VALUES(concurrency)`,
    [
      row.sidecarId,
      row.host,
      row.pid,
      row.version,
      row.channel,
      row.lanes,
      mysqlUtc(row.startedAt),
      mysqlUtc(now),
      JSON.stringify(row.running),
    ],
    STATEMENT_SECONDS.heartbeat,
  );
}

/** A stopping sidecar says goodbye: the admin page stops listing it at once. */
export async function deleteHeartbeat(pool: Pool, t: Tables, sidecarId: string) {
  await pool.query(`DELETE FROM ${t.heartbeats} WHERE sidecar_id = ?`, [sidecarId]);
}

/** Rows of sidecars not seen for an hour (killed without a goodbye). */
export function pruneHeartbeats(q: TimedQuery, t: Tables, now: number) {
  return q(
    `DELETE FROM ${t.heartbeats} WHERE last_seen_gmt < ?`,
    [mysqlUtc(now - 3600_000)],
    STATEMENT_SECONDS.maintenance,
  );
}
