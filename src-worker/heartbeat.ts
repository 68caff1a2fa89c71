// The sidecar's heartbeat row and the per-minute statistics: recorded as actions finish, written every heartbeat.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ClaimedAction } from './claim/claimer';
import type { Pool, Tables } from './db/database';
import { groupSlugs } from './db/groups';
import { upsertHeartbeat } from './db/heartbeats';
import { addMinuteStats } from './db/minute-stats';
import { mysqlUtc } from './db/site-time';
import type { TimedQuery } from './db/timed';
import type { RunResult } from './execute/executor';
import { Metrics, MinuteStats } from './metrics';
import type { SiteState } from './lanes/lane';

export const VERSION = '0.1.0';

export interface HeartbeatDeps {
  pool: Pool;
  tables: Tables;
  query: TimedQuery;
  log: Logger;
  metrics: Metrics;
  state: SiteState;
  sidecarId: string;
  startedAt: number;
  channel: string;
}

export class Heartbeat {
  private stats = new MinuteStats();
  private groupSlugs = new Map<number, string>();
  /** In-flight guard: a slow heartbeat is never stacked by the next tick. */
  private beating?: Promise<void>;
  /** When the heartbeat row was last written. */
  lastBeatAt = 0;
  executedTotal = 0;

  constructor(private d: HeartbeatDeps) {}

  /** The actions running now, lane by lane (the heartbeat row's `running`, /healthz). */
  get running() {
    return this.d.state.lanes.filter((l) => l.current).map((l) => ({ ...l.current!, lane: l.index }));
  }

  /** Counts an action's outcome in the metrics and this minute's statistics. */
  record(action: ClaimedAction | undefined, result: RunResult) {
    if (!action) return;
    const groupId = action.groupId;
    // Due → started: the action started `ms` before it reported.
    const waitMs = Math.max(0, Date.now() - result.ms - Date.parse(action.scheduledGmt.replace(' ', 'T') + 'Z'));
    const ok =
      result.status === 'complete' ||
      result.status === 'ignored' ||
      result.status === 'invalid' ||
      result.status === 'lost';
    this.d.metrics.executed.inc({ status: result.status });
    this.d.metrics.runSeconds.observe(result.ms / 1000);
    this.d.metrics.waitSeconds.observe(waitMs / 1000);
    this.executedTotal++;
    const minute = mysqlUtc(Date.now()).slice(0, 16) + ':00';
    this.stats.record(minute, this.groupSlugs.get(groupId) ?? String(groupId), ok, waitMs, result.ms);
    if (!this.groupSlugs.has(groupId)) void this.loadGroups();
  }

  private async loadGroups() {
    try {
      for (const [id, slug] of await groupSlugs(this.d.pool, this.d.tables)) this.groupSlugs.set(id, slug);
    } catch {
      /* the stats then carry the numeric id for a minute */
    }
  }

  /** The heartbeat row and the minute statistics; a tick that finds the previous one still running skips (no stacking). */
  beat(): Promise<void> {
    if (!this.beating) {
      this.beating = this.write().finally(() => {
        this.beating = undefined;
      });
    }
    return this.beating;
  }

  private async write(): Promise<void> {
    try {
      await upsertHeartbeat(
        this.d.query,
        this.d.tables,
        {
          sidecarId: this.d.sidecarId,
          host: hostname(),
          pid: process.pid,
          version: VERSION,
          channel: this.d.channel,
          lanes: this.d.state.lanes.length,
          startedAt: this.d.startedAt,
          running: this.running,
        },
        Date.now(),
      );
      this.lastBeatAt = Date.now();
      for (const s of this.stats.drain()) {
        const slug = /^\d+$/.test(s.group) ? (this.groupSlugs.get(Number(s.group)) ?? '') : s.group;
        await addMinuteStats(this.d.query, this.d.tables, { ...s, slug });
      }
      this.d.state.dbHealthy = true;
    } catch (e) {
      this.d.metrics.dbErrors.inc();
      this.d.state.dbHealthy = false;
      this.d.log.warn({ err: (e as Error).message }, 'heartbeat failed');
    }
  }
}
