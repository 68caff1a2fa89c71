// One action's status and claim, read when the rest channel got no answer (did the action run?).
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool, Tables } from './database';

export async function readActionState(
  pool: Pool,
  t: Tables,
  id: number,
): Promise<{ status: string; claimId: number } | null> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT status, claim_id FROM ${t.actions} WHERE action_id = ?`, [
    id,
  ]);
  return rows[0] ? { status: String(rows[0].status), claimId: Number(rows[0].claim_id) } : null;
}
