// WP-CLI for real (installed by the stack from Packagist): our `wp action-scheduler` and `wp sidecar-scheduler`
// commands, and the sidecar's wp-cli channel (long-lived `wp sidecar-scheduler work` processes).
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import {
  php,
  phpJson,
  rows,
  startSidecar,
  exited,
  waitFor,
  eventually,
  wp,
  WP_BIN,
  laneWorkerPids,
} from '../helpers/stack';
import { countingSite } from '../helpers/sites';

const PREFIX = 'twpcli_';
const T = (name: string) => `${PREFIX}actionscheduler_${name}`;
const runsTable = `${PREFIX}sidecar_test_runs`;
const WP_CLI = ['--channel=wp-cli', `--wp-binary=${WP_BIN}`];

beforeAll(async () => {
  await countingSite(PREFIX);
});

/** Cancels and deletes everything, so each test starts from an empty queue on this prefix. */
async function emptyQueue() {
  php(
    PREFIX,
    `global $wpdb; foreach (array('actions', 'logs', 'claims') as $t) { $wpdb->query("DELETE FROM {$wpdb->prefix}actionscheduler_$t"); }`,
  );
}

const enqueue = (code: string): number[] => phpJson(PREFIX, `$ids = array(); ${code} echo json_encode($ids);`);
const statusOf = async (id: number) =>
  (await rows(`SELECT status FROM ${T('actions')} WHERE action_id = ?`, [id]))[0]?.status;
const logsOf = async (id: number) =>
  (await rows(`SELECT message FROM ${T('logs')} WHERE action_id = ? ORDER BY log_id`, [id])).map((r: any) => r.message);

describe('wp action-scheduler run', () => {
  beforeEach(emptyQueue);

  test('runs what is due with the library context, lines and summary; leaves future actions alone', async () => {
    const [ok, boom, orphan, later] = enqueue(`
      $ids[] = as_enqueue_async_action('sidecar_test_noop', array(1));
      $ids[] = as_enqueue_async_action('sidecar_test_throw');
      $ids[] = as_enqueue_async_action('nobody_listens_here');
      $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop');`);
    const r = wp(PREFIX, ['action-scheduler', 'run']);
    expect(r.code).toBe(0);
    // The library's lines; piped, WP-CLI's progress bar counts nothing, so the library's final count says 0 (a
    // terminal shows 3: tests/php/library-parity.test.ts compares both with the library).
    expect(r.stdout.trim().split('\n')).toEqual([
      'Found 3 scheduled tasks',
      `Started processing action ${ok}`,
      `Completed processing action ${ok} with hook: sidecar_test_noop`,
      `Started processing action ${boom}`,
      `Started processing action ${orphan}`,
      '1 batch executed.',
      'Success: 0 scheduled tasks completed.',
    ]);
    expect(r.stderr).toContain(`Error: Error processing action ${boom}: boom from test`);
    expect(r.stderr).toContain(
      `Error: Error processing action ${orphan}: Scheduled action for nobody_listens_here will not be executed as no callbacks are registered.`,
    );
    expect([await statusOf(ok), await statusOf(boom), await statusOf(orphan), await statusOf(later)]).toEqual([
      'complete',
      'failed',
      'failed',
      'pending',
    ]);
    expect(await logsOf(ok)).toEqual(['action created', 'action started via WP CLI', 'action complete via WP CLI']);
    expect(await logsOf(boom)).toEqual([
      'action created',
      'action started via WP CLI',
      'action failed via WP CLI: boom from test',
    ]);
    const [left] = await rows(
      `SELECT (SELECT COUNT(*) FROM ${T('claims')}) AS claims, (SELECT COUNT(*) FROM ${T('actions')} WHERE claim_id <> 0) AS claimed`,
    );
    expect([Number(left.claims), Number(left.claimed)]).toEqual([0, 0]);
  });

  test('--hooks, --group, --exclude-groups, --batch-size and --batches limit what runs', async () => {
    const ids = enqueue(`
      foreach (array('a', 'b', 'c') as $g) { for ($i = 0; $i < 3; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array($g, $i), $g); } }
      $ids[] = as_enqueue_async_action('sidecar_test_count', array(1), 'a');`);
    const done = async () =>
      (
        await rows(
          `SELECT g.slug, COUNT(*) AS n FROM ${T('actions')} a JOIN ${T('groups')} g USING (group_id) WHERE a.status = 'complete' GROUP BY g.slug ORDER BY g.slug`,
        )
      ).map((r: any) => `${r.slug}:${r.n}`);
    expect(wp(PREFIX, ['action-scheduler', 'run', '--hooks=sidecar_test_count']).code).toBe(0);
    expect(await done()).toEqual(['a:1']);
    expect(wp(PREFIX, ['action-scheduler', 'run', '--group=b', '--batch-size=2', '--batches=1']).stdout).toContain(
      'Found 2 scheduled tasks\n',
    );
    expect(await done()).toEqual(['a:1', 'b:2']);
    expect(wp(PREFIX, ['action-scheduler', 'run', '--exclude-groups=a,b']).code).toBe(0);
    expect(await done()).toEqual(['a:1', 'b:2', 'c:3']);
    expect(wp(PREFIX, ['action-scheduler', 'run']).stdout).toContain('Found 4 scheduled tasks\n');
    expect(await done()).toEqual(['a:4', 'b:3', 'c:3']);
    expect(ids).toHaveLength(10);
  });

  test('refuses while another runner holds a claim (the library default of 1 batch); --force runs with a warning', async () => {
    const [held, due] = enqueue(
      `$ids[] = as_enqueue_async_action('sidecar_test_noop', array('held')); $ids[] = as_enqueue_async_action('sidecar_test_noop', array('due'));`,
    );
    php(
      PREFIX,
      `global $wpdb; $wpdb->insert($wpdb->prefix . 'actionscheduler_claims', array('date_created_gmt' => gmdate('Y-m-d H:i:s'))); $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('claim_id' => $wpdb->insert_id, 'last_attempt_gmt' => gmdate('Y-m-d H:i:s')), array('action_id' => ${held}));`,
    );
    const refused = wp(PREFIX, ['action-scheduler', 'run']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Error: There are too many concurrent batches.');
    expect(await statusOf(due)).toBe('pending');
    const forced = wp(PREFIX, ['action-scheduler', 'run', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain(
      'Warning: There are too many concurrent batches, but the run is forced to continue.',
    );
    expect([await statusOf(due), await statusOf(held)]).toEqual(['complete', 'pending']);
  });

  test('--free-memory-on and --pause free memory with the library warnings', async () => {
    enqueue(`for ($i = 0; $i < 4; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array($i)); }`);
    const r = wp(PREFIX, ['action-scheduler', 'run', '--free-memory-on=2', '--pause=1']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/Warning: Stopped the insanity for 1 second\n/g)).toHaveLength(2);
    expect(r.stderr.match(/Warning: Attempting to reduce used memory\.\.\./g)).toHaveLength(2);
  });

  test('a PHP fatal fails the action as an unexpected shutdown and releases the claim, so the rest of the batch is not stuck', async () => {
    const [fatal, next] = enqueue(
      `$ids[] = as_enqueue_async_action('sidecar_test_fatal', array(), '', false, 1); $ids[] = as_enqueue_async_action('sidecar_test_noop', array('after'), '', false, 2);`,
    );
    const r = wp(PREFIX, ['action-scheduler', 'run']);
    expect(r.code).not.toBe(0);
    expect(await statusOf(fatal)).toBe('failed');
    expect((await logsOf(fatal)).pop()).toMatch(
      /^unexpected shutdown: PHP Fatal error Allowed memory size of \d+ bytes exhausted/,
    );
    const [n] = await rows(`SELECT claim_id FROM ${T('actions')} WHERE action_id = ?`, [next]);
    expect(Number(n.claim_id)).toBe(0); // released at shutdown, not left for the 5-minute stale-claim reset
    expect(await statusOf(next)).toBe('pending');
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${T('claims')}`))[0].n)).toBe(0);
  });
});

describe('wp action-scheduler clean and fix-schema', () => {
  beforeEach(emptyQueue);

  test('clean: a bare run deletes every complete and canceled action of any age with its logs, and keeps the rest', async () => {
    const [done, canceled, failed, pending] = enqueue(`
      $ids[] = as_enqueue_async_action('sidecar_test_noop', array('done'));
      $ids[] = as_schedule_single_action(time() + 60, 'sidecar_test_noop', array('cancel'));
      $ids[] = as_enqueue_async_action('sidecar_test_throw');
      $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('wait'));`);
    expect(wp(PREFIX, ['action-scheduler', 'run']).code).toBe(0);
    // Cancelled only now: `run` starts with a cleaner pass, which deletes a never-run cancelled action at once.
    php(PREFIX, `as_unschedule_action('sidecar_test_noop', array('cancel'));`);
    expect(await statusOf(canceled)).toBe('canceled');
    const r = wp(PREFIX, ['action-scheduler', 'clean']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Success: 2 actions deleted.');
    const ours = `FROM ${T('actions')} WHERE hook LIKE 'sidecar\\_test\\_%'`;
    const left = (await rows(`SELECT action_id ${ours} ORDER BY action_id`)).map((x: any) => Number(x.action_id));
    expect(left).toEqual([failed, pending]);
    expect(
      Number((await rows(`SELECT COUNT(*) AS n FROM ${T('logs')} WHERE action_id IN (?, ?)`, [done, canceled]))[0].n),
    ).toBe(0);
    expect(wp(PREFIX, ['action-scheduler', 'clean', '--status=failed']).stdout).toContain('Success: 1 action deleted.');
    expect((await rows(`SELECT action_id ${ours}`)).map((x: any) => Number(x.action_id))).toEqual([pending]);
  });

  test('clean --before keeps rows finished after the date; --batch-size with --batches bounds a run', async () => {
    enqueue(`for ($i = 0; $i < 5; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array($i)); }`);
    expect(wp(PREFIX, ['action-scheduler', 'run']).code).toBe(0);
    expect(wp(PREFIX, ['action-scheduler', 'clean', '--before=1 day ago']).stdout).toBe('0 batches processed.\n'); // The library's output when nothing is old enough.
    expect(wp(PREFIX, ['action-scheduler', 'clean', '--batch-size=2', '--batches=1']).stdout).toContain(
      'Success: 2 actions deleted.',
    );
    expect(
      Number((await rows(`SELECT COUNT(*) AS n FROM ${T('actions')} WHERE hook = 'sidecar_test_noop'`))[0].n),
    ).toBe(3);
  });

  test('fix-schema recreates a dropped table; nothing in the others is lost', async () => {
    const [id] = enqueue(`$ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('keep'));`);
    await rows(`DROP TABLE ${T('logs')}`);
    const r = wp(PREFIX, ['action-scheduler', 'fix-schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Success:');
    expect(await rows(`SHOW TABLES LIKE '${T('logs')}'`)).toHaveLength(1);
    expect(await statusOf(id)).toBe('pending');
  });
});

test('wp sidecar-scheduler status reports the counts the tables hold', async () => {
  await emptyQueue();
  enqueue(
    `$ids[] = as_enqueue_async_action('sidecar_test_throw'); $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop'); $ids[] = as_schedule_single_action(time() - 600, 'sidecar_test_noop', array('late'));`,
  );
  const json = wp(PREFIX, ['sidecar-scheduler', 'status', '--format=json']);
  expect(json.code).toBe(0);
  const data = JSON.parse(json.stdout.trim());
  // The plugin keeps its own daily housekeeping action (action_scheduler_ensure_recurring_actions) queued as well.
  const inDb = Object.fromEntries(
    (await rows(`SELECT status, COUNT(*) AS n FROM ${T('actions')} GROUP BY status`)).map((r: any) => [
      r.status,
      Number(r.n),
    ]),
  );
  expect(data.counts.pending).toBe(inDb.pending);
  expect(inDb.pending).toBeGreaterThanOrEqual(3);
  expect(data.pastDue.count).toBe(2); // the async action and the late one; not the future one, nor the daily one
  expect(data.mode).toBe('standalone');
  const table = wp(PREFIX, ['sidecar-scheduler', 'status']);
  expect(table.stdout).toMatch(new RegExp(`pending\\s+${inDb.pending}\\n`));
  expect(table.stdout).toContain('past-due: 2; sidecars alive: 0; mode: standalone');
  expect(table.stderr).toBe(''); // no notices from WP-CLI or its dependencies
});

describe('the sidecar on the wp-cli channel', () => {
  beforeEach(emptyQueue);

  test('2,000 actions run exactly once by 2 sidecars with 2 WP-CLI workers each', async () => {
    enqueue(
      `for ($i = 0; $i < 2000; $i++) { as_enqueue_async_action('sidecar_test_count', array(1000000 + $i), 'wpcli'); }`,
    );
    const sidecars = [0, 1].map(() => startSidecar(PREFIX, [...WP_CLI, '--once', '--workers=2', '--batch-size=50']));
    const codes = await Promise.all(sidecars.map((s) => exited(s)));
    if (codes.some((c) => c !== 0)) console.log(sidecars.map((s) => s.output.join('')).join('\n'));
    expect(codes).toEqual([0, 0]);
    const [c] = await rows(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN 1000000 AND 1001999`,
    );
    expect([Number(c.n), Number(c.d)]).toEqual([2000, 2000]);
    const [s] = await rows(
      `SELECT SUM(status = 'complete') AS done, SUM(claim_id <> 0) AS claimed FROM ${T('actions')}`,
    );
    expect([Number(s.done), Number(s.claimed)]).toEqual([2000, 0]);
    expect(sidecars[0].output.join('')).toMatch(/"channel":"wp-cli"/);
    // The workers were WP-CLI processes: the pids that ran actions are not the sidecars' and ran many actions each.
    const perPid = await rows(
      `SELECT pid, COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 1000000 AND 1001999 GROUP BY pid`,
    );
    expect(perPid.length).toBeGreaterThanOrEqual(2);
    expect(perPid.length).toBeLessThanOrEqual(4);
  });

  test('kill -9 of a WP-CLI worker mid-action fails that action with the library message; the rest run once', async () => {
    const [sleeper] = enqueue(
      `$ids[] = as_enqueue_async_action('sidecar_test_sleep', array(20), '', false, 1); for ($i = 0; $i < 5; $i++) { as_enqueue_async_action('sidecar_test_count', array(1100000 + $i), '', false, 2); }`,
    );
    const s = startSidecar(PREFIX, [...WP_CLI, '--workers=1']);
    try {
      await eventually(
        () => statusOf(sleeper),
        (st) => st === 'in-progress',
        60000,
        50,
      );
      const worker = String(laneWorkerPids(s.pid!)[0]);
      expect(execFileSync('ps', ['-o', 'args=', '-p', worker], { encoding: 'utf8' })).toMatch(
        /wp-cli.*sidecar-scheduler work/,
      );
      process.kill(Number(worker), 'SIGKILL');
      await waitFor(
        async () =>
          Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 1100000 AND 1100004`))[0].n) === 5,
        60000,
      );
    } finally {
      s.kill('SIGTERM');
      expect(await exited(s, 30000)).toBe(0);
    }
    expect(await statusOf(sleeper)).toBe('failed');
    expect((await logsOf(sleeper)).pop()).toMatch(
      /^action marked as failed after \d+ seconds\. Unknown error occurred\. Check server, PHP and database error logs to diagnose cause\.$/,
    );
    const [c] = await rows(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN 1100000 AND 1100004`,
    );
    expect([Number(c.n), Number(c.d)]).toEqual([5, 5]);
  });

  test('a PHP fatal inside a WP-CLI worker fails the action as an unexpected shutdown; the worker is replaced', async () => {
    const [fatal] = enqueue(
      `$ids[] = as_enqueue_async_action('sidecar_test_fatal', array(), '', false, 1); for ($i = 0; $i < 3; $i++) { as_enqueue_async_action('sidecar_test_count', array(1200000 + $i), '', false, 2); }`,
    );
    const s = startSidecar(PREFIX, [...WP_CLI, '--once', '--workers=1']);
    expect(await exited(s)).toBe(0);
    expect(await statusOf(fatal)).toBe('failed');
    expect((await logsOf(fatal)).join('|')).toMatch(
      /unexpected shutdown: PHP Fatal error Allowed memory size of \d+ bytes exhausted/,
    );
    expect(
      Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 1200000 AND 1200002`))[0].n),
    ).toBe(3);
  });

  test('--channel=auto picks wp-cli when `wp` is on PATH, and php when it is not', async () => {
    enqueue(`$ids[] = as_enqueue_async_action('sidecar_test_noop', array('auto'));`);
    const withWp = startSidecar(PREFIX, ['--channel=auto', '--once'], {
      PATH: `${dirname(WP_BIN)}:${process.env.PATH}`,
    });
    expect(await exited(withWp)).toBe(0);
    expect(withWp.output.join('')).toMatch(/"channel":"wp-cli"/);
    const without = startSidecar(PREFIX, ['--channel=auto', '--once', '--wp-binary=/nonexistent/wp']);
    expect(await exited(without)).toBe(0);
    expect(without.output.join('')).toMatch(/"channel":"php"/);
  });
});
