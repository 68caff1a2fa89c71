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
