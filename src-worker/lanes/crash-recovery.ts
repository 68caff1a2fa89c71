// After a PHP worker was killed (time limit) or died (fatal, OOM, kill -9): write what its claim still needs.
import type { Logger } from 'pino';
import type { RunResult, StreamEnd, WindowMarks } from '../execute/executor';
import type { Lane, Recovery } from './lane';
import type { WorkerKeeper } from './worker-keeper';

/** Workers that try to write what a dead worker's claim needs before the lane keeps it for a later one. */
const RECOVERY_TRIES = 3;

export class CrashRecovery {
  constructor(
    private keeper: WorkerKeeper,
    private log: Logger,
    /** The per-action time limit in seconds (a timed-out action is failed "after N seconds"). */
    private actionTimeoutSec: () => number,
    /** Releases a claim (or keeps it for a retry before the next claim, see ClaimReleases). */
    private release: (lane: Lane, claimId: number) => Promise<void>,
  ) {}

  /**
   * On a fresh worker: fail the action that was running (PHP's own shutdown handler may already have; the request
   * only changes a row still pending or in progress), then settle the stream: write the outcomes the dead worker
   * reported but may not have committed, and undo the start marks of the actions it never ran, so they run once on
   * the fresh worker instead of being left in progress. Both only change rows still in progress under this claim, so
   * nothing committed is written twice.
   */
  async recover(lane: Lane, claimId: number, end: StreamEnd, reported: RunResult[]) {
    const result = end.failed ?? {
      id: 0,
      status: end.reason as RunResult['status'],
      ms: 0,
      error: 'the worker died after its last action',
    };
    const id = end.failed?.id;
    this.log.warn(
      { action: id, status: result.status, error: result.error },
      id === undefined ? 'worker died between actions; replacing it' : 'action did not finish; replacing worker',
    );
    await this.keeper.replace(lane, result.status);
    const recovery: Recovery = { claimId, since: Date.now() };
    // 'unstarted': the worker died before the running action's start was committed; it never ran, so it is not failed.
    if (id !== undefined && result.status !== 'unstarted') {
      let fatal: { message: string; file: string; line: number } | undefined;
      if (result.status === 'crashed' && result.error?.startsWith('{')) {
        try {
          fatal = JSON.parse(result.error);
        } catch {
          /* plain text */
        }
      }
      recovery.fail = fatal
        ? // Only a row in progress under this claim is failed: an action that never started is left pending.
          { id, claim: claimId, reason: 'crash' as const, error: fatal }
        : {
            id,
            claim: claimId,
            reason: 'timeout' as const,
            seconds: result.status === 'timeout' ? this.actionTimeoutSec() : Math.max(1, Math.round(result.ms / 1000)),
          };
      result.status = 'failed';
    }
    const finalise = reported.filter((r) => r.status === 'complete' || r.status === 'failed');
    // The window's marks of actions that never started, and those the worker had given up undoing before it died
    // (end.unreleased: from that same window, though their actions had their turn and are not in notStarted).
    const unstart = end.marks
      ? end.marks.ids.filter(
          (x) =>
            end.notStarted.includes(x) ||
            (x === id && end.failed?.status === 'unstarted') ||
            !!end.unreleased?.ids.includes(x),
        )
      : [];
    // Its own start (not a window's) when it died between "started" and "running": maybe committed, never run.
    const start = end.failed?.status === 'unstarted' && end.start?.id === id ? end.start : undefined;
    if (lane.executor.settle && (finalise.length || unstart.length || start)) {
      recovery.settle = {
        claim: claimId,
        finalise,
        unstart: unstart.length && end.marks ? { ...end.marks, ids: unstart } : undefined,
        ...(start ? { start } : {}),
      };
    }
    if (!recovery.fail && !recovery.settle) return;
    if (lane.broken) {
      // No worker to write them now: keep the claim (BatchRunner.finish() leaves it) and write them once the
      // lane is repaired (finish()).
      lane.recovery = recovery;
      this.log.warn(
        { lane: lane.index, claim: claimId, action: id },
        'no worker to record what the dead worker ran; keeping its claim until one starts',
      );
      return;
    }
    await this.apply(lane, recovery);
  }

  /**
   * A live worker's start marks it could not undo (StreamEnd.unreleased): the same undo as for a dead worker's marks,
   * first on the worker that reported them, then as apply() goes on. False when they are not written yet: the lane
   * is then broken and keeps them (and the claim) for finish().
   */
  async undoMarks(lane: Lane, claimId: number, marks: WindowMarks): Promise<boolean> {
    this.log.warn(
      { lane: lane.index, claim: claimId, actions: marks.ids },
      'the worker could not undo start marks of actions it never ran; undoing them through the settle request',
    );
    const settle = { claim: claimId, finalise: [], unstart: marks };
    return this.apply(lane, { claimId, since: Date.now(), settle, live: true });
  }

  /** A broken lane has a worker again: write what its dead worker's claim still needed, then release that claim. */
  async finish(lane: Lane) {
    const recovery = lane.recovery;
    if (!recovery) return;
    // lane.recovery stays set while it is written, so the workers apply() starts keep the lane's repair count.
    if (!(await this.apply(lane, recovery))) return; // its new worker died too: the claim stays kept for the next
    lane.recovery = undefined;
    lane.repairs = 0;
    await this.release(lane, recovery.claimId);
    this.log.info(
      { lane: lane.index, claim: recovery.claimId },
      recovery.live
        ? 'undid the start marks the worker gave up on and released its claim'
        : 'recorded what the dead worker ran and released its claim',
    );
  }

  /**
   * Fails the action that was running and settles the reported outcomes, each changing only rows in progress under
   * the claim, so either may be sent again. Why a try that fails is repeated on a fresh worker rather than left to the
   * cleaner: the worker that writes them can die too (a second kill, an OOM), and what it did not write is wrong in a
   * way the queue cannot see: start marks left in place make the actions they cover look started, so the next worker
   * ignores them at their turn and the cleaner fails them after the failure period, though they never ran (seen in
   * the random-kill test: a kill during the settle left three such actions). After RECOVERY_TRIES workers the lane
   * is treated as broken and keeps the rest (and the claim) for the worker its repair starts, whose backoff keeps
   * growing while the writes keep failing (WorkerKeeper.startFresh()); only a stopping sidecar, or --once once the
   * failure period has passed (LaneLoop), leaves it to the cleaner.
   */
  private async apply(lane: Lane, recovery: Recovery): Promise<boolean> {
    let left: Recovery | undefined = recovery;
    for (let attempt = 1; left; attempt++) {
      left = await this.write(lane, left);
      if (!left) return true;
      // A stopping sidecar still makes all its tries (at most RECOVERY_TRIES worker starts, within the stop window):
      // what it leaves unwritten, the cleaner fails though it never ran.
      if (attempt >= RECOVERY_TRIES) break;
      await this.keeper.replace(lane, 'recovery-failed');
      if (lane.broken) break;
    }
    if (!lane.broken) {
      // The lane then counts as one without a worker: it runs and claims nothing more (the rest of this claim would
      // meet the marks), and repair() starts a worker with backoff, after which finish() writes the rest.
      await lane.executor.stop().catch(() => undefined);
      lane.broken = true;
    }
    lane.recovery = left;
    this.log.warn(
      { lane: lane.index, claim: left.claimId, action: left.fail?.id },
      left.live
        ? 'could not yet undo the start marks the worker gave up on; keeping its claim until a worker does'
        : 'could not yet record what the dead worker ran; keeping its claim until a worker does',
    );
    return false;
  }

  /** One try of each write still needed; returns what is left (undefined when all of it was written). */
  private async write(lane: Lane, recovery: Recovery): Promise<Recovery | undefined> {
    const left: Recovery = { claimId: recovery.claimId, since: recovery.since, live: recovery.live };
    if (recovery.fail) {
      try {
        await lane.executor.fail(recovery.fail);
      } catch (e) {
        this.log.error({ action: recovery.fail.id, err: (e as Error).message }, 'could not mark the action failed');
        left.fail = recovery.fail;
      }
    }
    if (recovery.settle && lane.executor.settle) {
      try {
        await lane.executor.settle(recovery.settle);
      } catch (e) {
        this.log.error(
          {
            err: (e as Error).message,
            finalise: recovery.settle.finalise.length,
            unstart: recovery.settle.unstart?.ids.length ?? 0,
          },
          'could not settle after a worker died',
        );
        left.settle = recovery.settle;
      }
    }
    return left.fail || left.settle ? left : undefined;
  }
}
