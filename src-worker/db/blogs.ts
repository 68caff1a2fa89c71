// The sites of a multisite network, from its blogs table.
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './database';

export interface BlogRow {
  blogId: number;
  domain: string;
  path: string;
}

/** Every live site (not deleted, spam or archived), in blog ID order. */
export async function liveBlogs(pool: Pool, basePrefix: string): Promise<BlogRow[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT blog_id, domain, path FROM ${basePrefix}blogs WHERE deleted = 0 AND spam = 0 AND archived = '0' ORDER BY blog_id`,
  );
  return rows.map((r) => ({ blogId: Number(r.blog_id), domain: String(r.domain), path: String(r.path) }));
}
