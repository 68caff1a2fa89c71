// The site's options table, for what the sidecar itself reads or creates there (the rest channel's secret).
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './database';

/** The option's value, or '' when it is not set. */
export async function readOption(pool: Pool, optionsTable: string, name: string): Promise<string> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT option_value FROM ${optionsTable} WHERE option_name = ?`, [
    name,
  ]);
  return rows[0] ? String(rows[0].option_value) : '';
}

/** Adds the option unless one of that name exists (INSERT IGNORE on its unique name: the first writer wins). */
export async function addOptionIfMissing(pool: Pool, optionsTable: string, name: string, value: string): Promise<void> {
  await pool.query(`INSERT IGNORE INTO ${optionsTable} (option_name, option_value, autoload) VALUES (?, ?, 'no')`, [
    name,
    value,
  ]);
}
