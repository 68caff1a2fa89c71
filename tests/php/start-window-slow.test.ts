// A slow action in a start window must not get the marks waiting behind it failed by the cleaner (issue 13). The
// window marks the next actions in progress before they run; behind an action that runs longer than the failure
// period, the cleaner (here: the library's own, in another process, with a failure period of 3 s) failed them
// though they never ran. The worker's watcher now puts marks back to pending once they have waited the release time
// (here 1.5 s, by its filter), and each then starts at its turn with its own compare-and-set. The real worker, both
// modes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { php, rows, waitFor, DOCROOT } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `h1${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('c'), companion: base('d') } as const;

bothModeSites(SITES);

/** Runs PHP inside WordPress for `prefix` without waiting; resolves with its stdout when it exits. */
function phpAsync(prefix: string, code: string): Promise<string> {
  const script = `$_SERVER['HTTP_HOST'] = '127.0.0.1'; define('SIDECAR_SCHEDULER_WORKER', true); require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))}; ${code}`;
  return new Promise((resolve, reject) => {
    const child = spawn('php', ['-d', 'display_errors=stderr', '-r', script], {
      env: { ...process.env, WP_TABLE_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    child.on('exit', (exitCode) =>
      exitCode === 0 ? resolve(out) : reject(new Error(`php exited ${exitCode}: ${err.slice(-2000)}`)),
    );
  });
}

test.each(Object.entries(SITES))(
  '%s: the marks behind a slow action are not failed by the cleaner; each runs once',
  async (_mode, prefix) => {
    const marker = join(mkdtempSync(join(tmpdir(), 'h1-slow-')), 'sleeping');
    const ids: number[] = JSON.parse(
      php(
        prefix,
        `$ids = array(as_enqueue_async_action('h1_slow', array(0))); for ($i = 1; $i < 5; $i++) { $ids[] = as_enqueue_async_action('h1_fast', array($i)); } echo json_encode($ids);`,
      ).trim(),
    );
    const worker = phpAsync(
      prefix,
      `
    add_filter('sidecar_scheduler_window_release_after', function () { return 1.5; });
    add_action('h1_slow', function () { file_put_contents(${JSON.stringify(marker)}, (string) getmypid()); sleep(6); });
    add_action('h1_fast', function () {});
    $in = fopen('php://temp', 'w+');
    fwrite($in, json_encode(array('op' => 'stream', 'ids' => ${JSON.stringify(ids)}, 'claim' => 0, 'context' => 'Test', 'window' => 25)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20));
    rewind($in);
    $out = fopen('php://temp', 'w+');
    SidecarScheduler\\Runner\\Worker::run($in, $out);
    while (ob_get_level() > 0) { ob_end_clean(); }`,
    );
    await waitFor(async () => existsSync(marker), 60000, 50);
    // While the slow action sleeps: the cleaner, with a failure period of 3 s, after 3.5 s.
    await new Promise((r) => setTimeout(r, 3500));
    php(prefix, `(new ActionScheduler_QueueCleaner())->clean(3);`);
    await worker;
    // A worker that finds the loaded code changed on disk (other work on this machine) ends its stream, and the sidecar
    // runs the rest on a fresh one: so does this test, with what is still pending.
    for (let i = 0; i < 5; i++) {
      const left = (
        await rows(
          `SELECT action_id FROM ${prefix}actionscheduler_actions WHERE action_id IN (?) AND status = 'pending' ORDER BY action_id`,
          [ids],
        )
      ).map((r) => Number(r.action_id));
      if (!left.length) break;
      await phpAsync(
        prefix,
        `
      add_action('h1_fast', function () {});
      $in = fopen('php://temp', 'w+');
      fwrite($in, json_encode(array('op' => 'stream', 'ids' => ${JSON.stringify(left)}, 'claim' => 0, 'context' => 'Test', 'window' => 25)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20));
      rewind($in);
      SidecarScheduler\\Runner\\Worker::run($in, fopen('php://temp', 'w+'));
      while (ob_get_level() > 0) { ob_end_clean(); }`,
      );
    }
    const first = ids[0];
    const actions = await rows(
      `SELECT action_id, status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id > ? ORDER BY action_id`,
      [first],
    );
    expect(actions.map((a) => `#${a.action_id - first} ${a.status} ${a.attempts}`)).toEqual([
      '#1 complete 1',
      '#2 complete 1',
      '#3 complete 1',
      '#4 complete 1',
    ]);
    const logs = await rows(
      `SELECT action_id, message FROM ${prefix}actionscheduler_logs WHERE action_id > ? ORDER BY log_id`,
      [first],
    );
    for (const id of ids.slice(1)) {
      expect([`#${id - first}`, logs.filter((l) => Number(l.action_id) === id).map((l) => l.message)]).toEqual([
        `#${id - first}`,
        ['action created', 'action started via Test', 'action complete via Test'],
      ]);
    }
  },
);
