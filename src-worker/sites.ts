// Which sites to serve: the single site, or every live site of a multisite network (each has its own tables).
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './db/database';

export interface Site { blogId: number; prefix: string; url: string }

/** Blog 1 uses the base prefix; blog N uses "<base>N_", as WordPress names them. */
export async function discoverSites(pool: Pool, basePrefix: string, multisite: boolean, fallbackUrl: string): Promise<Site[]> {
  if (!multisite) return [{ blogId: 1, prefix: basePrefix, url: fallbackUrl }];
  const scheme = /^https:/i.test(fallbackUrl) ? 'https' : 'http';
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT blog_id, domain, path FROM ${basePrefix}blogs WHERE deleted = 0 AND spam = 0 AND archived = '0' ORDER BY blog_id`);
  return rows.map((r) => ({
    blogId: Number(r.blog_id),
    prefix: Number(r.blog_id) === 1 ? basePrefix : `${basePrefix}${Number(r.blog_id)}_`,
    url: `${scheme}://${String(r.domain)}${String(r.path)}`,
  }));
}
