// Maintenance scheduling: cleanup, stale-claim reset and in-progress timeouts (PHP's pass, on one lane's worker),
// then pruning of the sidecar's own tables, by one sidecar of a site at a time.
import type { Logger } from 'pino';
import type { Pool, Tables } from './db/database';
import { pruneHeartbeats } from './db/heartbeats';
import { tryLock, unlock } from './db/maintenance-lock';
import { pruneMinuteStats } from './db/minute-stats';
import type { TimedQuery } from './db/timed';
import type { SiteState } from './lanes/lane';

export interface MaintenanceDeps {
  pool: Pool;
  tables: Tables;
  query: TimedQuery;
  log: Logger;
  state: SiteState;
  database: string;
  siteKey: string;
}

export class Maintenance {
  /** In-flight guard: a tick that finds the previous pass still running (a slow database) skips. */
  private running?: Promise<void>;

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
   * Run by one sidecar at a time: MySQL's GET_LOCK is held on one connection for the whole pass, and released (or
   * dropped with the connection) afterwards. The pass runs on an idle lane's worker when there is one; the lane runs
   * no stream until it is over (Lane.maintenance).
   */
  private async pass(): Promise<void> {
    const lockName = `${this.d.database}.${this.d.siteKey}sidecar_maintenance`.slice(0, 64);
    const lanes = this.d.state.lanes;
    let conn;
    try {
      conn = await this.d.pool.getConnection();
      if (!(await tryLock(conn, lockName))) return;
      const lane =
        lanes.find((l) => !l.busy && !l.maintenance && !l.broken) ?? lanes.find((l) => !l.maintenance) ?? lanes[0];
      let more = false;
      const pass = (async () => {
        more = (await lane.executor.clean()) === true;
      })();
      lane.maintenance = pass
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          lane.maintenance = undefined;
        });
      await pass;
      // The pass stopped at its time budget with work left (a backlog of expired rows): the next one comes soon.
      if (more && !this.d.state.stopping) setTimeout(() => void this.maintain(), 2000).unref();
      await pruneHeartbeats(this.d.query, this.d.tables, Date.now());
      await pruneMinuteStats(this.d.query, this.d.tables, Date.now());
      this.d.log.debug('maintenance pass done');
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'maintenance failed');
    } finally {
      if (conn) {
        await unlock(conn, lockName).catch(() => undefined);
        conn.release();
      }
    }
  }
}
