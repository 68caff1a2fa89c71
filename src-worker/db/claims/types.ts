// What a claim is, and the pieces every claim statement shares: the library's order and the group filter.
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { contract } from '../../contract';
import type { Tables } from '../database';
import { mysqlUtc, SiteTime } from '../site-time';

export interface ClaimedAction {
  id: number;
  scheduledGmt: string;
  groupId: number;
  hook: string;
}
export interface Claim {
  claimId: number;
  actions: ClaimedAction[];
  claimedAt: number;
}
/** Group IDs a lane claims only (`groupIds`) or never (`excludeGroupIds`); both empty: every group. */
export interface ClaimFilter {
  groupIds: number[];
  excludeGroupIds: number[];
  /** Paused groups and hooks (claim/controls.ts): left out of the claim, only present while something is paused. */
  pausedGroupIds?: number[];
  pausedHooks?: string[];
}

/** Set to the claims row's ID once it is inserted, so that a failure after that point can release it. */
export interface Inserted {
  claimId: number;
}

/**
 * A claim without group limits (claimInTwoTrips, claimByScan, claimLikeLibrary): the claimer picks one by what the
 * server supports and calls it the same way.
 */
export type PlainClaim = (
  conn: PoolConnection,
  t: Tables,
  time: SiteTime,
  filter: ClaimFilter,
  limit: number,
  inserted: Inserted,
) => Promise<Claim | null>;

/**
 * The claim's instant, read once: every statement of a claim compares with and stamps the same moment (`nowGmt`, the
 * library's GMT column format), and `now` is the claim's claimedAt and the site-local stamp's source.
 */
export function claimInstant(): { now: number; nowGmt: string } {
  const now = Date.now();
  return { now, nowGmt: mysqlUtc(now) };
}

/** The library's claim order (ActionScheduler_DBStore::claim_actions). */
export const ORDER = 'ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC';

/** Only pending actions are claimed; the status comes from the contract, never a literal. */
export const PENDING = `'${contract.statuses.PENDING}'`;

/** ` AND group_id [NOT] IN (?, …)` (and the paused groups and hooks left out) with its values, or nothing. */
export function groupFilter(filter: ClaimFilter): { sql: string; params: (number | string)[] } {
  const base = laneFilter(filter);
  const pg = filter.pausedGroupIds ?? [];
  const ph = filter.pausedHooks ?? [];
  if (!pg.length && !ph.length) return base;
  let sql = base.sql;
  const params: (number | string)[] = [...base.params];
  if (pg.length) {
    sql += ` AND group_id NOT IN (${placeholders(pg.length)})`;
    params.push(...pg);
  }
  if (ph.length) {
    sql += ` AND hook NOT IN (${placeholders(ph.length)})`;
    params.push(...ph);
  }
  return { sql, params };
}

function laneFilter(filter: ClaimFilter): { sql: string; params: number[] } {
  if (filter.groupIds.length) {
    return { sql: ` AND group_id IN (${filter.groupIds.map(() => '?').join(',')})`, params: filter.groupIds };
  }
  if (filter.excludeGroupIds.length) {
    return {
      sql: ` AND group_id NOT IN (${filter.excludeGroupIds.map(() => '?').join(',')})`,
      params: filter.excludeGroupIds,
    };
  }
  return { sql: '', params: [] };
}

export function toClaimedAction(r: RowDataPacket): ClaimedAction {
  return {
    id: Number(r.action_id),
    scheduledGmt: String(r.scheduled_date_gmt),
    groupId: Number(r.group_id),
    hook: String(r.hook),
  };
}

export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');

/** How many statements lockAndStamp() is (their results come first in the round trip's list). */
export const LOCK_AND_STAMP_STATEMENTS = 6;

/**
 * The statements that lock and stamp a claim's picked rows (claimInTwoTrips and claimWithLimits): lock the rows of
 * `ids` (a list of integers) by primary key with SKIP LOCKED, re-checking that they are still pending, unclaimed and
 * due, and stamp exactly the rows it locked with the claim in @sidecar_claim. Parameters: the due-by instant, then
 * the GMT and site-local stamps.
 *
 * Why the stamp is built from the locked IDs (a statement prepared from @sidecar_claimable) and not the picked list
 * with a guard: an UPDATE over a primary-key IN list does one unique lookup per ID, and InnoDB's semi-consistent read
 * (which would let a guard that fails skip a row another transaction holds) is not used for unique lookups, so such
 * an UPDATE waits for every picked row another claimer holds. Two claimers that picked the same rows then waited on
 * each other's halves and deadlocked (seen in the cleanup bench: 7 deadlocks in 3 minutes between the sidecar and the
 * probe; on a 10-row table the optimiser scans instead, which is why a small test did not show it). The IDs come
 * from our own locking read, and group_concat_max_len is raised to hold them all (21 characters an ID), so the list
 * is never cut short in the middle of a number; when nothing was locked the list is IN (NULL), which matches no row
 * (not IN (0): a row with ID 0 can exist where rows were imported under NO_AUTO_VALUE_ON_ZERO).
 */
export function lockAndStamp(actions: string, ids: number[]): string {
  return `SET SESSION group_concat_max_len = GREATEST(@@group_concat_max_len, ${21 * ids.length + 21});
     SELECT GROUP_CONCAT(action_id) INTO @sidecar_claimable FROM ${actions} FORCE INDEX (PRIMARY)
       WHERE action_id IN (${ids.join(',')}) AND status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ? FOR UPDATE SKIP LOCKED;
     SET @sidecar_stamp = CONCAT('UPDATE ${actions} SET claim_id = ', @sidecar_claim, ', last_attempt_gmt = ', QUOTE(?), ', last_attempt_local = ', QUOTE(?), ' WHERE action_id IN (', COALESCE(@sidecar_claimable, 'NULL'), ')');
     PREPARE sidecar_stamp FROM @sidecar_stamp;
     EXECUTE sidecar_stamp;
     DEALLOCATE PREPARE sidecar_stamp;`;
}
