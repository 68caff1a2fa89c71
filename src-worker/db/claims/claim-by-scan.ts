// The classic SKIP LOCKED claim: one locking scan of the due rows in the library's order.
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Tables } from '../database';
import { mysqlUtc, SiteTime } from '../site-time';
import { Claim, ClaimFilter, groupFilter, Inserted, ORDER, PENDING, placeholders, toClaimedAction } from './types';

/** Slower on big tables than claimInTwoTrips, but it finds rows however many claimers compete for the first ones. */
export async function claimByScan(
  conn: PoolConnection,
  t: Tables,
  time: SiteTime,
  filter: ClaimFilter,
  limit: number,
  inserted: Inserted,
): Promise<Claim | null> {
  const now = Date.now();
  const nowGmt = mysqlUtc(now);
  const g = groupFilter(filter);
  await conn.beginTransaction();
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${t.actions}
     WHERE status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ?${g.sql} ${ORDER} LIMIT ? FOR UPDATE SKIP LOCKED`,
    [nowGmt, ...g.params, limit],
  );
  if (rows.length === 0) {
    await conn.rollback();
    return null;
  }
  const [ins] = await conn.query<ResultSetHeader>(`INSERT INTO ${t.claims} (date_created_gmt) VALUES (?)`, [nowGmt]);
  const claimId = ins.insertId;
  inserted.claimId = claimId;
  const ids = rows.map((r) => Number(r.action_id));
  await conn.query(
    `UPDATE ${t.actions} SET claim_id = ?, last_attempt_gmt = ?, last_attempt_local = ? WHERE action_id IN (${placeholders(ids.length)})`,
    [claimId, nowGmt, time.local(now), ...ids],
  );
  await conn.commit();
  return { claimId, claimedAt: now, actions: rows.map(toClaimedAction) };
}
