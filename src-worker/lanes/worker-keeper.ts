// Keeps a PHP worker on every lane: retires one due for replacement, replaces a dead one, repairs a lane left without.
import type { Logger } from 'pino';
import { startOrStop, type Executor } from '../execute/executor';
import type { Metrics } from '../metrics';
import { backoffMs, retry } from '../retry';
import type { Lane, SiteState } from './lane';

export type RetireReason = 'max-jobs' | 'memory' | 'code-changed' | 'handback';

export class WorkerKeeper {
  constructor(
    private state: SiteState,
    private makeExecutor: (index: number) => Executor,
    private log: Logger,
    private metrics: Metrics,
    /** Sleeps, waking early on stop (the sidecar's Wake). */
    private wait: (ms: number) => Promise<unknown>,
  ) {}

  /** A worker due for replacement: commit what it holds (flush), then start a fresh one. */
  async retire(lane: Lane, reason: RetireReason) {
    await lane.executor.flush().catch(() => undefined);
    await this.replace(lane, reason);
  }

  /**
   * A fresh worker for the lane: a few quick attempts, then the lane is marked broken instead of throwing (which took
   * the whole process down, every other lane and site with it). A broken lane claims nothing; its current claim is
   * released as usual, and repair() keeps trying with backoff (a database or deploy that comes back heals it).
   */
  async replace(lane: Lane, reason: string) {
    this.metrics.workerRestarts.inc({ reason });
    await lane.executor.stop().catch(() => undefined);
    // Each failed try is logged; between tries a short backoff (250, 500 ms); stop ends the tries.
    const logged = (e: unknown, n: number) =>
      this.log.error({ err: (e as Error).message, attempt: n, lane: lane.index }, 'could not start a PHP worker');
    let tried = 0;
    let lastLogged = -1;
    try {
      await retry(
        (n) => {
          tried = n;
          return this.startFresh(lane);
        },
        {
          attempts: 3,
          delayMs: (n) => 250 * 2 ** n,
          onRetry: (e, n) => {
            logged(e, n);
            lastLogged = n;
          },
          stopped: () => this.state.stopping,
        },
      );
      return;
    } catch (e) {
      if (lastLogged !== tried) logged(e, tried);
    }
    lane.broken = true;
    this.log.error(
      { lane: lane.index },
      'lane has no worker; it claims nothing until one starts (retrying with backoff)',
    );
  }

  /** One more try at a broken lane's worker, after a backoff that grows to 30 s; true when it works again. */
  async repair(lane: Lane): Promise<boolean> {
    lane.repairs = (lane.repairs ?? 0) + 1;
    if (this.state.stopping) return false;
    await this.wait(backoffMs(lane.repairs - 1));
    if (this.state.stopping) return false;
    try {
      await this.startFresh(lane);
      this.log.info({ lane: lane.index }, 'lane has a worker again');
      return true;
    } catch (e) {
      this.log.error(
        { err: (e as Error).message, lane: lane.index, repairs: lane.repairs },
        'could not start a PHP worker',
      );
      return false;
    }
  }

  private async startFresh(lane: Lane) {
    // Stopped here when its start fails: the next try replaces lane.executor, and nothing would stop this one later.
    lane.executor = this.makeExecutor(lane.index);
    await startOrStop(lane.executor);
    lane.broken = false;
    // A dead worker's unwritten outcomes keep the repair count: the backoff goes on growing while each new worker
    // fails to write them (a route that is down, a database that refuses), instead of starting over at 1 s forever.
    // CrashRecovery.finish() resets it once they are written.
    if (!lane.recovery) lane.repairs = 0;
  }
}
