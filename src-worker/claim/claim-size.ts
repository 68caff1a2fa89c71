// How many actions a lane claims at once: about a second of work, at most --batch-size.
//
// A claim holds its actions for the lane until they run. For fast actions a big claim saves per-claim work (claim,
// release, cache flush). For slow ones it makes other lanes and sidecars idle while the actions wait in one lane's
// claim, so the size follows the lane's recent run times.

/** Work a lane takes per claim, in milliseconds of its recent average run time. */
export const CLAIM_TARGET_MS = 1000;

/** Weight of the newest run time in the lane's moving average. */
const WEIGHT = 0.2;

export class ClaimSizer {
  private averageMs: number | undefined;

  constructor(private max: number) {}

  /** Records one action's run time (ms). */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.averageMs = this.averageMs === undefined ? ms : this.averageMs + WEIGHT * (ms - this.averageMs);
  }

  /**
   * How many starts the worker may commit at once (a start window): about `targetMs` of work at the recent average,
   * at most `max`; 1 (the exact per-action sequence) until something ran, or when the actions are slow.
   */
  window(targetMs: number, max: number): number {
    if (this.averageMs === undefined || targetMs <= 0) return 1;
    return Math.max(1, Math.min(max, Math.floor(targetMs / Math.max(this.averageMs, 0.001))));
  }

  /** The next claim's size: the maximum until something ran, then enough for about CLAIM_TARGET_MS, at least 1. */
  next(): number {
    if (this.averageMs === undefined) return this.max;
    return Math.max(1, Math.min(this.max, Math.floor(CLAIM_TARGET_MS / Math.max(this.averageMs, 0.001))));
  }
}
