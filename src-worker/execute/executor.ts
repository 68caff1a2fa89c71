// What a lane needs from an execution channel, whatever carries it (a PHP process's pipes or signed HTTP).
export type RunStatus = 'complete' | 'failed' | 'ignored' | 'invalid' | 'lost' | 'unknown' | 'timeout' | 'crashed';

export interface RunResult { id: number; status: RunStatus; ms: number; error?: string; mem?: number }

export interface FailRequest { id: number; reason: 'timeout' | 'crash'; seconds?: number; error?: { message: string; file: string; line: number } }

export interface PhpSettings {
  batch_size: number; concurrent_batches: number; time_limit: number; timeout_period: number; failure_period: number;
  retention_period: number; cleanup_batch_size: number; action_time_limit: number; mode: string;
}

export interface Executor {
  readonly label: string;
  start(): Promise<void>;
  /** Runs one claimed action; resolves with its outcome, also when the process died or timed out. */
  run(id: number, claimId: number, claimedAt: number): Promise<RunResult>;
  flush(): Promise<void>;
  fail(req: FailRequest): Promise<void>;
  clean(): Promise<void>;
  settings(): Promise<PhpSettings>;
  stop(): Promise<void>;
  readonly pid?: number;
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
