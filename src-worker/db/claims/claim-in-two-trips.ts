// The SKIP LOCKED claim in two round trips (the fast path on MariaDB ≥ 10.6 and MySQL ≥ 8).
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { claimByScan } from './claim-by-scan';
import {
  claimInstant,
  groupFilter,
  LOCK_AND_STAMP_STATEMENTS,
  lockAndStamp,
  ORDER,
  PENDING,
  PlainClaim,
  toClaimedAction,
} from './types';

/**
 * One short READ COMMITTED transaction (the pool sets the level on every new connection, see createPool) in two round
 * trips, so that several sidecars never wait on each other and the claim locks as few records as it can:
 *
 * 1. Open the transaction, insert the claims row (the library also inserts it first), and read the first `limit`
 *    due, unclaimed IDs in the library's order with a plain read. A plain read of the sidecar_claim index costs
 *    about a fifth of a locking scan of it: a locking scan locks every entry it passes, including the entries of
 *    rows that just left the pending state and that purge has not removed yet.
 * 2. Lock those rows by primary key (forced: on a small table the optimiser may pick an index scan, which would
 *    lock, or skip, rows it was not asked for) with SKIP LOCKED, re-checking that they are still pending, unclaimed and due (a
 *    locking read sees the latest committed row, so a claim another sidecar committed in between is excluded),
 *    stamp exactly the rows it locked (lockAndStamp: never a row another claimer holds, which it would wait for),
 *    read them back, and commit.
 *
 * When every candidate was taken by another claimer in between, the classic SKIP LOCKED scan finds the next ones.
 * After round trip 1 the claim's ID is known, so if round trip 2 fails (its COMMIT may have reached the server) the
 * caller is told through `inserted`, to release it before the next claim.
 *
 * `conn` must allow multiple statements (createPool's option).
 */
export const claimInTwoTrips: PlainClaim = async (conn, t, time, filter, limit, inserted) => {
  const { now, nowGmt } = claimInstant();
  const g = groupFilter(filter);
  const [opened] = await conn.query<ResultSetHeader[] & RowDataPacket[][]>(
    `START TRANSACTION; INSERT INTO ${t.claims} (date_created_gmt) VALUES (?);
     SELECT action_id FROM ${t.actions}
       WHERE status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ?${g.sql}
       ${ORDER}
       LIMIT ?`,
    [nowGmt, nowGmt, ...g.params, limit],
  );
  const claimId = (opened[1] as unknown as ResultSetHeader).insertId;
  const candidates = (opened[2] as RowDataPacket[]).map((r) => Number(r.action_id));
  if (candidates.length === 0) {
    await conn.query('ROLLBACK');
    return null;
  }
  inserted.claimId = claimId;
  const ids = candidates.join(',');
  const [stamped] = await conn.query<RowDataPacket[][]>(
    `SET @sidecar_claim = ?;
     ${lockAndStamp(t.actions, candidates)}
     SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${t.actions} FORCE INDEX (PRIMARY) WHERE action_id IN (${ids}) AND claim_id = ? ${ORDER};
     DELETE FROM ${t.claims} WHERE claim_id = ? AND @sidecar_claimable IS NULL;
     COMMIT`,
    [claimId, nowGmt, nowGmt, time.local(now), claimId, claimId],
  );
  inserted.claimId = 0;
  const rows = stamped[1 + LOCK_AND_STAMP_STATEMENTS];
  if (rows.length === 0) return claimByScan(conn, t, time, filter, limit, inserted); // all taken meanwhile; the empty claims row is gone
  return { claimId, claimedAt: now, actions: rows.map(toClaimedAction) };
};
