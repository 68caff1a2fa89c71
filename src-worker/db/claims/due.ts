// Plain reads of what is due: whether anything is, and when the next action will be.
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool, Tables } from '../database';
import { mysqlUtc } from '../site-time';
import { ClaimFilter, groupFilter, PENDING } from './types';

/** Whether any pending, unclaimed action the filter allows is due now. */
export async function hasDue(pool: Pool, t: Tables, filter: ClaimFilter): Promise<boolean> {
  const g = groupFilter(filter);
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM ${t.actions} WHERE status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ?${g.sql} LIMIT 1`,
    [mysqlUtc(Date.now()), ...g.params],
  );
  return rows.length > 0;
}

/** The earliest scheduled time (UTC epoch ms) of a pending, unclaimed action the filter allows; null when none. */
export async function nextDueAt(pool: Pool, t: Tables, filter: ClaimFilter): Promise<number | null> {
  const g = groupFilter(filter);
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT MIN(scheduled_date_gmt) AS next FROM ${t.actions} WHERE status = ${PENDING} AND claim_id = 0${g.sql}`,
    g.params,
  );
  const next = rows[0]?.next;
  if (!next) return null;
  return Date.parse(String(next).replace(' ', 'T') + 'Z');
}
