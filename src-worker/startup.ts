// Start-up failures: a configuration error stops the process (exit 78, which the shipped systemd unit does not
// restart, since retrying cannot help); anything else is taken as transient and retried with backoff.
import { ConfigError } from './config/config';
import { WpConfigError } from './config/wp-config-reader';
import { SchemaError } from './db/database';
import { backoffMs, retry } from './retry';

/**
 * What only a person can fix: wrong options or wp-config.php, tables missing or of an unknown schema, a PHP or
 * WP-CLI binary that does not exist, a worker that says the plugin is not active (bin/worker.php exits 2 on bad
 * usage, 3 when Sidecar Scheduler or Action Scheduler is not loaded), WP-CLI that finds no WordPress or no command,
 * a rest channel without URL or secret. A database that refuses connections, a worker whose WordPress cannot reach
 * the database, a route that answers 502, a timeout: transient.
 */
export function isConfigFailure(e: unknown): boolean {
  if (e instanceof ConfigError || e instanceof WpConfigError || e instanceof SchemaError) return true;
  const msg = String((e as Error)?.message ?? e);
  if (
    /Error establishing a database connection|mysqli_real_connect|Connection refused|server has gone away|Too many connections/i.test(
      msg,
    )
  ) {
    return false;
  }
  return (
    /could not start \S+: spawn \S+ (ENOENT|EACCES)/.test(msg) ||
    /worker exited \(code [23], /.test(msg) ||
    /is not a registered wp command|does not seem to be a WordPress installation|needs --url or --rest-url|needs a secret/.test(
      msg,
    )
  );
}

/**
 * Runs `attempt` until it succeeds; a configuration failure is thrown at once; a transient one is logged and retried
 * after a backoff (1 s, 2 s … 30 s), until `giveUp(attempt)` says stop (then the last error is thrown) or `stopped()`.
 */
export function withStartRetry<T>(
  attempt: () => Promise<T>,
  onRetry: (e: unknown, n: number, waitMs: number) => void,
  opts: { giveUp: (n: number) => boolean; stopped: () => boolean; sleep: (ms: number) => Promise<unknown> },
): Promise<T> {
  return retry(() => attempt(), {
    delayMs: backoffMs,
    retryable: (e, n) => !isConfigFailure(e) && !opts.giveUp(n),
    onRetry,
    stopped: opts.stopped,
    sleep: opts.sleep,
  });
}
