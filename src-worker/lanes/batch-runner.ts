// Runs one claimed batch on a lane's worker: streams its actions, reacts to how the stream ended (retire, recover,
// back off), then flushes the worker and releases the claim.
import type { Logger } from 'pino';
import type { Claim, ClaimedAction } from '../claim/claimer';
import type { SidecarConfig } from '../config/config';
import type { RunResult, StreamEnd, StreamLimits } from '../execute/executor';
import type { Metrics } from '../metrics';
import type { ClaimReleases } from './claim-releases';
import type { CrashRecovery } from './crash-recovery';
import type { Lane, SiteState } from './lane';
import type { WorkerKeeper } from './worker-keeper';

/** The most starts a worker commits at once (StartWindow.php): bounds what a crash of sidecar and worker together leaves marked. */
export const MAX_START_WINDOW = 25;

export interface BatchRunnerDeps {
  config: SidecarConfig;
  log: Logger;
  metrics: Metrics;
  state: SiteState;
  keeper: WorkerKeeper;
  recovery: CrashRecovery;
  releases: ClaimReleases;
  /** Counts a finished action (Heartbeat.record). */
  record: (action: ClaimedAction | undefined, result: RunResult) => void;
}

export class BatchRunner {
  constructor(private d: BatchRunnerDeps) {}

  /**
   * Runs a claimed batch. Resolves when no further action of it will start; `finished` settles once the worker has
   * flushed and the claim is released (the lane stays busy until then).
   */
  async run(lane: Lane, claim: Claim): Promise<{ finished: Promise<void> }> {
    const { log, metrics, state, keeper } = this.d;
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
      while (remaining.length && !state.stopping && !lane.broken) {
        const ex = lane.executor;
        // The hooks let a long-lived worker hand back an action it has no callback for (Freshness.php).
        const limits = { ...this.limits(lane), hooks: remaining.map((id) => byId.get(id)?.hook ?? '') };
        if (limits.max <= 0) {
          await keeper.retire(lane, 'max-jobs');
          continue;
        }
        setCurrent(remaining[0]);
        metrics.running.inc();
        // The worker holds completions back to commit them with later starts (CommitPipeline.php, StartWindow.php):
        // if it dies, CrashRecovery.recover() writes what it reported here and may not have committed.
        const reported: RunResult[] = [];
        let end: StreamEnd;
        try {
          end = await ex.runStream(remaining, claim.claimId, claim.claimedAt, limits, (r) => {
            this.d.record(byId.get(r.id), r);
            lane.sizer.observe(r.ms);
            reported.push(r);
            setCurrent(remaining[remaining.indexOf(r.id) + 1]);
          });
        } finally {
          metrics.running.dec();
          lane.current = undefined;
        }
        remaining = end.notStarted;
        if (end.reason === 'unavailable') {
          // Nothing of it ran: the rest of the claim is released untouched (back to pending) and the lane backs off.
          // Consecutive failures count up; one after actions that ran is a first failure again (a lone 502).
          lane.unavailable = reported.length ? 1 : (lane.unavailable ?? 0) + 1;
          log.warn(
            { lane: lane.index, notStarted: remaining.length, attempt: lane.unavailable },
            'the channel could not start an action; releasing the claim and backing off',
          );
          break;
        }
        lane.unavailable = 0;
        const died = end.reason === 'timeout' || end.reason === 'crashed';
        // Marks the worker could not undo (its database refused; after a death, recover() undoes them with the
        // rest): undone through the settle request before anything more of the claim runs or the claim is
        // released (the undo needs the rows still under it). Not written yet, the lane keeps them and the claim, as
        // after a death (lane.recovery), and claims nothing meanwhile.
        if (!died && end.unreleased && !(await this.d.recovery.undoMarks(lane, claim.claimId, end.unreleased))) break;
        // A worker that undoMarks() already replaced is a fresh one: it is not retired again below.
        const same = lane.executor === ex;
        if (died) {
          await this.d.recovery.recover(lane, claim.claimId, end, reported);
          if (end.failed && end.failed.status !== 'unstarted') {
            this.d.record(byId.get(end.failed.id), end.failed);
            lane.sizer.observe(end.failed.ms);
          }
        } else if (end.reason === 'limit' || end.reason === 'memory') {
          if (same) await keeper.retire(lane, end.reason === 'limit' ? 'max-jobs' : 'memory');
        } else if (end.reason === 'stale' || end.reason === 'handback') {
          // Nothing more of the stream started on the old worker; the rest (the handed-back action first) runs on a
          // worker booted now, which sees the code WordPress would load now.
          log.info(
            { lane: lane.index, why: end.why, notStarted: remaining.length },
            end.reason === 'stale'
              ? 'what WordPress loads changed; replacing worker before it runs anything more'
              : "no callback for the action's hook in this long-lived worker; handing it to a fresh worker",
          );
          if (same) await keeper.retire(lane, end.reason === 'stale' ? 'code-changed' : 'handback');
        } else if (end.reason === 'stopped') {
          break;
        }
      }
    } catch (e) {
      await this.finish(lane, claim);
      throw e;
    }
    const finished = this.finish(lane, claim);
    finished.catch(() => undefined); // the lane awaits it after its next claim; this only marks it handled meanwhile
    return { finished };
  }

  private async finish(lane: Lane, claim: Claim): Promise<void> {
    const { log, keeper } = this.d;
    try {
      if (!lane.broken) {
        await lane.executor.flush().catch(async (e) => {
          log.warn({ err: (e as Error).message }, 'flush failed; replacing worker');
          await keeper.replace(lane, 'flush-failed');
        });
      }
      if (lane.executor.codeChanged) {
        log.info({ lane: lane.index }, 'what WordPress loads changed; replacing worker (PHP code changed on disk)');
        await keeper.replace(lane, 'code-changed');
      }
    } finally {
      // A claim whose dead worker's outcomes are not written yet stays claimed (see Recovery), unless we are stopping.
      if (lane.recovery?.claimId !== claim.claimId || this.d.state.stopping) {
        await this.d.releases.release(lane, claim.claimId);
      }
      lane.busy = false;
    }
  }

  /** When this lane's worker must stop taking actions: after --max-jobs-per-worker, or above --max-worker-memory-mb. */
  private limits(lane: Lane): StreamLimits {
    const { config } = this.d;
    return {
      max: config.maxJobsPerWorker - lane.executor.jobs,
      maxMemBytes: config.maxWorkerMemoryMb * 1024 * 1024,
      window: lane.sizer.window(config.startWindowMs, MAX_START_WINDOW),
    };
  }
}
