// Claims due actions with the Action Scheduler claim protocol (claims row, claim_id, last_attempt_*), in its order.
// The statements are in db/claims/; this class picks one for the server, retries deadlocks, and remembers claims
// whose outcome is unknown.
import type { Pool, Tables } from '../db/database';
import { isRetryable } from '../db/database';
import type { SiteTime } from '../db/site-time';
import { claimInTwoTrips } from '../db/claims/claim-in-two-trips';
import { claimLikeLibrary } from '../db/claims/claim-like-library';
import { releaseClaim } from '../db/claims/release-claim';
import { hasDue, nextDueAt } from '../db/claims/due';
import type { Claim, ClaimFilter, Inserted } from '../db/claims/types';
import { retry } from '../retry';
import type { Controls } from './controls';
import { claimWithLimits, LimitOutcome } from '../db/claims/claim-with-limits';

export type { Claim, ClaimedAction, ClaimFilter } from '../db/claims/types';
export { resolveGroupIds } from '../db/groups';

/** Deadlocks and lock-wait timeouts: retried up to 5 times after the first try. */
const TRIES = 6;

export class Claimer {
  /**
   * Claims whose outcome is unknown: the connection failed after the claims row was inserted, maybe while the COMMIT
   * was on its way (the server may have committed it and the answer been lost). Nobody would release such a claim
   * until the stale-claim reset, minutes later; releasing one that never committed changes nothing. So they are
   * released before the next claim.
   */
  private uncertain = new Set<number>();
  /** What the last limited claim found: due work of a limited group without room, and when it opens. */
  private limitOutcome: LimitOutcome = { blocked: false, retryAt: 0 };

  /** `pool` must allow multiple statements per query (createPool's option): the SKIP LOCKED claim sends them in two round trips. */
  constructor(
    private pool: Pool,
    private t: Tables,
    private time: SiteTime,
    private skipLocked: boolean,
    private filter: ClaimFilter,
    private controls?: Controls,
  ) {
    const cfg = (pool as { pool?: { config?: { connectionConfig?: { multipleStatements?: boolean } } } }).pool?.config
      ?.connectionConfig;
    if (cfg && !cfg.multipleStatements) throw new Error('the claimer needs a pool created with multipleStatements');
  }

  /** Returns null when nothing is due. Retries deadlocks and lock-wait timeouts a few times. */
  async claim(limit: number): Promise<Claim | null> {
    for (const claimId of [...this.uncertain]) {
      await this.release(claimId); // throws while the database is still away: the caller retries later
      this.uncertain.delete(claimId);
    }
    return retry(
      async () => {
        const conn = await this.pool.getConnection();
        const inserted: Inserted = { claimId: 0 };
        try {
          const limited = this.skipLocked && this.controls ? this.controls.limited : [];
          const claim = this.skipLocked ? claimInTwoTrips : claimLikeLibrary;
          // Only while a group policy sets a concurrency or rate limit: otherwise the claim is exactly the plain one.
          if (!limited.length) return await claim(conn, this.t, this.time, this.current(), limit, inserted);
          // Until the limited groups can open again, the plain claim serves the rest without taking their locks, so
          // waiting lanes do not queue on them.
          if (this.limitOutcome.blocked && Date.now() < this.limitOutcome.retryAt) {
            const f = this.current();
            return await claim(
              conn,
              this.t,
              this.time,
              { ...f, pausedGroupIds: [...(f.pausedGroupIds ?? []), ...limited.map((g) => g.id)] },
              limit,
              inserted,
            );
          }
          // An outcome of this call's own: the lanes of a sidecar share this claimer and claim concurrently.
          const outcome: LimitOutcome = { blocked: false, retryAt: 0 };
          const got = await claimWithLimits(conn, this.t, this.time, this.current(), limit, inserted, limited, outcome);
          this.limitOutcome = outcome;
          if (outcome.trials?.length) this.controls!.noteTrials(outcome.trials);
          return got;
        } catch (e) {
          if (inserted.claimId) this.uncertain.add(inserted.claimId);
          await conn.rollback().catch(() => undefined);
          throw e;
        } finally {
          conn.release();
        }
      },
      { attempts: TRIES, retryable: isRetryable, delayMs: (n) => 5 + Math.random() * 20 * (n + 1) },
    );
  }

  /** The lane's filter, narrowed by what is paused right now (no query: Controls reloads it every second). */
  private current(): ClaimFilter {
    return this.controls ? this.controls.narrow(this.filter) : this.filter;
  }

  /** As the library releases (see releaseClaim); deadlocks are retried. */
  release(claimId: number): Promise<void> {
    return retry(() => releaseClaim(this.pool, this.t, claimId), {
      attempts: TRIES,
      retryable: isRetryable,
      delayMs: (n) => 10 * (n + 1),
    });
  }

  /**
   * Whether any unclaimed action is due, by a plain read. A SKIP LOCKED claim can come back empty while another
   * claimer's scan briefly holds the rows, so "nothing claimed" alone does not mean "nothing due".
   */
  hasDue(): Promise<boolean> {
    return hasDue(this.pool, this.t, this.current());
  }

  /**
   * Milliseconds until the next pending, unclaimed action is due (null when none is scheduled). A limited group's due
   * actions that the last claim had no room for count from when the group opens again, so an idle lane sleeps until
   * then instead of claiming in a loop.
   */
  async msUntilNextDue(): Promise<number | null> {
    const f = this.current();
    const limited = this.skipLocked && this.controls ? this.controls.limited.map((g) => g.id) : [];
    if (!limited.length) {
      const at = await nextDueAt(this.pool, this.t, f);
      return at === null ? null : Math.max(0, at - Date.now());
    }
    const others = await nextDueAt(this.pool, this.t, {
      ...f,
      pausedGroupIds: [...(f.pausedGroupIds ?? []), ...limited],
    });
    const mine = limited.filter(
      (id) => (!f.groupIds.length || f.groupIds.includes(id)) && !f.excludeGroupIds.includes(id),
    );
    let capped = mine.length ? await nextDueAt(this.pool, this.t, { ...f, groupIds: mine, excludeGroupIds: [] }) : null;
    if (capped !== null && this.limitOutcome.blocked) capped = Math.max(capped, this.limitOutcome.retryAt);
    const at = others === null ? capped : capped === null ? others : Math.min(others, capped);
    return at === null ? null : Math.max(0, at - Date.now());
  }
}
