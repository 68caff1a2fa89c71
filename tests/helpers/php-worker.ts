// The sidecar's own ProcessExecutor over a real PHP worker (plugin/bin/worker.php) of one site: for tests that drive
// the worker protocol directly, without a whole sidecar around it.
import { join } from 'node:path';
import pino from 'pino';
import { ProcessExecutor } from '../../src-worker/execute/process-executor';
import { DOCROOT, ROOT } from './stack';

/** Not started: the caller starts it (and stops it). Its log is silent; a 60 s time limit per action. */
export function phpWorker(prefix: string, label: string): ProcessExecutor {
  return new ProcessExecutor(
    {
      command: 'php',
      args: [join(ROOT, 'plugin/bin/worker.php'), `--path=${DOCROOT}`],
      env: { ...process.env, WP_TABLE_PREFIX: prefix },
      label,
    },
    pino({ level: 'silent' }),
    () => 60,
  );
}
