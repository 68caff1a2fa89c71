// The start-window watcher must not keep a killed worker alive to the outside. It used to inherit every descriptor
// of the worker (PHP's proc_open() passes them all): the worker's database socket and the sidecar's protocol pipe,
// fd 3. While the watcher waited on a row lock (its release UPDATE; up to the server's 50 s default), a worker killed
// with SIGKILL kept its database session (its transaction, its locks) and the sidecar saw no end of fd 3 until the
// watcher gave up. Now a shell closes the descriptors before it becomes the watcher, and the watcher's session waits
// at most 3 s on a lock (a mark it could not release is tried again; here it exits first, its stdin closed).
// Here another session (the test) holds the lock of the first mark behind a slow action; the real worker, both modes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { php, rows, db, waitFor, DOCROOT } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `f1c${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('s'), companion: base('c') } as const;

bothModeSites(SITES);

/** PIDs of the processes whose parent is `pid`. */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

test.each(Object.entries(SITES))(
  '%s: a worker killed while its watcher waits on a lock is gone at once: fd 3 ends, its database session ends',
  async (_mode, prefix) => {
    const marker = join(mkdtempSync(join(tmpdir(), 'f1c-')), 'sleeping');
    const ids: number[] = JSON.parse(
      php(
        prefix,
        `$ids = array(as_enqueue_async_action('f1c_slow')); for ($i = 1; $i < 4; $i++) { $ids[] = as_enqueue_async_action('f1c_fast', array($i)); } echo json_encode($ids);`,
      ).trim(),
    );
    const script = `$_SERVER['HTTP_HOST'] = '127.0.0.1'; define('SIDECAR_SCHEDULER_WORKER', true); require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))};
    add_filter('sidecar_scheduler_window_release_after', function () { return 2; });
    add_action('f1c_slow', function () { global $wpdb; file_put_contents(${JSON.stringify(marker)}, (string) $wpdb->get_var('SELECT CONNECTION_ID()')); sleep(120); });
    add_action('f1c_fast', function () {});
    SidecarScheduler\\Runner\\Worker::run(STDIN, fopen('php://fd/3', 'w'));`;
    const worker = spawn('php', ['-d', 'display_errors=stderr', '-r', script], {
      env: { ...process.env, WP_TABLE_PREFIX: prefix },
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    });
    // The sidecar's request, on stdin kept open (as the sidecar does: a closed stdin means "stop").
    worker.stdin!.write(`${JSON.stringify({ op: 'stream', ids, claim: 0, context: 'Test', window: 25 })}\n`);
    let stderr = '';
    worker.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    let fd3Ended = false;
    const fd3 = worker.stdio[3] as Readable;
    fd3.on('data', () => undefined);
    fd3.on('end', () => {
      fd3Ended = true;
    });
    const lock = await db();
    try {
      await waitFor(async () => existsSync(marker) && readFileSync(marker, 'utf8') !== '', 60000, 20).catch((e) => {
        throw new Error(`${String(e)}; the worker's stderr: ${stderr.slice(-2000)}`);
      });
      const session = Number(readFileSync(marker, 'utf8'));
      // The first mark's row, locked by another session before the watcher's release reaches it (2 s after the take).
      await lock.query('START TRANSACTION');
      await lock.query(`SELECT action_id FROM ${prefix}actionscheduler_actions WHERE action_id = ? FOR UPDATE`, [
        ids[1],
      ]);
      let watcherStatement = 0;
      await waitFor(
        async () => {
          const r = await rows(`SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO LIKE ?`, [
            `UPDATE \`${prefix}actionscheduler_actions\` SET status = 'pending'%`,
            `%WHERE action_id = ${ids[1]} %`,
          ]);
          watcherStatement = r.length ? Number(r[0].ID) : 0;
          return watcherStatement > 0;
        },
        20000,
        20,
      );
      const watchers = children(worker.pid!);
      expect(watchers).toHaveLength(1);

      process.kill(worker.pid!, 'SIGKILL');
      await waitFor(async () => fd3Ended, 2000, 10);
      const sessions = async () =>
        (
          await rows(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?, ?)`, [session, watcherStatement])
        ).map((r) => Number(r.ID));
      await waitFor(async () => !(await sessions()).includes(session), 2000, 10);
      // Both while the watcher still waits on the lock: neither the end of fd 3 nor the worker's session waited for it.
      expect(await sessions()).toEqual([watcherStatement]);
      expect(alive(watchers[0])).toBe(true);

      // Its lock wait is short: it gives up on that mark (the other session still holds it) and, its stdin closed, exits.
      await waitFor(async () => !alive(watchers[0]), 10000, 50);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
      if (alive(worker.pid!)) process.kill(worker.pid!, 'SIGKILL');
    }
    const first = ids[0];
    const actions = await rows(
      `SELECT action_id, status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id >= ? ORDER BY action_id`,
      [first],
    );
    // The slow action was killed while it ran; the locked mark stays for the sidecar to undo (its "window" message);
    // the watcher released the two marks behind it.
    expect(actions.map((a) => `#${a.action_id - first} ${a.status} ${a.attempts}`)).toEqual([
      '#0 in-progress 1',
      '#1 in-progress 1',
      '#2 pending 0',
      '#3 pending 0',
    ]);
    expect(stderr).toContain('put back to pending');
  },
);
