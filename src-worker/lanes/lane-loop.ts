// A lane's loop: claim a batch, run it, and sleep until a nudge, the next due time or the poll interval.
import type { Logger } from 'pino';
import type { Claim } from '../claim/claimer';
import type { SidecarConfig } from '../config/config';
import type { Metrics } from '../metrics';
import { sleep } from '../retry';
import type { NudgeGate, Wake, WakeReason } from '../wake';
import type { BatchRunner } from './batch-runner';
import type { ClaimReleases } from './claim-releases';
import type { CrashRecovery } from './crash-recovery';
import type { OnDbError } from './db-error';
import type { Lane, SiteState } from './lane';
import type { WorkerKeeper } from './worker-keeper';

/** Repairs a --once lane tries before it gives up (about a minute of backoff). */
const ONCE_REPAIRS = 6;

export interface LaneLoopDeps {
  config: SidecarConfig;
  metrics: Metrics;
  state: SiteState;
  wake: Wake;
  nudges: NudgeGate;
  keeper: WorkerKeeper;
  recovery: CrashRecovery;
  batches: BatchRunner;
  releases: ClaimReleases;
  onDbError: OnDbError;
  /** The site's action_scheduler_failure_period in seconds: after it the cleaner fails rows left in progress. */
  failurePeriodSec: () => number;
  log: Logger;
}

export class LaneLoop {
  constructor(private d: LaneLoopDeps) {}

  /** Runs the lane until stop (or, with --once, until nothing it may claim is due). */
  async run(lane: Lane): Promise<void> {
    const { config, metrics, state, wake, nudges, onDbError } = this.d;
    // The previous batch's flush (PHP commits and drops its caches) and release, left to finish while the next
    // claim runs: they touch neither the rows the claim looks for nor the worker's pipe until the next stream.
    let finishing: Promise<void> | undefined;
    let woke: WakeReason = 'poll';
    try {
      while (!state.stopping) {
        if (lane.broken) {
          if (finishing) {
            const f = finishing;
            finishing = undefined;
            await f;
          }
          if (await this.d.keeper.repair(lane)) await this.d.recovery.finish(lane);
          if (lane.broken && config.once && this.onceGivesUp(lane)) return;
          continue;
        }
        let claim: Claim | null = null;
        let size = 0;
        try {
          await this.d.releases.retry();
          const t0 = process.hrtime.bigint();
          size = lane.sizer.next();
          claim = await lane.claimer.claim(size);
          metrics.claimSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
          state.lastClaimAt = lane.lastClaimAt = Date.now();
          state.dbHealthy = true;
        } catch (e) {
          await onDbError(e, 'claim');
          continue;
        }
        // A nudge's claim tells the gate whether nudges are finding work; a full claim suggests more is due, so one
        // more idle lane is woken (a nudge wakes one lane, not all: the others would claim nothing).
        if (woke === 'nudge') nudges.found(!!claim);
        if (claim && claim.actions.length >= size) wake.notifyOne('more');
        woke = 'poll';
        if (finishing) {
          const f = finishing;
          finishing = undefined;
          await f;
        }
        if (!claim) {
          if (config.once) {
            // --once ends a lane only when nothing it may claim is due, not when another claimer held the rows a moment.
            try {
              if (await lane.claimer.hasDue()) {
                await sleep(10);
                continue;
              }
            } catch (e) {
              await onDbError(e, 'has-due');
              continue;
            }
            return;
          }
          woke = await this.idle(lane);
          continue;
        }
        finishing = (await this.d.batches.run(lane, claim)).finished;
        if (lane.unavailable) {
          // The channel could not start an action (the route is down, or answered 502/504): its claim goes back first,
          // then the lane waits, doubling up to 5 s, so an outage costs a few requests instead of thousands.
          const f = finishing;
          finishing = undefined;
          await f;
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
        await this.d.releases.release(lane, claimId);
      }
    }
  }

  /**
   * --once gives up on a broken lane (a daemon keeps trying): one whose worker stays unstartable after ONCE_REPAIRS;
   * one whose workers keep failing to write what a dead worker's claim needs only once the failure period has passed
   * since it died, as the cleaner then fails those rows whether the claim is kept or not. finally releases that claim,
   * and the run exits 69 instead of 0, with the actions named in the log.
   */
  private onceGivesUp(lane: Lane): boolean {
    const r = lane.recovery;
    if (!r) return (lane.repairs ?? 0) > ONCE_REPAIRS;
    if (Date.now() - r.since <= Math.max(60, this.d.failurePeriodSec()) * 1000) return false;
    this.d.state.recoveryAbandoned = true;
    this.d.log.error(
      {
        lane: lane.index,
        claim: r.claimId,
        fail: r.fail?.id,
        finalise: r.settle?.finalise.map((x) => x.id),
        unstart: [...(r.settle?.unstart?.ids ?? []), ...(r.settle?.start ? [r.settle.start.id] : [])],
      },
      'gave up recording what a dead worker ran; the cleaner will fail these in-progress actions',
    );
    return true;
  }

  /** Sleeps, but wakes early on stop. */
  private async pause(ms: number) {
    const until = Date.now() + ms;
    while (!this.d.state.stopping && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
  }

  private async idle(lane: Lane): Promise<WakeReason> {
    let wait = this.d.config.pollMs;
    try {
      const next = await lane.claimer.msUntilNextDue();
      // Scheduled actions start when due: sleep only until then (plus a little, as dates have 1 s resolution).
      if (next !== null) wait = Math.min(wait, next + 5);
    } catch (e) {
      await this.d.onDbError(e, 'next-due');
      return 'timeout';
    }
    // stop() may have come while the query ran: its wake-up is gone, and the wait would last a whole poll interval.
    if (this.d.state.stopping) return 'stop';
    return this.d.wake.wait(Math.max(1, wait));
  }
}
