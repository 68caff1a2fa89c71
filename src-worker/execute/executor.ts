// What a lane needs from an execution channel, whatever carries it (a PHP process's pipes or signed HTTP).
import type { ProtocolOutcome, ReplyOf } from '../contract';

/**
 * What PHP reported (the contract's outcomes), or what the sidecar saw: `timeout` and `crashed` (the worker was killed
 * or died), `unstarted` (the channel failed before the action's callback started; its row is still pending under the
 * claim).
 */
export type RunStatus = ProtocolOutcome | 'timeout' | 'crashed' | 'unstarted';

/** `at`: when a completed action's completion was made (gmt, site-local), for settling it if the worker dies. */
export interface RunResult {
  id: number;
  status: RunStatus;
  ms: number;
  error?: string;
  mem?: number;
  at?: [string, string];
}

/** A start window: actions the worker marked in progress at once (gmt, message and prior last attempts, to undo). */
export interface WindowMarks {
  ids: number[];
  gmt: string;
  message: string;
  prev: Record<string, [string, string]>;
}

/** After a worker died: outcomes it reported but may not have committed, and start marks of actions it never ran. */
export interface SettleRequest {
  claim: number;
  finalise: RunResult[];
  unstart?: WindowMarks;
  /** A plain start the dead worker may have committed, with its callback never run: undone if still there. */
  start?: StartUndo;
}

/** How a fresh worker undoes one action's own start: its time (the row's last attempt) and its "started" line. */
export interface StartUndo {
  id: number;
  gmt: string;
  message: string;
  since: string;
}

/** `claim`: only a row in progress under this claim is failed (its callback started); a pending one is left alone. */
export interface FailRequest {
  id: number;
  claim?: number;
  reason: 'timeout' | 'crash';
  seconds?: number;
  error?: { message: string; file: string; line: number };
}

export interface PhpSettings {
  batch_size: number;
  concurrent_batches: number;
  time_limit: number;
  timeout_period: number;
  failure_period: number;
  retention_period: number;
  cleanup_batch_size: number;
  action_time_limit: number;
  mode: string;
  /** A plugin filters action_scheduler_queue_runner_batch_size: claims then follow it unless --batch-size is given. */
  batch_size_filtered?: boolean;
}

/** How a stream of actions ended. `failed` is the action that was running when the worker timed out or died. */
export interface StreamEnd {
  /** `unavailable`: the channel could not start the next action (HTTP or network error); nothing of it ran. */
  reason: 'done' | 'stopped' | 'limit' | 'memory' | 'timeout' | 'crashed' | 'unavailable' | 'stale' | 'handback';
  /** For 'stale' / 'handback' (a PHP worker out of date, or without the next action's callback): why. */
  why?: string;
  failed?: RunResult;
  /** Actions of the stream that never started, in order. */
  notStarted: number[];
  /** The stream's last start window, when it had windows (its marks of actions that never ran need undoing). */
  marks?: WindowMarks;
  /** The running action's own start (not a window's), sent before its commit: undone when `failed` is 'unstarted'. */
  start?: StartUndo;
  /**
   * Start marks of actions that never ran which the worker could not undo itself (the database refused past its
   * retries; it then started nothing more), from its "unreleased" messages (sent as it gave up on them, so a death
   * after them keeps them too): the lane undoes them through the settle request (CrashRecovery).
   */
  unreleased?: WindowMarks;
}

/** A worker due for replacement starts no further action: after `max` more actions, or above `maxMemBytes`. */
export interface StreamLimits {
  max: number;
  maxMemBytes: number;
  window?: number;
  /** The hook of each action, in the stream's order: a worker without a callback for one hands it back (Freshness.php). */
  hooks?: string[];
}

export interface Executor {
  readonly label: string;
  /** Actions this worker has run since it started (a lane retires it after --max-jobs-per-worker); 0 for rest. */
  readonly jobs: number;
  /** The worker reported that PHP code it loaded changed on disk: the lane replaces it after the claim. */
  readonly codeChanged: boolean;
  start(): Promise<void>;
  /**
   * Runs claimed actions in order, reporting each as it finishes, without a round trip per action. Resolves when all
   * ran, when requestStop() or a limit ended it early, or when the worker timed out or died.
   */
  runStream(
    ids: number[],
    claimId: number,
    claimedAt: number,
    limits: StreamLimits,
    onDone: (r: RunResult) => void,
  ): Promise<StreamEnd>;
  /** No further action of the current stream starts; the one running finishes. */
  requestStop(): void;
  flush(): Promise<void>;
  fail(req: FailRequest): Promise<void>;
  /** Only channels whose workers hold writes across actions (a PHP process) need settling after a death. */
  settle?(req: SettleRequest): Promise<void>;
  /** One maintenance pass: what it did, and `more` when it stopped at its time budget with work left. */
  clean(): Promise<ReplyOf<'cleaned'> | undefined>;
  settings(): Promise<PhpSettings>;
  stop(): Promise<void>;
  readonly pid?: number;
}

/**
 * A fail or settle reply that says the database refused a write is thrown: CrashRecovery then sends it again on a
 * fresh worker, as for a worker that died writing it (both change only rows still in progress under the claim).
 * Counting it as written would leave start marks for the cleaner to fail though their actions never ran.
 */
export function throwIfRefused(reply: { error?: string } | undefined, what: string) {
  if (reply?.error) throw new Error(`${what}: ${reply.error}`);
}

/**
 * Starts a worker; one whose start failed (its ready message never came, the database refused it) is stopped before
 * the error goes on, as it may have left a child running and the caller will make a new one rather than reuse it.
 */
export async function startOrStop<T extends Executor>(executor: T): Promise<T> {
  try {
    await executor.start();
  } catch (e) {
    await executor.stop().catch(() => undefined);
    throw e;
  }
  return executor;
}

/** "PHP Fatal error:  Uncaught Exception: boom in /x.php:12" or "... in /x.php on line 12" from a worker's stderr. */
export function parsePhpFatal(stderr: string): { message: string; file: string; line: number } | undefined {
  const lines = stderr.split('\n').filter((l) => /PHP Fatal error:|^Fatal error:/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  const body = last.replace(/^.*?Fatal error:\s*/, '');
  const m = /^(.*) in (\S+?)(?: on line |:)(\d+)\s*$/.exec(body);
  if (m) return { message: m[1].trim(), file: m[2], line: Number(m[3]) };
  return { message: body.trim(), file: '', line: 0 };
}

/** runStream() for channels without a stream of their own (rest): one run() after another, same outcome. */
export async function streamByRuns(
  ex: { run(id: number, claimId: number, claimedAt: number): Promise<RunResult> },
  stopRequested: () => boolean,
  ids: number[],
  claimId: number,
  claimedAt: number,
  onDone: (r: RunResult) => void,
): Promise<StreamEnd> {
  for (let i = 0; i < ids.length; i++) {
    if (stopRequested()) return { reason: 'stopped', notStarted: ids.slice(i) };
    const r = await ex.run(ids[i], claimId, claimedAt);
    if (r.status === 'unstarted') return { reason: 'unavailable', notStarted: ids.slice(i) };
    if (r.status === 'timeout' || r.status === 'crashed') {
      return { reason: r.status, failed: r, notStarted: ids.slice(i + 1) };
    }
    onDone(r);
  }
  return { reason: 'done', notStarted: [] };
}
