// Wake-ups for idle lanes: a poll tick releases them all, a nudge one at a time, and nudges are coalesced.

/** Why a waiting lane woke: a poll tick, a nudge from PHP, more work after a full claim, stop, or its own deadline. */
export type WakeReason = 'poll' | 'nudge' | 'more' | 'stop' | 'timeout';

export class Wake {
  private waiters: Array<(reason: WakeReason) => void> = [];

  /** Releases every waiting lane. */
  notify(reason: WakeReason = 'poll') {
    for (const w of this.waiters.splice(0)) w(reason);
  }

  /** Releases the lane that has waited longest; false when none was waiting (busy lanes claim again on their own). */
  notifyOne(reason: WakeReason): boolean {
    const w = this.waiters.shift();
    if (w) w(reason);
    return !!w;
  }

  wait(ms: number): Promise<WakeReason> {
    return new Promise((resolve) => {
      const done = (reason: WakeReason) => {
        clearTimeout(t);
        resolve(reason);
      };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve('timeout');
      }, ms);
      this.waiters.push(done);
    });
  }
}

/** Spacing after a nudge whose claim found nothing; it doubles with each fruitless nudge up to MAX_GAP_MS. */
export const MIN_GAP_MS = 10;
export const MAX_GAP_MS = 250;

/**
 * Nudges from PHP, coalesced so that a flood of datagrams (a loop storing thousands of actions in separate requests,
 * or anyone who can reach the port) costs a handful of claims instead of one per datagram:
 * - at most one wake is pending at a time: datagrams that arrive meanwhile are merged into it;
 * - a nudge whose claim found nothing spaces the next wake out (10 ms, doubling to 250 ms), and a claim that found
 *   work resets the spacing, so nudges for actions that really are due are delivered at once.
 * A nudge never replaces the poll: at worst an action waits for the next poll tick, as without nudges.
 */
export class NudgeGate {
  private timer?: NodeJS.Timeout;
  private lastWake = 0;
  private gapMs = 0;
  delivered = 0;
  merged = 0;

  constructor(private fire: () => void) {}

  nudge() {
    if (this.timer) {
      this.merged++;
      return;
    }
    const delay = this.lastWake + this.gapMs - Date.now();
    if (delay <= 0) {
      this.deliver();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deliver();
    }, delay);
  }

  /** What the claim that a nudge triggered found. */
  found(work: boolean) {
    this.gapMs = work ? 0 : Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, this.gapMs * 2));
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver() {
    this.lastWake = Date.now();
    this.delivered++;
    this.fire();
  }
}
