// The loop: N lanes, each claims a batch, runs it action by action on its executor, releases the claim, and sleeps
// until a nudge, the next due time or the poll interval. Plus heartbeat, statistics and one-at-a-time maintenance.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RowDataPacket } from 'mysql2/promise';
import type { SidecarConfig } from './config/config';
import { Claimer, Claim, ClaimedAction } from './claim/claimer';
import { ClaimSizer } from './claim/claim-size';
import type { Pool, Tables } from './db/database';
import { isConnectionError } from './db/database';
import { mysqlUtc } from './db/site-time';
import type { Executor, FailRequest, PhpSettings, RunResult, SettleRequest, StreamEnd, StreamLimits } from './execute/executor';
import { ProcessExecutor } from './execute/process-executor';
import { Metrics, MinuteStats } from './metrics';
import { NudgeGate, Wake, WakeReason } from './wake';
import type { HealthSource } from './sidecar-set';

export const VERSION = '0.1.0';
/** The most starts a worker commits at once (StartWindow.php): bounds what a crash of sidecar and worker together leaves marked. */
export const MAX_START_WINDOW = 25;
/** setTimeout holds at most 2^31-1 ms (about 24.8 days): the longest per-action limit, used for "no limit". */
const MAX_TIMER_SECONDS = 2_000_000;
/** Repairs a --once lane tries before it gives up (about a minute of backoff). */
const ONCE_REPAIRS = 6;

/** `lastClaimAt`: when its last claim (empty or not) succeeded; `broken`: its worker could not be replaced, it claims nothing until one starts. */
/**
 * `recovery`: what a dead worker's claim still needs (fail the action that was running, settle the outcomes it reported)
 * when no fresh worker could be started to do it. The claim is kept until then: both writes change only rows in
 * progress under that claim, so releasing it first would leave completed actions in progress with no claim, for the
 * cleaner to fail after the failure period.
 */
interface Recovery { claimId: number; fail?: FailRequest; settle?: SettleRequest }
interface Lane { index: number; executor: Executor; claimer: Claimer; sizer: ClaimSizer; current?: { id: number; hook: string; since: number }; busy: boolean; lastClaimAt: number; broken?: boolean; repairs?: number; maintenance?: Promise<void>; unavailable?: number; recovery?: Recovery }
// `maintenance`: a maintenance pass running on the lane's worker (no stream is sent until it is over, so the pass never
// counts against an action's time limit); `unavailable`: consecutive claims the channel could not start (rest: HTTP or
// network errors), for the lane's backoff.

/** How many lanes claim with which claimer (the general one, or one per dedicated group lane). */
export interface LanePlan { claimer: Claimer; count: number; label: string }

export interface SidecarDeps {
  config: SidecarConfig;
  pool: Pool;
  tables: Tables;
  claimer: Claimer;
  /** Extra lanes dedicated to some groups (their claimers filter by group); the general lanes use `claimer`. */
  dedicated?: LanePlan[];
  log: Logger;
  metrics: Metrics;
  makeExecutor: (index: number) => Executor;
  channel: string;
  /** The site's table prefix: names this sidecar among the sites one process serves. */
  siteKey?: string;
  /** MariaDB: statements get a server-side limit too (SET STATEMENT max_statement_time), which leaves the connection usable. */
  mariadb?: boolean;
}

/** Seconds a periodic statement may take before it is abandoned (the next tick tries again). */
const STATEMENT_SECONDS = { heartbeat: 5, stats: 10, maintenance: 30 };

export class Sidecar implements HealthSource {
  private lanes: Lane[] = [];
  private stopping = false;
  private wake = new Wake();
  private stats = new MinuteStats();
  private timers: NodeJS.Timeout[] = [];
  private groupSlugs = new Map<number, string>();
  /** Claims whose release failed (database down): retried before new claims, so they do not wait for the stale reset. */
  private unreleased = new Set<number>();
  private settings?: PhpSettings;
  /** Nudges wake one idle lane at a time, coalesced (see NudgeGate). */
  private nudges = new NudgeGate(() => { this.wake.notifyOne('nudge'); });
  /** In-flight guards: a slow heartbeat or maintenance pass is never stacked by the next tick. */
  private heartbeating?: Promise<void>;
  private maintaining?: Promise<void>;
  /** When the heartbeat row was last written. */
  lastHeartbeatAt = 0;
  readonly workerId: string;
  readonly startedAt = Date.now();
  lastClaimAt = 0;
  dbHealthy = true;
  executedTotal = 0;

  readonly siteKey: string;

  constructor(private d: SidecarDeps) {
    this.siteKey = d.siteKey ?? d.tables.actions.replace(/actionscheduler_actions$/, '');
    this.workerId = `${hostname()}:${process.pid}:${this.startedAt}@${this.siteKey}`;
  }

  get running() { return this.lanes.filter((l) => l.current).map((l) => ({ ...l.current!, lane: l.index })); }
  get laneCount() { return this.lanes.length; }

  /**
   * Why this site is not healthy, if it is not: the heartbeat row not written for three intervals (a stalled or
   * unreachable database), an idle lane whose last successful claim is older than it may be (it claims at least once
   * per poll interval while idle; a busy lane is running an action and is not judged), a lane with no worker, or
   * the last database statement of the loop failed.
   */
  healthProblems(now = Date.now()): string[] {
    const problems: string[] = [];
    const heartbeatLimit = 3 * this.d.config.heartbeatMs;
    const heartbeatAge = now - this.lastHeartbeatAt;
    if (heartbeatAge > heartbeatLimit) problems.push(this.lastHeartbeatAt ? `heartbeat not written for ${heartbeatAge} ms (stale after ${heartbeatLimit} ms)` : 'heartbeat never written');
    const claimLimit = 2 * this.d.config.pollMs + 15_000;
    for (const l of this.lanes) {
      if (l.broken) problems.push(`lane ${l.index} has no PHP worker (retrying)`);
      else if (!l.busy && now - l.lastClaimAt > claimLimit) problems.push(`lane ${l.index}: last successful claim ${now - l.lastClaimAt} ms ago (stale after ${claimLimit} ms)`);
    }
    if (!this.dbHealthy) problems.push('the last database statement of the loop failed');
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
    if (!this.d.config.batchSizeExplicit && s?.batch_size_filtered && s.batch_size > 0) return Math.min(5000, s.batch_size);
    return this.d.config.batchSize;
  }

  async start(): Promise<void> {
    const plan: LanePlan[] = [{ claimer: this.d.claimer, count: this.d.config.workers, label: 'general' }, ...(this.d.dedicated ?? [])];
    const lanes = plan.flatMap((p) => Array.from({ length: p.count }, () => p.claimer)).map((claimer, index) => ({ index, claimer, executor: this.d.makeExecutor(index) }));
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
    for (const l of lanes) this.lanes.push({ ...l, sizer: new ClaimSizer(this.claimMax()), busy: false, lastClaimAt: Date.now() });
    this.d.log.info({ settings: this.settings, lanes: this.lanes.length, channel: this.d.channel, claimMax: this.claimMax(), actionTimeoutSec: this.actionTimeoutSec() }, 'sidecar started');
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
    if (s.concurrent_batches > 1) this.d.log.info({ concurrent_batches: s.concurrent_batches, lanes: this.lanes.length }, 'action_scheduler_queue_runner_concurrent_batches is not used: --workers (and --lanes) set how many actions run at once');
    if (this.d.config.actionTimeoutSec && s.failure_period >= 0 && this.d.config.actionTimeoutSec < s.failure_period) {
      this.d.log.warn({ actionTimeoutSec: this.d.config.actionTimeoutSec, failure_period: s.failure_period }, '--action-timeout is below the site\'s action_scheduler_failure_period: actions may be killed before the library would fail them');
    }
  }

  nudge() { if (!this.stopping) this.nudges.nudge(); }

  /** Runs every lane until stop() (or, with --once, until nothing is due). */
  async run(): Promise<void> {
    // --once runs the maintenance pass first, as the library's runners clean before their batch: a cron-driven site
    // would otherwise never reset stale claims, fail stuck actions or delete old rows; the reset claims then run now.
    if (this.d.config.once) await this.maintain();
    else void this.maintain();
    await Promise.all(this.lanes.map((lane) => this.laneLoop(lane)));
  }

  private async laneLoop(lane: Lane): Promise<void> {
    // The previous batch's flush (PHP commits and drops its caches) and release, left to finish while the next
    // claim runs: they touch neither the rows the claim looks for nor the worker's pipe until the next stream.
    let finishing: Promise<void> | undefined;
    let woke: WakeReason = 'poll';
    try {
      while (!this.stopping) {
        if (lane.broken) {
          if (finishing) { const f = finishing; finishing = undefined; await f; }
          // --once gives up on a lane whose worker stays unstartable (its claim was released); a daemon keeps trying.
          if (!(await this.repair(lane)) && this.d.config.once && (lane.repairs ?? 0) > ONCE_REPAIRS) return;
          continue;
        }
        let claim: Claim | null = null;
        let size = 0;
        try {
          await this.retryReleases();
          const t0 = process.hrtime.bigint();
          size = lane.sizer.next();
          claim = await lane.claimer.claim(size);
          this.d.metrics.claimSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
          this.lastClaimAt = lane.lastClaimAt = Date.now();
          this.dbHealthy = true;
        } catch (e) {
          await this.onDbError(e, 'claim');
          continue;
        }
        // A nudge's claim tells the gate whether nudges are finding work; a full claim suggests more is due, so one
        // more idle lane is woken (a nudge wakes one lane, not all: the others would claim nothing).
        if (woke === 'nudge') this.nudges.found(!!claim);
        if (claim && claim.actions.length >= size) this.wake.notifyOne('more');
        woke = 'poll';
        if (finishing) { const f = finishing; finishing = undefined; await f; }
        if (!claim) {
          if (this.d.config.once) {
            // --once ends a lane only when nothing it may claim is due, not when another claimer held the rows a moment.
            try { if (await lane.claimer.hasDue()) { await new Promise((r) => setTimeout(r, 10)); continue; } } catch (e) { await this.onDbError(e, 'has-due'); continue; }
            return;
          }
          woke = await this.idle(lane);
          continue;
        }
        finishing = (await this.runClaim(lane, claim)).finished;
        if (lane.unavailable) {
          // The channel could not start an action (the route is down, or answered 502/504): its claim goes back first,
          // then the lane waits, doubling up to 5 s, so an outage costs a few requests instead of thousands.
          const f = finishing; finishing = undefined; await f;
          await this.pause(Math.min(5000, 100 * 2 ** Math.min(lane.unavailable - 1, 6)));
        }
      }
    } finally {
      if (finishing) await finishing;
      // Stopping (or --once giving up) with a dead worker's outcomes still unwritten: its claim goes back, so its
      // pending actions run elsewhere; what stays in progress is failed by the cleaner after the failure period.
      if (lane.recovery) {
        const { claimId } = lane.recovery;
        lane.recovery = undefined;
        await this.release(lane, claimId);
      }
    }
  }

  /** Releases a claim; one that cannot be released now (the database is away) is retried before the next claim. */
  private async release(lane: Lane, claimId: number) {
    try { await lane.claimer.release(claimId); } catch (e) { this.unreleased.add(claimId); await this.onDbError(e, 'release'); }
  }

  private async retryReleases() {
    for (const claimId of [...this.unreleased]) {
      await this.d.claimer.release(claimId);
      this.unreleased.delete(claimId);
      this.d.log.info({ claim: claimId }, 'released a claim left over from a database outage');
    }
  }

  /** Sleeps, but wakes early on stop(). */
  private async pause(ms: number) {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }

  private async idle(lane: Lane): Promise<WakeReason> {
    let wait = this.d.config.pollMs;
    try {
      const next = await lane.claimer.msUntilNextDue();
      // Scheduled actions start when due: sleep only until then (plus a little, as dates have 1 s resolution).
      if (next !== null) wait = Math.min(wait, next + 5);
    } catch (e) { await this.onDbError(e, 'next-due'); return 'timeout'; }
    // stop() may have come while the query ran: its wake-up is gone, and the wait would last a whole poll interval.
    if (this.stopping) return 'stop';
    return this.wake.wait(Math.max(1, wait));
  }

  private async onDbError(e: unknown, where: string) {
    this.d.metrics.dbErrors.inc();
    this.dbHealthy = false;
    this.d.log.error({ err: (e as Error).message, code: (e as { code?: string }).code, where }, isConnectionError(e) ? 'database unavailable; retrying' : 'database error; retrying');
    await new Promise((r) => setTimeout(r, 1000));
  }

  /**
   * Runs a claimed batch. Resolves when no further action of it will start; `finished` settles once the worker has
   * flushed and the claim is released (the lane stays busy until then).
   */
  private async runClaim(lane: Lane, claim: Claim): Promise<{ finished: Promise<void> }> {
    lane.busy = true;
    const byId = new Map(claim.actions.map((a) => [a.id, a]));
    const setCurrent = (id: number | undefined) => {
      const a = id === undefined ? undefined : byId.get(id);
      lane.current = a ? { id: a.id, hook: a.hook, since: Date.now() } : undefined;
    };
    let remaining = claim.actions.map((a) => a.id);
    try {
      // On SIGTERM nothing new starts; the release below returns the rest of the batch to the queue untouched.
      // A lane left without a worker (broken) stops here: the release below returns the rest of the claim to the queue.
      while (remaining.length && !this.stopping && !lane.broken) {
        const ex = lane.executor;
        // The hooks let a long-lived worker hand back an action it has no callback for (Freshness.php).
        const limits = { ...this.limits(ex, lane), hooks: remaining.map((id) => byId.get(id)?.hook ?? '') };
        if (limits.max <= 0) {
          await this.retire(lane, 'max-jobs');
          continue;
        }
        // A maintenance pass queued on this worker first: wait for it, or it would run on the first action's clock.
        while (lane.maintenance) await lane.maintenance;
        setCurrent(remaining[0]);
        this.d.metrics.running.inc();
        // The worker holds completions back to commit them with later starts (CommitPipeline.php, StartWindow.php):
        // if it dies, recover() writes what it reported here and may not have committed.
        const reported: RunResult[] = [];
        let end: StreamEnd;
        try {
          end = await ex.runStream(remaining, claim.claimId, claim.claimedAt, limits, (r) => {
            this.record(byId.get(r.id), r);
            lane.sizer.observe(r.ms);
            reported.push(r);
            setCurrent(remaining[remaining.indexOf(r.id) + 1]);
          });
        } finally {
          this.d.metrics.running.dec();
          lane.current = undefined;
        }
        remaining = end.notStarted;
        if (end.reason === 'unavailable') {
          // Nothing of it ran: the rest of the claim is released untouched (back to pending) and the lane backs off.
          // Consecutive failures count up; one after actions that ran is a first failure again (a lone 502).
          lane.unavailable = reported.length ? 1 : (lane.unavailable ?? 0) + 1;
          this.d.log.warn({ lane: lane.index, notStarted: remaining.length, attempt: lane.unavailable }, 'the channel could not start an action; releasing the claim and backing off');
          break;
        }
        lane.unavailable = 0;
        if (end.reason === 'timeout' || end.reason === 'crashed') {
          await this.recover(lane, claim.claimId, end, reported);
          if (end.failed && end.failed.status !== 'unstarted') {
            this.record(byId.get(end.failed.id), end.failed);
            lane.sizer.observe(end.failed.ms);
          }
        } else if (end.reason === 'limit' || end.reason === 'memory') {
          await this.retire(lane, end.reason === 'limit' ? 'max-jobs' : 'memory');
        } else if (end.reason === 'stale' || end.reason === 'handback') {
          // Nothing more of the stream started on the old worker; the rest (the handed-back action first) runs on a
          // worker booted now, which sees the code WordPress would load now.
          this.d.log.info({ lane: lane.index, why: end.why, notStarted: remaining.length }, end.reason === 'stale'
            ? 'what WordPress loads changed; replacing worker before it runs anything more'
            : "no callback for the action's hook in this long-lived worker; handing it to a fresh worker");
          await this.retire(lane, end.reason === 'stale' ? 'code-changed' : 'handback');
        } else if (end.reason === 'stopped') {
          break;
        }
      }
    } catch (e) {
      await this.finishClaim(lane, claim);
      throw e;
    }
    const finished = this.finishClaim(lane, claim);
    finished.catch(() => undefined); // the lane awaits it after its next claim; this only marks it handled meanwhile
    return { finished };
  }

  private async finishClaim(lane: Lane, claim: Claim): Promise<void> {
    try {
      if (!lane.broken) await lane.executor.flush().catch(async (e) => { this.d.log.warn({ err: (e as Error).message }, 'flush failed; replacing worker'); await this.replace(lane, 'flush-failed'); });
      if (lane.executor instanceof ProcessExecutor && lane.executor.codeChanged) {
        this.d.log.info({ lane: lane.index }, 'what WordPress loads changed; replacing worker (PHP code changed on disk)');
        await this.replace(lane, 'code-changed');
      }
    } finally {
      // A claim whose dead worker's outcomes are not written yet stays claimed (see Recovery), unless we are stopping.
      if (lane.recovery?.claimId !== claim.claimId || this.stopping) {
        await this.release(lane, claim.claimId);
      }
      lane.busy = false;
    }
  }

  /** A worker due for replacement: commit what it holds (flush), then start a fresh one. */
  private async retire(lane: Lane, reason: 'max-jobs' | 'memory' | 'code-changed' | 'handback') {
    await lane.executor.flush().catch(() => undefined);
    await this.replace(lane, reason);
  }

  /** When this lane's worker must stop taking actions: after --max-jobs-per-worker, or above --max-worker-memory-mb. */
  private limits(ex: Executor, lane: Lane): StreamLimits {
    const jobs = ex instanceof ProcessExecutor ? ex.jobs : 0;
    return {
      max: this.d.config.maxJobsPerWorker - jobs,
      maxMemBytes: this.d.config.maxWorkerMemoryMb * 1024 * 1024,
      window: lane.sizer.window(this.d.config.startWindowMs, MAX_START_WINDOW),
    };
  }

  /**
   * The worker was killed (time limit) or died (fatal, OOM, kill -9). On a fresh worker: fail the action that was
   * running (PHP's own shutdown handler may already have; the request only changes a row still pending or in
   * progress), then settle the stream: write the outcomes the dead worker reported but may not have committed, and
   * undo the start marks of the actions it never ran, so they run once on the fresh worker instead of being left in
   * progress. Both only change rows still in progress under this claim, so nothing committed is written twice.
   */
  private async recover(lane: Lane, claimId: number, end: StreamEnd, reported: RunResult[]) {
    const result = end.failed ?? { id: 0, status: end.reason as RunResult['status'], ms: 0, error: 'the worker died after its last action' };
    const id = end.failed?.id;
    this.d.log.warn({ action: id, status: result.status, error: result.error }, id === undefined ? 'worker died between actions; replacing it' : 'action did not finish; replacing worker');
    await this.replace(lane, result.status);
    const recovery: Recovery = { claimId };
    // 'unstarted': the worker died before the running action's start was committed; it never ran, so it is not failed.
    if (id !== undefined && result.status !== 'unstarted') {
      let fatal: { message: string; file: string; line: number } | undefined;
      if (result.status === 'crashed' && result.error?.startsWith('{')) { try { fatal = JSON.parse(result.error); } catch { /* plain text */ } }
      recovery.fail = fatal
        // Only a row in progress under this claim is failed: an action that never started is left pending.
        ? { id, claim: claimId, reason: 'crash' as const, error: fatal }
        : { id, claim: claimId, reason: 'timeout' as const, seconds: result.status === 'timeout' ? this.actionTimeoutSec() : Math.max(1, Math.round(result.ms / 1000)) };
      result.status = 'failed';
    }
    const finalise = reported.filter((r) => r.status === 'complete' || r.status === 'failed');
    const unstart = end.marks ? end.marks.ids.filter((x) => end.notStarted.includes(x) || (x === id && end.failed?.status === 'unstarted')) : [];
    if (lane.executor.settle && (finalise.length || unstart.length)) {
      recovery.settle = { claim: claimId, finalise, unstart: unstart.length && end.marks ? { ...end.marks, ids: unstart } : undefined };
    }
    if (!recovery.fail && !recovery.settle) return;
    if (lane.broken) {
      // No worker to write them now: keep the claim (finishClaim() leaves it) and write them once repair() gets one.
      lane.recovery = recovery;
      this.d.log.warn({ lane: lane.index, claim: claimId, action: id }, 'no worker to record what the dead worker ran; keeping its claim until one starts');
      return;
    }
    await this.applyRecovery(lane, recovery);
  }

  /** Fails the action that was running and settles the reported outcomes, each changing only rows in progress under the claim. */
  private async applyRecovery(lane: Lane, recovery: Recovery) {
    if (recovery.fail) {
      try { await lane.executor.fail(recovery.fail); } catch (e) { this.d.log.error({ action: recovery.fail.id, err: (e as Error).message }, 'could not mark the action failed; the stale-claim cleaner will'); }
    }
    if (recovery.settle && lane.executor.settle) {
      try {
        await lane.executor.settle(recovery.settle);
      } catch (e) {
        this.d.log.error({ err: (e as Error).message, finalise: recovery.settle.finalise.length, unstart: recovery.settle.unstart?.ids.length ?? 0 }, 'could not settle after a worker died; the cleaner fails what stays in progress after the failure period');
      }
    }
  }

  /** A broken lane has a worker again: write what its dead worker's claim still needed, then release that claim. */
  private async finishRecovery(lane: Lane) {
    const recovery = lane.recovery;
    if (!recovery) return;
    lane.recovery = undefined;
    await this.applyRecovery(lane, recovery);
    await this.release(lane, recovery.claimId);
    this.d.log.info({ lane: lane.index, claim: recovery.claimId }, 'recorded what the dead worker ran and released its claim');
  }

  /**
   * A fresh worker for the lane: a few quick attempts, then the lane is marked broken instead of throwing (which took
   * the whole process down, every other lane and site with it). A broken lane claims nothing; its current claim is
   * released as usual, and repair() keeps trying with backoff (a database or deploy that comes back heals it).
   */
  private async replace(lane: Lane, reason: string) {
    this.d.metrics.workerRestarts.inc({ reason });
    await lane.executor.stop().catch(() => undefined);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        lane.executor = this.d.makeExecutor(lane.index);
        await lane.executor.start();
        lane.broken = false;
        lane.repairs = 0;
        return;
      } catch (e) {
        this.d.log.error({ err: (e as Error).message, attempt, lane: lane.index }, 'could not start a PHP worker');
        if (this.stopping) break;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    lane.broken = true;
    this.d.log.error({ lane: lane.index }, 'lane has no worker; it claims nothing until one starts (retrying with backoff)');
  }

  /** One more try at a broken lane's worker, after a backoff that grows to 30 s; true when it works again. */
  private async repair(lane: Lane): Promise<boolean> {
    lane.repairs = (lane.repairs ?? 0) + 1;
    if (this.stopping) return false;
    await this.wake.wait(Math.min(30_000, 1000 * 2 ** Math.min(5, lane.repairs - 1)));
    if (this.stopping) return false;
    try {
      lane.executor = this.d.makeExecutor(lane.index);
      await lane.executor.start();
      lane.broken = false;
      lane.repairs = 0;
      this.d.log.info({ lane: lane.index }, 'lane has a worker again');
      await this.finishRecovery(lane);
      return true;
    } catch (e) {
      this.d.log.error({ err: (e as Error).message, lane: lane.index, repairs: lane.repairs }, 'could not start a PHP worker');
      await lane.executor.stop().catch(() => undefined);
      return false;
    }
  }

  private record(action: ClaimedAction | undefined, result: RunResult) {
    if (!action) return;
    const groupId = action.groupId;
    // Due → started: the action started `ms` before it reported.
    const waitMs = Math.max(0, Date.now() - result.ms - Date.parse(action.scheduledGmt.replace(' ', 'T') + 'Z'));
    const ok = result.status === 'complete' || result.status === 'ignored' || result.status === 'invalid' || result.status === 'lost';
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
      const [rows] = await this.d.pool.query<RowDataPacket[]>(`SELECT group_id, slug FROM ${this.d.tables.groups}`);
      for (const r of rows) this.groupSlugs.set(Number(r.group_id), String(r.slug));
    } catch { /* the stats then carry the numeric id for a minute */ }
  }

  /**
   * A statement with a time limit suited to it: MariaDB aborts it itself (the connection stays usable, and a lock
   * wait counts), and the client gives up a second later in any case (a server that stopped answering).
   */
  private timed(sql: string, values: unknown[], seconds: number) {
    const text = this.d.mariadb ? `SET STATEMENT max_statement_time=${seconds} FOR ${sql}` : sql;
    return this.d.pool.query({ sql: text, timeout: seconds * 1000 + 1000 }, values);
  }

  /** The heartbeat row and the minute statistics; a tick that finds the previous one still running skips (no stacking). */
  heartbeat(): Promise<void> {
    if (!this.heartbeating) this.heartbeating = this.beat().finally(() => { this.heartbeating = undefined; });
    return this.heartbeating;
  }

  private async beat(): Promise<void> {
    const now = mysqlUtc(Date.now());
    try {
      await this.timed(
        `INSERT INTO ${this.d.tables.workers} (worker_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE last_seen_gmt = VALUES(last_seen_gmt), running = VALUES(running), concurrency = VALUES(concurrency)`,
        [this.workerId, hostname(), process.pid, VERSION, this.d.channel, this.lanes.length, mysqlUtc(this.startedAt), now, JSON.stringify(this.running)],
        STATEMENT_SECONDS.heartbeat,
      );
      this.lastHeartbeatAt = Date.now();
      for (const s of this.stats.drain()) {
        const slug = /^\d+$/.test(s.group) ? (this.groupSlugs.get(Number(s.group)) ?? '') : s.group;
        await this.timed(
          `INSERT INTO ${this.d.tables.stats} (minute_gmt, group_slug, completed, failed, wait_ms_sum, wait_ms_p50, wait_ms_p95, run_ms_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE completed = completed + VALUES(completed), failed = failed + VALUES(failed), wait_ms_sum = wait_ms_sum + VALUES(wait_ms_sum),
             wait_ms_p50 = GREATEST(wait_ms_p50, VALUES(wait_ms_p50)), wait_ms_p95 = GREATEST(wait_ms_p95, VALUES(wait_ms_p95)), run_ms_sum = run_ms_sum + VALUES(run_ms_sum)`,
          [s.minute, slug, s.completed, s.failed, s.waitSum, s.p50, s.p95, s.runMs],
          STATEMENT_SECONDS.stats,
        );
      }
      this.dbHealthy = true;
    } catch (e) {
      this.d.metrics.dbErrors.inc();
      this.dbHealthy = false;
      this.d.log.warn({ err: (e as Error).message }, 'heartbeat failed');
    }
  }

  /**
   * Cleanup, stale-claim reset and in-progress timeouts, run by one sidecar at a time: MySQL's GET_LOCK is held on
   * one connection for the whole pass, and released (or dropped with the connection) afterwards.
   */
  /** One maintenance pass at a time: a tick that finds the previous pass still running (a slow database) skips. */
  maintain(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (!this.maintaining) this.maintaining = this.maintainPass().finally(() => { this.maintaining = undefined; });
    return this.maintaining;
  }

  private async maintainPass(): Promise<void> {
    const lockName = `${this.d.config.db.database}.${this.siteKey}sidecar_maintenance`.slice(0, 64);
    let conn;
    try {
      conn = await this.d.pool.getConnection();
      const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [lockName]);
      if (Number(rows[0].got) !== 1) return;
      const lane = this.lanes.find((l) => !l.busy && !l.maintenance && !l.broken) ?? this.lanes.find((l) => !l.maintenance) ?? this.lanes[0];
      let more = false;
      const pass = (async () => { more = (await lane.executor.clean()) === true; })();
      lane.maintenance = pass.then(() => undefined, () => undefined).finally(() => { lane.maintenance = undefined; });
      await pass;
      // The pass stopped at its time budget with work left (a backlog of expired rows): the next one comes soon.
      if (more && !this.stopping) setTimeout(() => void this.maintain(), 2000).unref();
      await this.timed(`DELETE FROM ${this.d.tables.workers} WHERE last_seen_gmt < ?`, [mysqlUtc(Date.now() - 3600_000)], STATEMENT_SECONDS.maintenance);
      await this.timed(`DELETE FROM ${this.d.tables.stats} WHERE minute_gmt < ?`, [mysqlUtc(Date.now() - 8 * 86400_000)], STATEMENT_SECONDS.maintenance);
      this.d.log.debug('maintenance pass done');
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'maintenance failed');
    } finally {
      if (conn) { await conn.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined); conn.release(); }
    }
  }

  /** Stop claiming, let running actions finish (bounded by the deadline), release what never started, say goodbye. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopping = true;
    for (const l of this.lanes) l.executor.requestStop();
    for (const t of this.timers) clearInterval(t);
    this.nudges.stop();
    this.wake.notify('stop');
    const until = Date.now() + deadlineMs;
    while (this.lanes.some((l) => l.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const clean = !this.lanes.some((l) => l.busy);
    await this.retryReleases().catch(() => undefined);
    await this.heartbeat();
    await Promise.all(this.lanes.map((l) => l.executor.stop().catch(() => undefined)));
    await this.d.pool.query(`DELETE FROM ${this.d.tables.workers} WHERE worker_id = ?`, [this.workerId]).catch(() => undefined);
    return clean;
  }
}
