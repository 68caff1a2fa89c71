// Claims due actions with the Action Scheduler claim protocol (claims row, claim_id, last_attempt_*), in its order.
import type { RowDataPacket, ResultSetHeader, PoolConnection } from 'mysql2/promise';
import type { Pool, Tables } from '../db/database';
import { isRetryable } from '../db/database';
import { mysqlUtc, SiteTime } from '../db/site-time';
import { contract } from '../contract';

export interface ClaimedAction { id: number; scheduledGmt: string; groupId: number; hook: string }
export interface Claim { claimId: number; actions: ClaimedAction[]; claimedAt: number }

export interface ClaimFilter { groupIds: number[]; excludeGroupIds: number[] }

const ORDER = 'ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC';

export class Claimer {
  /**
   * Claims whose outcome is unknown: the connection failed after the claims row was inserted, maybe while the COMMIT
   * was on its way (the server may have committed it and the answer been lost). Nobody would release such a claim
   * until the stale-claim reset, minutes later; releasing one that never committed changes nothing. So they are
   * released before the next claim.
   */
  private uncertain = new Set<number>();

  /** `pool` must allow multiple statements per query (createPool's option): the SKIP LOCKED claim sends them in two round trips. */
  constructor(private pool: Pool, private t: Tables, private time: SiteTime, private skipLocked: boolean, private filter: ClaimFilter) {
    const cfg = (pool as { pool?: { config?: { connectionConfig?: { multipleStatements?: boolean } } } }).pool?.config?.connectionConfig;
    if (cfg && !cfg.multipleStatements) throw new Error('the claimer needs a pool created with multipleStatements');
  }

  private groupSql(): { sql: string; params: number[] } {
    if (this.filter.groupIds.length) return { sql: ` AND group_id IN (${this.filter.groupIds.map(() => '?').join(',')})`, params: this.filter.groupIds };
    if (this.filter.excludeGroupIds.length) return { sql: ` AND group_id NOT IN (${this.filter.excludeGroupIds.map(() => '?').join(',')})`, params: this.filter.excludeGroupIds };
    return { sql: '', params: [] };
  }

  /** Returns null when nothing is due. Retries deadlocks and lock-wait timeouts a few times. */
  async claim(limit: number): Promise<Claim | null> {
    for (const claimId of [...this.uncertain]) {
      await this.release(claimId); // throws while the database is still away: the caller retries later
      this.uncertain.delete(claimId);
    }
    for (let attempt = 0; ; attempt++) {
      const conn = await this.pool.getConnection();
      const inserted = { claimId: 0 };
      try {
        return this.skipLocked ? await this.claimSkipLocked(conn, limit, inserted) : await this.claimLikeLibrary(conn, limit, inserted);
      } catch (e) {
        if (inserted.claimId) this.uncertain.add(inserted.claimId);
        await conn.rollback().catch(() => undefined);
        if (isRetryable(e) && attempt < 5) { await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1))); continue; }
        throw e;
      } finally {
        conn.release();
      }
    }
  }

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
   *    stamp only the rows it locked (the FIND_IN_SET guard: a row another claimer holds fails it on InnoDB's
   *    semi-consistent read instead of being waited for), read them back, and commit.
   *
   * When every candidate was taken by another claimer in between, the classic SKIP LOCKED scan finds the next ones.
   * After round trip 1 the claim's ID is known, so if round trip 2 fails (its COMMIT may have reached the server) the
   * claim is remembered as uncertain and released before the next claim.
   */
  private async claimSkipLocked(conn: PoolConnection, limit: number, inserted: { claimId: number }): Promise<Claim | null> {
    const now = Date.now();
    const nowGmt = mysqlUtc(now);
    const g = this.groupSql();
    const [opened] = await conn.query<ResultSetHeader[] & RowDataPacket[][]>(
      `SET SESSION group_concat_max_len = ?; START TRANSACTION; INSERT INTO ${this.t.claims} (date_created_gmt) VALUES (?);
       ${contract.sql.CLAIM_SELECT.replace('{actions}', this.t.actions).replace('{groups}', g.sql)}`,
      [Math.max(1024, limit * 21), nowGmt, nowGmt, ...g.params, limit],
    );
    const claimId = (opened[2] as unknown as ResultSetHeader).insertId;
    const candidates = (opened[3] as RowDataPacket[]).map((r) => Number(r.action_id));
    if (candidates.length === 0) { await conn.query('ROLLBACK'); return null; }
    inserted.claimId = claimId;
    const ids = candidates.join(',');
    const [stamped] = await conn.query<RowDataPacket[][]>(
      `SELECT GROUP_CONCAT(action_id) INTO @sidecar_claimable FROM ${this.t.actions} FORCE INDEX (PRIMARY)
         WHERE action_id IN (${ids}) AND status = 'pending' AND claim_id = 0 AND scheduled_date_gmt <= ? FOR UPDATE SKIP LOCKED;
       UPDATE ${this.t.actions} SET claim_id = ?, last_attempt_gmt = ?, last_attempt_local = ?
         WHERE action_id IN (${ids}) AND FIND_IN_SET(action_id, @sidecar_claimable);
       SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${this.t.actions} FORCE INDEX (PRIMARY) WHERE action_id IN (${ids}) AND claim_id = ? ${ORDER};
       DELETE FROM ${this.t.claims} WHERE claim_id = ? AND @sidecar_claimable IS NULL;
       COMMIT`,
      [nowGmt, claimId, nowGmt, this.time.local(now), claimId, claimId],
    );
    inserted.claimId = 0;
    const rows = stamped[2];
    if (rows.length === 0) return this.claimByScan(conn, limit, inserted); // all taken meanwhile; the empty claims row is gone
    return { claimId, claimedAt: now, actions: rows.map(toClaimedAction) };
  }

  /**
   * The classic SKIP LOCKED claim: one locking scan of the due rows in the library's order. Slower on big tables (see
   * claimSkipLocked), but it finds rows however many claimers compete for the first ones.
   */
  private async claimByScan(conn: PoolConnection, limit: number, inserted: { claimId: number }): Promise<Claim | null> {
    const now = Date.now();
    const nowGmt = mysqlUtc(now);
    const g = this.groupSql();
    await conn.beginTransaction();
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${this.t.actions}
       WHERE status = 'pending' AND claim_id = 0 AND scheduled_date_gmt <= ?${g.sql} ${ORDER} LIMIT ? FOR UPDATE SKIP LOCKED`,
      [nowGmt, ...g.params, limit],
    );
    if (rows.length === 0) { await conn.rollback(); return null; }
    const [ins] = await conn.query<ResultSetHeader>(`INSERT INTO ${this.t.claims} (date_created_gmt) VALUES (?)`, [nowGmt]);
    const claimId = ins.insertId;
    inserted.claimId = claimId;
    const ids = rows.map((r) => Number(r.action_id));
    await conn.query(
      `UPDATE ${this.t.actions} SET claim_id = ?, last_attempt_gmt = ?, last_attempt_local = ? WHERE action_id IN (${ids.map(() => '?').join(',')})`,
      [claimId, nowGmt, this.time.local(now), ...ids],
    );
    await conn.commit();
    return { claimId, claimedAt: now, actions: rows.map(toClaimedAction) };
  }

  /** Servers without SKIP LOCKED: the library's own statements (UPDATE ... ORDER BY ... LIMIT, then SELECT by claim). */
  private async claimLikeLibrary(conn: PoolConnection, limit: number, inserted: { claimId: number }): Promise<Claim | null> {
    const now = Date.now();
    const nowGmt = mysqlUtc(now);
    const g = this.groupSql();
    const [ins] = await conn.query<ResultSetHeader>(`INSERT INTO ${this.t.claims} (date_created_gmt) VALUES (?)`, [nowGmt]);
    const claimId = ins.insertId;
    inserted.claimId = claimId;
    const [upd] = await conn.query<ResultSetHeader>(
      `UPDATE ${this.t.actions} SET claim_id = ?, last_attempt_gmt = ?, last_attempt_local = ?
       WHERE claim_id = 0 AND scheduled_date_gmt <= ? AND status = 'pending'${g.sql} ${ORDER} LIMIT ?`,
      [claimId, nowGmt, this.time.local(now), nowGmt, ...g.params, limit],
    );
    if (upd.affectedRows === 0) { await conn.query(`DELETE FROM ${this.t.claims} WHERE claim_id = ?`, [claimId]); return null; }
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${this.t.actions} WHERE claim_id = ? ${ORDER}`, [claimId]);
    return { claimId, claimedAt: now, actions: rows.filter((r) => String(r.scheduled_date_gmt) <= nowGmt).map(toClaimedAction) };
  }

  /** As the library releases: select the IDs first, update by primary key (no deadlock on the claim_id index), delete the claim row. */
  async release(claimId: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT action_id FROM ${this.t.actions} WHERE claim_id = ?`, [claimId]);
        const ids = rows.map((r) => Number(r.action_id));
        if (ids.length) await this.pool.query(`UPDATE ${this.t.actions} SET claim_id = 0 WHERE action_id IN (${ids.map(() => '?').join(',')})`, ids);
        await this.pool.query(`DELETE FROM ${this.t.claims} WHERE claim_id = ?`, [claimId]);
        return;
      } catch (e) {
        if (isRetryable(e) && attempt < 5) { await new Promise((r) => setTimeout(r, 10 * (attempt + 1))); continue; }
        throw e;
      }
    }
  }

  /**
   * Whether any unclaimed action is due, by a plain read. A SKIP LOCKED claim can come back empty while another
   * claimer's scan briefly holds the rows, so "nothing claimed" alone does not mean "nothing due".
   */
  async hasDue(): Promise<boolean> {
    const g = this.groupSql();
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT 1 FROM ${this.t.actions} WHERE status = 'pending' AND claim_id = 0 AND scheduled_date_gmt <= ?${g.sql} LIMIT 1`, [mysqlUtc(Date.now()), ...g.params]);
    return rows.length > 0;
  }

  /** Milliseconds until the next pending, unclaimed action is due (null when none is scheduled). */
  async msUntilNextDue(): Promise<number | null> {
    const g = this.groupSql();
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT MIN(scheduled_date_gmt) AS next FROM ${this.t.actions} WHERE status = 'pending' AND claim_id = 0${g.sql}`, g.params);
    const next = rows[0]?.next;
    if (!next) return null;
    return Math.max(0, Date.parse(String(next).replace(' ', 'T') + 'Z') - Date.now());
  }
}

function toClaimedAction(r: RowDataPacket): ClaimedAction {
  return { id: Number(r.action_id), scheduledGmt: String(r.scheduled_date_gmt), groupId: Number(r.group_id), hook: String(r.hook) };
}

export async function resolveGroupIds(pool: Pool, t: Tables, slugs: string[]): Promise<number[]> {
  if (!slugs.length) return [];
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT group_id FROM ${t.groups} WHERE slug IN (${slugs.map(() => '?').join(',')})`, slugs);
  return rows.map((r) => Number(r.group_id));
}
