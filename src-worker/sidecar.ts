// One site's sidecar: its lanes (lanes/), the heartbeat and statistics (heartbeat.ts) and the maintenance pass
// (maintenance.ts), put together, started, health-checked and stopped here.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { SidecarConfig } from './config/config';
import type { Claimer } from './claim/claimer';
import { ClaimSizer } from './claim/claim-size';
import type { Pool, Tables } from './db/database';
import { deleteHeartbeat } from './db/heartbeats';
import { timedQuery } from './db/timed';
import type { Executor, PhpSettings } from './execute/executor';
import { Heartbeat } from './heartbeat';
import { BatchRunner } from './lanes/batch-runner';
import { ClaimReleases } from './lanes/claim-releases';
import { CrashRecovery } from './lanes/crash-recovery';
import { dbErrorHandler } from './lanes/db-error';
import type { LanePlan, SiteState } from './lanes/lane';
import { LaneLoop } from './lanes/lane-loop';
import { WorkerKeeper } from './lanes/worker-keeper';
import { Maintenance } from './maintenance';
import type { Metrics } from './metrics';
import { sleep } from './retry';
import { NudgeGate, Wake } from './wake';
import type { HealthSource } from './sidecar-set';

export { VERSION } from './heartbeat';
export { MAX_START_WINDOW } from './lanes/batch-runner';
export type { LanePlan } from './lanes/lane';

/** setTimeout holds at most 2^31-1 ms (about 24.8 days): the longest per-action limit, used for "no limit". */
const MAX_TIMER_SECONDS = 2_000_000;

export interface SidecarDeps {
  config: SidecarConfig;
  pool: Pool;
  tables: Tables;
  claimer: Claimer;
  /** Extra lanes dedicated to some groups (their claimers filter by group); the general lanes use `claimer`. */
  dedicated?: LanePlan[];
  log: Logger;
  metrics: Metrics;
  /** A lane's worker (by lane index), or the maintenance pass's own. */
  makeExecutor: (slot: number | 'maintenance') => Executor;
  channel: string;
  /** The site's table prefix: names this sidecar among the sites one process serves. */
  siteKey?: string;
  /** MariaDB: statements get a server-side limit too (SET STATEMENT max_statement_time), which leaves the connection usable. */
  mariadb?: boolean;
}

export class Sidecar implements HealthSource {
  private state: SiteState = { lanes: [], stopping: false, dbHealthy: true, lastClaimAt: 0 };
  private wake = new Wake();
  private timers: NodeJS.Timeout[] = [];
  private settings?: PhpSettings;
  /** Nudges wake one idle lane at a time, coalesced (see NudgeGate). */
  private nudges = new NudgeGate(() => {
    this.wake.notifyOne('nudge');
  });
  private heartbeats: Heartbeat;
  private maintenance: Maintenance;
  private loop: LaneLoop;
  private releases: ClaimReleases;
  /** Names this sidecar's row in the heartbeat table: host, pid, start time and site. */
  readonly sidecarId: string;
  readonly startedAt = Date.now();
  readonly siteKey: string;

  constructor(private d: SidecarDeps) {
    this.siteKey = d.siteKey ?? d.tables.actions.replace(/actionscheduler_actions$/, '');
    this.sidecarId = `${hostname()}:${process.pid}:${this.startedAt}@${this.siteKey}`;
    const { state } = this;
    const query = timedQuery(d.pool, !!d.mariadb);
    this.heartbeats = new Heartbeat({
      pool: d.pool,
      tables: d.tables,
      query,
      log: d.log,
      metrics: d.metrics,
      state,
      sidecarId: this.sidecarId,
      startedAt: this.startedAt,
      channel: d.channel,
    });
    this.maintenance = new Maintenance({
      pool: d.pool,
      tables: d.tables,
      query,
      log: d.log,
      state,
      database: d.config.db.database,
      siteKey: this.siteKey,
      makeExecutor: () => d.makeExecutor('maintenance'),
    });
    const onDbError = dbErrorHandler(state, d.metrics, d.log);
    const releases = (this.releases = new ClaimReleases(d.claimer, d.log, onDbError));
    const keeper = new WorkerKeeper(state, d.makeExecutor, d.log, d.metrics, (ms) => this.wake.wait(ms));
    const recovery = new CrashRecovery(
      keeper,
      d.log,
      () => this.actionTimeoutSec(),
      (lane, claimId) => releases.release(lane, claimId),
    );
    const batches = new BatchRunner({
      config: d.config,
      log: d.log,
      metrics: d.metrics,
      state,
      keeper,
      recovery,
      releases,
      record: (a, r) => this.heartbeats.record(a, r),
    });
    this.loop = new LaneLoop({
      config: d.config,
      metrics: d.metrics,
      state,
      wake: this.wake,
      nudges: this.nudges,
      keeper,
      recovery,
      batches,
      releases,
      onDbError,
      failurePeriodSec: () => this.settings?.failure_period ?? 300,
      log: d.log,
    });
  }

  get running() {
    return this.heartbeats.running;
  }
  get laneCount() {
    return this.state.lanes.length;
  }
  get lastClaimAt() {
    return this.state.lastClaimAt;
  }
  get lastHeartbeatAt() {
    return this.heartbeats.lastBeatAt;
  }
  get executedTotal() {
    return this.heartbeats.executedTotal;
  }

  /**
   * Why this site is not healthy, if it is not: the heartbeat row not written for three intervals (a stalled or
   * unreachable database), an idle lane whose last successful claim is older than it may be (it claims at least once
   * per poll interval while idle; a busy lane is running an action and is not judged), a lane with no worker, or
   * the last database statement of the loop failed.
   */
  healthProblems(now = Date.now()): string[] {
    const problems: string[] = [];
    const heartbeatLimit = 3 * this.d.config.heartbeatMs;
    const lastBeat = this.heartbeats.lastBeatAt;
    const heartbeatAge = now - lastBeat;
    if (heartbeatAge > heartbeatLimit) {
      problems.push(
        lastBeat
          ? `heartbeat not written for ${heartbeatAge} ms (stale after ${heartbeatLimit} ms)`
          : 'heartbeat never written',
      );
    }
    const claimLimit = 2 * this.d.config.pollMs + 15_000;
    for (const l of this.state.lanes) {
      if (l.broken) problems.push(`lane ${l.index} has no PHP worker (retrying)`);
      else if (!l.busy && now - l.lastClaimAt > claimLimit) {
        problems.push(
          `lane ${l.index}: last successful claim ${now - l.lastClaimAt} ms ago (stale after ${claimLimit} ms)`,
        );
      }
    }
    if (!this.state.dbHealthy) problems.push('the last database statement of the loop failed');
    return problems;
  }

  /**
   * Seconds an action may run before its worker is killed: --action-timeout, else the site's own limit, which PHP
   * never sets below the library's failure period (Settings.php), so no action is killed before the library's
   * cleaner would have failed it. 0 from PHP (a failure period < 0: the library never fails a running action) means
   * no limit, capped here at what a Node timer can hold.
   */
  actionTimeoutSec(): number {
    if (this.d.config.actionTimeoutSec) return this.d.config.actionTimeoutSec;
    const limit = this.settings?.action_time_limit ?? 300;
    return limit > 0 ? Math.min(limit, MAX_TIMER_SECONDS) : MAX_TIMER_SECONDS;
  }

  /** The most actions a claim takes: --batch-size when given, else the site's action_scheduler_queue_runner_batch_size when a plugin filters it, else the default. */
  private claimMax(): number {
    const s = this.settings;
    if (!this.d.config.batchSizeExplicit && s?.batch_size_filtered && s.batch_size > 0) {
      return Math.min(5000, s.batch_size);
    }
    return this.d.config.batchSize;
  }

  async start(): Promise<void> {
    const plan: LanePlan[] = [
      { claimer: this.d.claimer, count: this.d.config.workers, label: 'general' },
      ...(this.d.dedicated ?? []),
    ];
    const lanes = plan
      .flatMap((p) => Array.from({ length: p.count }, () => p.claimer))
      .map((claimer, index) => ({ index, claimer, executor: this.d.makeExecutor(index) }));
    // Workers boot WordPress at the same time (serially, each boot added ~0.3-0.4 s to the start-up). If one cannot
    // start, the ones that did are stopped before the error goes up: nothing else would stop them.
    const started = await Promise.allSettled(lanes.map((l) => l.executor.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(lanes.filter((_, k) => started[k].status === 'fulfilled').map((l) => l.executor.stop()));
      throw failed.reason;
    }
    try {
      this.settings = await lanes[0].executor.settings();
    } catch (e) {
      await Promise.allSettled(lanes.map((l) => l.executor.stop()));
      throw e;
    }
    for (const l of lanes) {
      this.state.lanes.push({ ...l, sizer: new ClaimSizer(this.claimMax()), busy: false, lastClaimAt: Date.now() });
    }
    this.d.log.info(
      {
        settings: this.settings,
        lanes: this.state.lanes.length,
        channel: this.d.channel,
        claimMax: this.claimMax(),
        actionTimeoutSec: this.actionTimeoutSec(),
      },
      'sidecar started',
    );
    this.explainRunnerFilters();
    await this.heartbeat();
    if (!this.d.config.once) {
      this.timers.push(setInterval(() => void this.heartbeat(), this.d.config.heartbeatMs));
      this.timers.push(setInterval(() => void this.maintain(), this.d.config.maintenanceMs));
      this.timers.push(setInterval(() => this.wake.notify('poll'), this.d.config.pollMs));
    }
  }

  /** The library's runner filters that the sidecar reads differently, said once at start so nobody wonders. */
  private explainRunnerFilters() {
    const s = this.settings;
    if (!s) return;
    if (s.concurrent_batches > 1) {
      this.d.log.info(
        { concurrent_batches: s.concurrent_batches, lanes: this.state.lanes.length },
        'action_scheduler_queue_runner_concurrent_batches is not used: --workers (and --lanes) set how many actions run at once',
      );
    }
    if (this.d.config.actionTimeoutSec && s.failure_period >= 0 && this.d.config.actionTimeoutSec < s.failure_period) {
      this.d.log.warn(
        { actionTimeoutSec: this.d.config.actionTimeoutSec, failure_period: s.failure_period },
        "--action-timeout is below the site's action_scheduler_failure_period: actions may be killed before the library would fail them",
      );
    }
  }

  nudge() {
    if (!this.state.stopping) this.nudges.nudge();
  }

  /** The heartbeat row and the minute statistics (Heartbeat.beat). */
  heartbeat(): Promise<void> {
    return this.heartbeats.beat();
  }

  /** One maintenance pass at a time (Maintenance.maintain). */
  maintain(): Promise<void> {
    return this.maintenance.maintain();
  }

  /** A --once lane gave up on writing what a dead worker's claim needed (LaneLoop.onceGivesUp()). */
  get recoveryAbandoned(): boolean {
    return !!this.state.recoveryAbandoned;
  }

  /** Runs every lane until stop() (or, with --once, until nothing is due). */
  async run(): Promise<void> {
    // --once runs the maintenance pass first, as the library's runners clean before their batch: a cron-driven site
    // would otherwise never reset stale claims, fail stuck actions or delete old rows; the reset claims then run now.
    if (this.d.config.once) await this.maintain();
    else void this.maintain();
    await Promise.all(this.state.lanes.map((lane) => this.loop.run(lane)));
  }

  /** Stop claiming, let running actions finish (bounded by the deadline), release what never started, say goodbye. */
  async stop(deadlineMs: number): Promise<boolean> {
    const { lanes } = this.state;
    this.state.stopping = true;
    for (const l of lanes) l.executor.requestStop();
    for (const t of this.timers) clearInterval(t);
    this.nudges.stop();
    this.wake.notify('stop');
    const until = Date.now() + deadlineMs;
    const maintenance = this.maintenance.stop(until);
    while (lanes.some((l) => l.busy) && Date.now() < until) await sleep(50);
    const clean = !lanes.some((l) => l.busy);
    await maintenance;
    await this.releases.retry().catch(() => undefined);
    await this.heartbeat();
    await Promise.all(lanes.map((l) => l.executor.stop().catch(() => undefined)));
    await deleteHeartbeat(this.d.pool, this.d.tables, this.sidecarId).catch(() => undefined);
    return clean;
  }
}
