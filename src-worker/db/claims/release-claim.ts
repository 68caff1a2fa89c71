// Releasing a claim, as the library does.
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool, Tables } from '../database';
import { placeholders } from './types';

/**
 * Select the IDs first, update by primary key (no deadlock on the claim_id index), delete the claims row. The UPDATE
 * also requires the claim (the library's does not): a row another claim took between the SELECT and the UPDATE (a
 * stale claim reset and claimed again) keeps that claim, instead of being released from under its new owner.
 */
export async function releaseClaim(pool: Pool, t: Tables, claimId: number): Promise<void> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT action_id FROM ${t.actions} WHERE claim_id = ?`, [claimId]);
  const ids = rows.map((r) => Number(r.action_id));
  if (ids.length) {
    await pool.query(
      `UPDATE ${t.actions} SET claim_id = 0 WHERE action_id IN (${placeholders(ids.length)}) AND claim_id = ?`,
      [...ids, claimId],
    );
  }
  await pool.query(`DELETE FROM ${t.claims} WHERE claim_id = ?`, [claimId]);
}
