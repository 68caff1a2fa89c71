// Shutdown: the first SIGTERM/SIGINT stops the sidecar cleanly (no new claims, running actions finish within
// --shutdown-timeout-ms); a second one exits at once, for an operator who will not wait for a long action.

/** 128 + the signal's number, as a shell reports a process that the signal ended. */
export const FORCED_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownDeps {
  /** The clean stop: called once, on the first signal (or stop('fatal')). */
  onStop: (reason: string) => Promise<void>;
  /** The second signal: exit now with this code (process.exit in main.ts). */
  forceExit: (code: number, signal: string) => void;
}

export class Shutdown {
  private stopped = false;
  private done?: Promise<void>;
  /** Sleeps that a stop cuts short (start-up retries). */
  private sleepers = new Set<() => void>();

  constructor(private d: ShutdownDeps) {}

  get stopping() {
    return this.stopped;
  }
  /** Settles when the clean stop is over; undefined while not stopping. */
  get finished() {
    return this.done;
  }

  /** A signal: the first one stops cleanly, a second one (while the first stop runs) forces the exit. */
  signal(sig: string) {
    if (this.stopped) {
      if (sig in FORCED_EXIT) this.d.forceExit(FORCED_EXIT[sig], sig);
      return;
    }
    this.stop(sig);
  }

  /** Starts the clean stop once; later calls do nothing. */
  stop(reason: string) {
    if (this.stopped) return;
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
    this.done = this.d.onStop(reason);
  }

  /** Waits `ms`, or less when a stop comes first. */
  sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
}
