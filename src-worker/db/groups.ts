// The groups table: slugs to IDs for the lane filters, IDs to slugs for the statistics.
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool, Tables } from './database';
import { placeholders } from './claims/types';

export async function resolveGroupIds(pool: Pool, t: Tables, slugs: string[]): Promise<number[]> {
  if (!slugs.length) return [];
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT group_id FROM ${t.groups} WHERE slug IN (${placeholders(slugs.length)})`,
    slugs,
  );
  return rows.map((r) => Number(r.group_id));
}

export async function groupSlugs(pool: Pool, t: Tables): Promise<Map<number, string>> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT group_id, slug FROM ${t.groups}`);
  return new Map(rows.map((r) => [Number(r.group_id), String(r.slug)]));
}
