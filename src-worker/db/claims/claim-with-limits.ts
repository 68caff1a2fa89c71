// The claim while some groups have a concurrency or rate limit (group policies, published by PHP). Only used then:
// with no limit the claim is claimInTwoTrips / claimLikeLibrary, unchanged.
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Tables } from '../database';
import {
  Claim,
  claimInstant,
  groupFilter,
  LOCK_AND_STAMP_STATEMENTS,
  lockAndStamp,
  ORDER,
  PENDING,
  placeholders,
  PlainClaim,
  toClaimedAction,
} from './types';
import { contract } from '../../contract';

/** A limited group as the claim needs it. `rate`: at most `limit` starts per `perMs`, shared by every sidecar. */
export interface LimitedGroup {
  id: number;
  concurrency?: number;
  rate?: { limit: number; perMs: number };
  /** A circuit breaker (its state is PHP's, in {prefix}sidecar_breakers, read here under the group's lock). */
  breaker?: { slug: string; cooldownMs: number; failures: number };
}

/** A breaker the claim moved from open to half-open (it claimed the trial run). */
export interface BreakerTrial {
  slug: string;
  actionId: number;
}

/** What the claim learnt about the limited groups: whether one had due work but no room, and when to look again. */
export interface LimitOutcome {
  blocked: boolean;
  retryAt: number;
  trials?: BreakerTrial[];
}

const RUNNING = `'${contract.statuses.RUNNING}'`;
/** A group at its concurrency limit is looked at again after this long (a completion frees a slot, silently). */
export const CONCURRENCY_RECHECK_MS = 100;

/**
 * The rate's spacing, its burst (a tenth of the limit, at least 1) and the effective arrival time. A claimer that comes
 * late (it was running the previous action, or asleep) may make up at most one burst of the starts it missed: the
 * arrival time never lags now by more than burst × spacing. So the rate is met, not undershot by every delay, and any
 * window of the rate's length holds at most limit + burst starts (10 % over at most).
 */
function gcra(rate: { limit: number; perMs: number }, tat: number, now: number) {
  const interval = rate.perMs / rate.limit;
  const burst = Math.max(1, Math.ceil(rate.limit / 10));
  return { interval, burst, start: Math.max(tat, now - burst * interval) };
}

/** The table of the rate limits' state: per group, the theoretical arrival time of the next start (GCRA), in ms. */
export function rateTable(t: Tables): string {
  return t.actions.replace(/actionscheduler_actions$/, 'sidecar_rate');
}

export function breakerTable(t: Tables): string {
  return t.actions.replace(/actionscheduler_actions$/, 'sidecar_breakers');
}

export async function ensureRateTable(conn: { query: PoolConnection['query'] }, t: Tables): Promise<void> {
  await conn.query(
    `CREATE TABLE IF NOT EXISTS ${rateTable(t)} (group_id bigint(20) unsigned NOT NULL, tat_ms bigint(20) NOT NULL DEFAULT 0, PRIMARY KEY (group_id))`,
  );
}

/**
 * One READ COMMITTED transaction:
 *
 * 1. Lock the limited groups' rows in the groups table (FOR UPDATE, in ID order so claimers never deadlock on
 *    them). Every claimer of every sidecar that may take actions of these groups takes the same locks, so their
 *    decisions are serialised until COMMIT: two claimers can never both see the same free slot.
 * 2. Count each group's actions that hold a slot: in progress, or pending under a claim (claimed, about to start;
 *    a start window's rows are in progress already). A completion frees its slot once it is committed; until then
 *    it is counted, which errs on the safe side.
 * 3. Rate limits are a generic cell rate algorithm over one stored time per group (tat): a start is allowed when
 *    tat ≤ now + burst; each start moves tat on by perMs / limit. Over any period the starts stay at the rate, with
 *    bursts of at most a tenth of the limit (at least 1).
 * 4. Read candidates: the general ones (limited groups left out) and, per limited group with room, up to its room;
 *    merge them in the library's order, lock and stamp them as claimInTwoTrips does, store the new tats, commit.
 *
 * Its arguments are a plain claim's, then the limited groups and the outcome it fills in.
 */
export const claimWithLimits = async (
  ...[conn, t, time, filter, limit, inserted, groups, outcome]: [
    ...Parameters<PlainClaim>,
    groups: LimitedGroup[],
    outcome: LimitOutcome,
  ]
): Promise<Claim | null> => {
  outcome.blocked = false;
  outcome.retryAt = 0;
  outcome.trials = [];
  const { now, nowGmt } = claimInstant();
  const ids = groups.map((g) => g.id).sort((a, b) => a - b);
  const general = groupFilter({ ...filter, pausedGroupIds: [...(filter.pausedGroupIds ?? []), ...ids] });
  const rated = groups.filter((g) => g.rate);
  const broken = groups.filter((g) => g.breaker);
  const cols = 'action_id, priority, attempts, scheduled_date_gmt, group_id';
  const lane = groupFilter({ ...filter, groupIds: [], excludeGroupIds: filter.excludeGroupIds });
  const eligible = groups.filter((g) => !filter.groupIds.length || filter.groupIds.includes(g.id));
  // Round trip 1, every read at once (multiple statements): open the transaction, lock the groups' rows first (the
  // reads after the lock see what the previous holder committed), then the slots, rate and breaker state, the general
  // candidates, and each limited group's candidates (up to `limit`; trimmed to its room below).
  const stmts: { sql: string; params: unknown[] }[] = [];
  const add = (sql: string, params: unknown[] = []) => stmts.push({ sql, params }) - 1;
  add('START TRANSACTION');
  add(
    `SELECT group_id FROM ${t.groups} WHERE group_id IN (${placeholders(ids.length)}) ORDER BY group_id FOR UPDATE`,
    ids,
  );
  const iBusy = add(
    `SELECT group_id, COUNT(*) AS n, SUM(status = ${PENDING}) AS claimed FROM ${t.actions} WHERE group_id IN (${placeholders(ids.length)}) AND (status = ${RUNNING} OR (status = ${PENDING} AND claim_id > 0)) GROUP BY group_id`,
    ids,
  );
  const iTat = rated.length
    ? add(
        `SELECT group_id, tat_ms FROM ${rateTable(t)} WHERE group_id IN (${placeholders(rated.length)})`,
        rated.map((g) => g.id),
      )
    : -1;
  const iBreakers = broken.length
    ? add(
        `SELECT group_slug, state, consecutive, inflight, UNIX_TIMESTAMP(until_gmt) * 1000 AS until_ms, UNIX_TIMESTAMP(trial_gmt) * 1000 AS trial_ms FROM ${breakerTable(t)} WHERE group_slug IN (${placeholders(broken.length)})`,
        broken.map((g) => g.breaker!.slug),
      )
    : -1;
  const iGeneral = add(
    `SELECT ${cols} FROM ${t.actions} WHERE status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ?${general.sql} ${ORDER} LIMIT ?`,
    [nowGmt, ...general.params, limit],
  );
  const iGroup = new Map(
    eligible.map((g) => [
      g.id,
      add(
        `SELECT ${cols} FROM ${t.actions} WHERE status = ${PENDING} AND claim_id = 0 AND scheduled_date_gmt <= ? AND group_id = ?${lane.sql} ${ORDER} LIMIT ?`,
        [nowGmt, g.id, ...lane.params, limit],
      ),
    ]),
  );
  try {
    const [all] = await conn.query<RowDataPacket[][]>(
      stmts.map((x) => x.sql).join(';\n'),
      stmts.flatMap((x) => x.params),
    );
    const result = (i: number) => (all as unknown as RowDataPacket[][])[i];
    const busyRows = result(iBusy);
    const busy = new Map(busyRows.map((r) => [Number(r.group_id), Number(r.n)]));
    const claimedOnly = new Map(busyRows.map((r) => [Number(r.group_id), Number(r.claimed)]));
    const running = new Map(busyRows.map((r) => [Number(r.group_id), Number(r.n) - Number(r.claimed)]));
    const tat = new Map<number, number>();
    if (iTat >= 0) for (const r of result(iTat)) tat.set(Number(r.group_id), Number(r.tat_ms));
    // Breakers: open until its cool-down ends (nothing claimed); then one trial (room 1, and the breaker moves to
    // half-open in this transaction, so no other claimer takes a second); half-open while the trial runs. A trial
    // that never reports (its claim released, its worker gone) is given up after another cool-down.
    const tripped = new Map<number, { open: boolean; opensAt?: number }>();
    /** Closed breakers counting consecutive failures: how many more may fail before it opens. */
    const leftToTrip = new Map<number, number>();
    if (iBreakers >= 0) {
      const br = result(iBreakers);
      const bySlug = new Map(br.map((r) => [String(r.group_slug), r]));
      for (const g of broken) {
        const r = bySlug.get(g.breaker!.slug);
        if (!r || r.state === 'closed') {
          // Started runs whose outcome is not counted yet hold a failure each (PHP counts them in flight at their
          // start and takes them back with the outcome's count in one statement), claimed ones not started too.
          if (g.breaker!.failures > 0) {
            const started = Number(r?.inflight ?? 0);
            leftToTrip.set(
              g.id,
              g.breaker!.failures -
                Number(r?.consecutive ?? 0) -
                Math.max(started, running.get(g.id) ?? 0) -
                (claimedOnly.get(g.id) ?? 0),
            );
          }
          continue;
        }
        const until = Number(r.until_ms ?? 0);
        const trialEnds = Number(r.trial_ms ?? 0) + g.breaker!.cooldownMs;
        if ((r.state === 'open' && until <= now) || (r.state === 'half-open' && trialEnds <= now)) {
          tripped.set(g.id, { open: true });
        } else tripped.set(g.id, { open: false, opensAt: r.state === 'open' ? until : trialEnds });
      }
    }
    const room = new Map<number, number>();
    /** When each group may start again if it has no room now: a rate opens at tat − burst, a slot frees at a completion. */
    const opens = new Map<number, number>();
    for (const g of groups) {
      let r = limit;
      if (g.concurrency !== undefined) {
        r = Math.min(r, g.concurrency - (busy.get(g.id) ?? 0));
        if (r <= 0) opens.set(g.id, now + CONCURRENCY_RECHECK_MS); // completions do not nudge: look again soon
      }
      if (g.rate) {
        const { interval, burst, start } = gcra(g.rate, tat.get(g.id) ?? 0, now);
        const allowed = Math.max(0, Math.floor((now + (burst - 1) * interval - start) / interval) + 1);
        r = Math.min(r, allowed);
        if (allowed <= 0) opens.set(g.id, Math.max(opens.get(g.id) ?? 0, start - (burst - 1) * interval));
      }
      const b = tripped.get(g.id);
      if (b && !b.open) {
        r = 0;
        opens.set(g.id, b.opensAt ?? now + CONCURRENCY_RECHECK_MS);
      }
      if (b && b.open) r = Math.min(r, 1);
      // While closed, no more of the group may be under way than failures could still trip it: if they all fail, the
      // breaker opens with none of the group started after the last of them.
      const left = leftToTrip.get(g.id);
      if (left !== undefined) {
        r = Math.min(r, left);
        if (r <= 0) opens.set(g.id, now + CONCURRENCY_RECHECK_MS);
      }
      room.set(g.id, Math.max(0, r));
    }
    type Cand = { action_id: number; priority: number; attempts: number; scheduled_date_gmt: string; group_id: number };
    const cands: Cand[] = [...(result(iGeneral) as Cand[])];
    for (const g of eligible) {
      const r = room.get(g.id) ?? 0;
      const due = (result(iGroup.get(g.id)!) as Cand[]).slice(0, Math.max(1, r));
      if (!due.length) continue;
      if (r <= 0) {
        // Due work that must wait: the lane sleeps until the earliest group opens instead of claiming in a loop.
        const at = opens.get(g.id) ?? now + CONCURRENCY_RECHECK_MS;
        outcome.retryAt = outcome.blocked ? Math.min(outcome.retryAt, at) : at;
        outcome.blocked = true;
        continue;
      }
      cands.push(...due);
    }
    cands.sort(
      (a, b) =>
        a.priority - b.priority ||
        a.attempts - b.attempts ||
        String(a.scheduled_date_gmt).localeCompare(String(b.scheduled_date_gmt)) ||
        a.action_id - b.action_id,
    );
    const picked = cands.slice(0, limit).map((c) => Number(c.action_id));
    if (!picked.length) {
      await conn.query('ROLLBACK');
      return null;
    }
    // Round trip 2: the claims row, the lock of the picked rows by primary key (SKIP LOCKED, conditions re-checked,
    // as claimInTwoTrips does), their stamp, and what was stamped.
    const list = picked.join(',');
    const [stamped] = await conn.query<RowDataPacket[][]>(
      `INSERT INTO ${t.claims} (date_created_gmt) VALUES (?);
       SET @sidecar_claim = LAST_INSERT_ID();
       ${lockAndStamp(t.actions, picked)}
       SELECT action_id, scheduled_date_gmt, group_id, hook FROM ${t.actions} FORCE INDEX (PRIMARY) WHERE action_id IN (${list}) AND claim_id = @sidecar_claim ${ORDER}`,
      [nowGmt, nowGmt, nowGmt, time.local(now)],
    );
    const claimId = (stamped[0] as unknown as ResultSetHeader).insertId;
    inserted.claimId = claimId;
    const rows = stamped[2 + LOCK_AND_STAMP_STATEMENTS];
    // Round trip 3: each rated group's tat moves on by the starts this claim gives it; a breaker whose trial this
    // claim took turns half-open; commit.
    const finish: { sql: string; params: unknown[] }[] = [];
    for (const g of rated) {
      const taken = rows.filter((r) => Number(r.group_id) === g.id).length;
      if (!taken) continue;
      const { interval, start } = gcra(g.rate!, tat.get(g.id) ?? 0, now);
      finish.push({
        sql: `INSERT INTO ${rateTable(t)} (group_id, tat_ms) VALUES (?, ?) ON DUPLICATE KEY UPDATE tat_ms = VALUES(tat_ms)`,
        params: [g.id, Math.round(start + taken * interval)],
      });
    }
    for (const g of broken) {
      const trial = tripped.get(g.id)?.open ? rows.find((r) => Number(r.group_id) === g.id) : undefined;
      if (!trial) continue;
      finish.push({
        sql: `UPDATE ${breakerTable(t)} SET state = 'half-open', trial_gmt = ? WHERE group_slug = ?`,
        params: [nowGmt, g.breaker!.slug],
      });
      outcome.trials!.push({ slug: g.breaker!.slug, actionId: Number(trial.action_id) });
    }
    if (!rows.length) finish.push({ sql: `DELETE FROM ${t.claims} WHERE claim_id = ?`, params: [claimId] });
    finish.push({ sql: 'COMMIT', params: [] });
    await conn.query(
      finish.map((x) => x.sql).join(';\n'),
      finish.flatMap((x) => x.params),
    );
    if (!rows.length) {
      inserted.claimId = 0;
      return null;
    }
    inserted.claimId = 0;
    return { claimId, claimedAt: now, actions: rows.map(toClaimedAction) };
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
};
