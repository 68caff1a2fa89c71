// One retry loop for the whole sidecar: a deadlock retried in a claim, a PHP worker restarted, a database awaited at
// start all go through `retry`, so the backoff rules are written (and tested, tests/unit/retry.test.ts) once.

export interface RetryOptions {
  /** Tries in all (the first included); omit for no limit. */
  attempts?: number;
  /** Milliseconds to wait after failed try `n` (0-based) before the next one. */
  delayMs: (n: number) => number;
  /** Whether this failure may be retried at all; a failure that may not is thrown at once. Default: every failure. */
  retryable?: (e: unknown, n: number) => boolean;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (e: unknown, n: number, waitMs: number) => void;
  /** Checked before and after each wait: true ends the loop (the last failure is thrown). */
  stopped?: () => boolean;
  /** How to wait (default: a timer); a sleep that returns early on stop keeps shutdown quick. */
  sleep?: (ms: number) => Promise<unknown>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` until it succeeds or a rule in `o` says stop, then throws the last failure. */
export async function retry<T>(fn: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await fn(n);
    } catch (e) {
      const last = o.attempts !== undefined && n + 1 >= o.attempts;
      if (last || (o.retryable && !o.retryable(e, n)) || o.stopped?.()) throw e;
      const wait = o.delayMs(n);
      o.onRetry?.(e, n, wait);
      await (o.sleep ?? sleep)(wait);
      if (o.stopped?.()) throw e;
    }
  }
}

/** 1 s, 2 s, 4 s … up to 30 s: the wait after failed try `n` for things a person or a restart may fix. */
export const backoffMs = (n: number) => Math.min(30_000, 1000 * 2 ** Math.min(5, n));
