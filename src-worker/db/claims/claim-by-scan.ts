// The classic SKIP LOCKED claim: one locking scan of the due rows in the library's order.
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { claimInstant, groupFilter, ORDER, PENDING, placeholders, PlainClaim, toClaimedAction } from './types';

/** Slower on big tables than claimInTwoTrips, but it finds rows however many claimers compete for the first ones. */
export const claimByScan: PlainClaim = async (conn, t, time, filter, limit, inserted) => {
  const { now, nowGmt } = claimInstant();
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
};
