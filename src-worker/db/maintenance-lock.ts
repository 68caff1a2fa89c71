// The named lock that lets one sidecar of a site at a time run the maintenance pass.
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';

/** GET_LOCK without waiting: held by this connection until released, or dropped with the connection. */
export async function tryLock(conn: PoolConnection, name: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name]);
  return Number(rows[0].got) === 1;
}

export async function unlock(conn: PoolConnection, name: string): Promise<void> {
  await conn.query('SELECT RELEASE_LOCK(?)', [name]);
}
