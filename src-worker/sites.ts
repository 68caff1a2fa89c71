// Which sites to serve: the single site, or every live site of a multisite network (each has its own tables).
import { liveBlogs } from './db/blogs';
import type { Pool } from './db/database';

export interface Site {
  blogId: number;
  prefix: string;
  url: string;
}

/** Blog 1 uses the base prefix; blog N uses "<base>N_", as WordPress names them. */
export async function discoverSites(
  pool: Pool,
  basePrefix: string,
  multisite: boolean,
  fallbackUrl: string,
): Promise<Site[]> {
  if (!multisite) return [{ blogId: 1, prefix: basePrefix, url: fallbackUrl }];
  const scheme = /^https:/i.test(fallbackUrl) ? 'https' : 'http';
  return (await liveBlogs(pool, basePrefix)).map((b) => ({
    blogId: b.blogId,
    prefix: b.blogId === 1 ? basePrefix : `${basePrefix}${b.blogId}_`,
    url: `${scheme}://${b.domain}${b.path}`,
  }));
}
