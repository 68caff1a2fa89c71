// The claim for servers without SKIP LOCKED: the library's own statements.
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { claimInstant, groupFilter, ORDER, PENDING, PlainClaim, toClaimedAction } from './types';

/** Insert the claims row, UPDATE ... ORDER BY ... LIMIT, then SELECT by claim (as ActionScheduler_DBStore does). */
export const claimLikeLibrary: PlainClaim = async (conn, t, time, filter, limit, inserted) => {
  const { now, nowGmt } = claimInstant();
  const g = groupFilter(filter);
  const [ins] = await conn.query<ResultSetHeader>(`INSERT INTO ${t.claims} (date_created_gmt) VALUES (?)`, [nowGmt]);
  const claimId = ins.insertId;
  inserted.claimId = claimId;
  const [upd] = await conn.query<ResultSetHeader>(
    `UPDATE ${t.actions} SET claim_id = ?, last_attempt_gmt = ?, last_attempt_local = ?
     WHERE claim_id = 0 AND scheduled_date_gmt <= ? AND status = ${PENDING}${g.sql} ${ORDER} LIMIT ?`,
    [claimId, nowGmt, time.local(now), nowGmt, ...g.params, limit],
  );
  if (upd.affectedRows === 0) {
    await conn.query(`DELETE FROM ${t.claims} WHERE claim_id = ?`, [claimId]);
    return null;
  }
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${t.actions} WHERE claim_id = ? ${ORDER}`,
    [claimId],
  );
  return {
    claimId,
    claimedAt: now,
    actions: rows.filter((r) => String(r.scheduled_date_gmt) <= nowGmt).map(toClaimedAction),
  };
};
