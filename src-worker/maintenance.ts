// Maintenance scheduling: cleanup, stale-claim reset and in-progress timeouts (PHP's pass, on a worker of its own,
// outside the lanes), then pruning of the sidecar's own tables, by one sidecar of a site at a time.
import type { Logger } from 'pino';
import type { Pool, Tables } from './db/database';
import { pruneHeartbeats } from './db/heartbeats';
import { tryLock, unlock } from './db/maintenance-lock';
import { pruneMinuteStats } from './db/minute-stats';
import type { TimedQuery } from './db/timed';
import type { ReplyOf } from './contract';
import { startOrStop, type Executor } from './execute/executor';
import type { SiteState } from './lanes/lane';
import { sleep } from './retry';

export interface MaintenanceDeps {
  pool: Pool;
  tables: Tables;
  query: TimedQuery;
  log: Logger;
  state: SiteState;
  database: string;
  siteKey: string;
  /** A worker for the pass alone (the site's channel: a PHP process, WP-CLI, or the rest route). */
  makeExecutor: () => Executor;
}

/** A pass that stopped at its time budget with work left (a backlog of expired rows): the next one comes this soon. */
const BACKLOG_NEXT_MS = 2000;
/** Such a pass's worker is kept for the next one, up to this age (then a fresh one loads what WordPress loads now). */
const KEEP_WORKER_MS = 60_000;

export class Maintenance {
  /** In-flight guard: a tick that finds the previous pass still running (a slow database) skips. */
  private running?: Promise<void>;
  /** The pass's worker (the one in flight, or the last, kept while passes follow each other on a backlog). */
  private kept?: { worker: Executor; since: number };

  constructor(private d: MaintenanceDeps) {}

  /** One maintenance pass at a time; none once the sidecar is stopping. */
  maintain(): Promise<void> {
    if (this.d.state.stopping) return Promise.resolve();
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * On stop: the pass in flight may finish until the deadline (it is bounded by its own budget, 10 s by default,
   * well inside the shutdown timeout); then its worker is stopped. A PHP process's stop closes its stdin, so it
   * still ends the request it is in and is killed only if it runs 5 s more: a worker killed in the middle of a chunk has its
   * transaction rolled back (nothing is half-deleted, the next pass takes the rows again). The rest channel has no
   * process to stop: its request is waited for (the pass's budget bounds it; the request's own limit is 300 s), so the
   * GET_LOCK is not released while PHP may still be cleaning.
   */
  async stop(until: number): Promise<void> {
    const pass = this.running;
    while (pass && this.running === pass && Date.now() < until) await sleep(50);
    // The pass in flight (if it overran) ends with its worker; a worker it starts after this is never kept.
    await this.release();
    await pass;
  }

  /**
   * Run by one sidecar at a time: MySQL's GET_LOCK is held on one connection for the whole pass, and released (or
   * dropped with the connection) afterwards.
   *
   * Why a worker of its own, started for the pass and stopped after it, rather than a lane's: a pass on a backlog
   * takes its whole budget, pass after pass, and on a lane's worker it held that lane's claims back all along (the
   * drain fell from 1,665 to 649 actions/s with two lanes while 600k expired rows were cleaned). A fresh worker per
   * pass also loads what WordPress loads now, so the hooks the pass fires (deleted, reset, failed) reach every
   * plugin active at the time, with no code-change tracking of its own. Booting it costs a fraction of a second once
   * a minute; on a backlog, where a pass follows the last every 2 s, the worker is kept for the next pass (up to a
   * minute old): a WordPress boot every 12 s was a burst of CPU that the claims of a busy machine felt.
   */
  private async pass(): Promise<void> {
    const lockName = `${this.d.database}.${this.d.siteKey}sidecar_maintenance`.slice(0, 64);
    let conn;
    try {
      conn = await this.d.pool.getConnection();
      if (!(await tryLock(conn, lockName))) return;
      const t0 = Date.now();
      const r = await this.clean();
      if (r?.more && !this.d.state.stopping) setTimeout(() => void this.maintain(), BACKLOG_NEXT_MS).unref();
      await pruneHeartbeats(this.d.query, this.d.tables, Date.now());
      await pruneMinuteStats(this.d.query, this.d.tables, Date.now());
      // Said at info when it changed rows (an operator sees the cleanup keep up, and resets or failures happen).
      const did = r
        ? { deleted: r.deleted, reset: r.reset, failed: r.failed, more: r.more, restedMs: r.rested_ms }
        : {};
      const level = r && r.deleted + r.reset + r.failed > 0 ? 'info' : 'debug';
      this.d.log[level]({ ...did, ms: Date.now() - t0 }, 'maintenance pass done');
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'maintenance failed');
    } finally {
      if (conn) {
        await unlock(conn, lockName).catch(() => undefined);
        conn.release();
      }
    }
  }

  /**
   * PHP's pass on a worker started for it (or the last pass's, kept on a backlog): what it did (undefined when the
   * sidecar stopped before it began).
   */
  private async clean(): Promise<ReplyOf<'cleaned'> | undefined> {
    // Stopped while the pass waited for its connection or lock: no worker is booted only to be stopped.
    if (this.d.state.stopping) return undefined;
    if (this.kept && Date.now() - this.kept.since >= KEEP_WORKER_MS) await this.release();
    let keep = false;
    try {
      if (!this.kept) {
        this.kept = { worker: await startOrStop(this.d.makeExecutor()), since: Date.now() };
      }
      const worker = this.kept.worker;
      if (this.d.state.stopping) return undefined;
      this.d.log.debug({ worker: worker.label, pid: worker.pid }, 'maintenance pass started');
      const r = await worker.clean();
      keep = r?.more === true && !this.d.state.stopping;
      return r;
    } finally {
      // Kept only for a next pass that comes at once; a worker that failed or died is never reused.
      if (!keep) await this.release();
    }
  }

  /** Stops the kept worker, if any. */
  private async release(): Promise<void> {
    const kept = this.kept;
    this.kept = undefined;
    await kept?.worker.stop().catch(() => undefined);
  }
}
