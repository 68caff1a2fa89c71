// The sidecar's execution path in both modes: standalone (our Compat classes underneath) and companion (the real
// library, bundled by a plugin loaded after ours, as WooCommerce does). The same crash, kill and SIGTERM scenarios,
// with the same assertions; and hooks of other plugins that write rows of their own, with the worker killed while a
// later hook sleeps: no transaction of ours is open while they run, so their rows survive for every action that is
// complete, and no action is failed that never ran.
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  installSite,
  php,
  rows,
  startSidecar,
  exited,
  dropPrefix,
  waitFor,
  eventually,
  ROOT,
  DOCROOT,
  OURS,
  BUNDLER_AFTER,
  laneWorkerPids,
} from '../helpers/stack';

const MODES = [
  ['standalone', 'tsxs_', [OURS]],
  ['companion', 'tsxc_', [OURS, BUNDLER_AFTER]],
] as const;
const HOOK_ROWS = 'ts_hook_rows';

beforeAll(async () => {
  const mu = join(DOCROOT, 'wp-content/mu-plugins/ts-hook-rows.php');
  if (!existsSync(mu)) symlinkSync(join(ROOT, 'tests/fixtures/hook-rows.php'), mu);
  for (const [, prefix, plugins] of MODES) {
    await dropPrefix(prefix);
    installSite(prefix, [...plugins]);
    php(
      prefix,
      `global $wpdb;
      $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
      $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}${HOOK_ROWS} (id bigint unsigned auto_increment primary key, action_id bigint, hook varchar(40))");`,
    );
  }
});

describe.each(MODES)('%s mode', (mode, PREFIX) => {
  const A = `${PREFIX}actionscheduler_actions`;
  const L = `${PREFIX}actionscheduler_logs`;
  const R = `${PREFIX}sidecar_test_runs`;
  const H = `${PREFIX}${HOOK_ROWS}`;
  const enqueue = (hook: string, count: number, args = '$i', priority = 10): number[] =>
    JSON.parse(
      php(
        PREFIX,
        `$ids = array(); for ($i = 0; $i < ${count}; $i++) { $ids[] = as_enqueue_async_action('${hook}', array(${args}), 'xmode', false, ${priority}); } echo json_encode($ids);`,
      )
        .trim()
        .split('\n')
        .pop()!,
    );
  const runs = async (lo: number, hi: number) => {
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${R} WHERE n BETWEEN ? AND ?`, [lo, hi]);
    return [Number(c.n), Number(c.d)];
  };
  const logsOf = async (id: number) =>
    (await rows(`SELECT message FROM ${L} WHERE action_id = ? ORDER BY log_id`, [id])).map((r: any) => r.message);
  const workerOf = (sidecarPid: number) => laneWorkerPids(sidecarPid)[0];

  beforeEach(() => {
    php(
      PREFIX,
      `global $wpdb; foreach (array('actions', 'logs', 'claims') as $t) { $wpdb->query("DELETE FROM {$wpdb->prefix}actionscheduler_$t"); } $wpdb->query("DELETE FROM {$wpdb->prefix}sidecar_test_runs"); $wpdb->query("DELETE FROM {$wpdb->prefix}${HOOK_ROWS}");`,
    );
  });

  test("the worker runs the sidecar's classes over the loaded library, on the wp-cli channel too", async () => {
    enqueue('sidecar_test_count', 5, '100 + $i');
    const s = startSidecar(PREFIX, [
      '--once',
      '--workers=1',
      '--channel=wp-cli',
      `--wp-binary=${join(ROOT, '.stack/bin/wp')}`,
      '--log-level=debug',
    ]);
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toMatch(/"classes":"sidecar","msg":"php worker ready"/);
    expect(s.output.join('')).not.toMatch(/library's own store and logger classes/);
    expect(await runs(100, 104)).toEqual([5, 5]);
    expect(
      php(
        PREFIX,
        `echo get_class(ActionScheduler::store()) . ' ' . (class_exists('ActionScheduler_Versions', false) ? ActionScheduler_Versions::instance()->latest_version() : '');`,
      )
        .trim()
        .split('\n')
        .pop(),
    ).toBe(mode === 'companion' ? 'ActionScheduler_DBStore 3.8.2' : 'ActionScheduler_DBStore 3.8.2'); // outside the worker: the library's own store
  });

  test('a PHP fatal in an action fails it with "unexpected shutdown" and the worker is replaced', async () => {
    const [fatal] = enqueue('sidecar_test_fatal', 1, '');
    enqueue('sidecar_test_count', 5, '1000 + $i');
    const s = startSidecar(PREFIX, ['--once', '--workers=1']);
    expect(await exited(s)).toBe(0);
    expect((await rows(`SELECT status FROM ${A} WHERE action_id = ?`, [fatal]))[0].status).toBe('failed');
    expect((await logsOf(fatal)).join('|')).toMatch(
      /unexpected shutdown: PHP Fatal error Allowed memory size of \d+ bytes exhausted/,
    );
    expect(await runs(1000, 1004)).toEqual([5, 5]);
  });

  test('kill -9 of a PHP worker in the middle of an action: it fails with the library message, the rest run once', async () => {
    const [sleeper] = enqueue('sidecar_test_sleep', 1, '20', 1);
    enqueue('sidecar_test_count', 5, '2000 + $i', 2);
    const s = startSidecar(PREFIX, ['--workers=1']);
    try {
      await eventually(
        async () => (await rows(`SELECT status FROM ${A} WHERE action_id = ?`, [sleeper]))[0].status,
        (st) => st === 'in-progress',
        60000,
        20,
      );
      process.kill(workerOf(s.pid!), 'SIGKILL');
      await waitFor(async () => (await runs(2000, 2004))[0] === 5, 60000);
    } finally {
      s.kill('SIGTERM');
      expect(await exited(s, 30000)).toBe(0);
    }
    expect((await rows(`SELECT status FROM ${A} WHERE action_id = ?`, [sleeper]))[0].status).toBe('failed');
    expect((await logsOf(sleeper)).pop()).toMatch(
      /^action marked as failed after \d+ seconds\. Unknown error occurred\. Check server, PHP and database error logs to diagnose cause\.$/,
    );
    expect(await runs(2000, 2004)).toEqual([5, 5]);
  });

  test('SIGTERM: the running action finishes, nothing else starts, unstarted work goes back to pending unclaimed', async () => {
    const ids = enqueue('sidecar_test_sleep', 4, '2');
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=10', '--shutdown-timeout-ms=10000']);
    await waitFor(
      async () =>
        Number(
          (await rows(`SELECT COUNT(*) AS n FROM ${A} WHERE hook = 'sidecar_test_sleep' AND status = 'in-progress'`))[0]
            .n,
        ) > 0,
    );
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
    const r = await rows(`SELECT status, claim_id, attempts FROM ${A} WHERE action_id IN (?) ORDER BY action_id`, [
      ids,
    ]);
    expect(r.map((x: any) => x.status).sort()).toEqual(['complete', 'pending', 'pending', 'pending']);
    expect(r.every((x: any) => Number(x.claim_id) === 0)).toBe(true);
    expect(r.filter((x: any) => x.status === 'pending').every((x: any) => Number(x.attempts) === 0)).toBe(true);
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}sidecar_heartbeats`))[0].n)).toBe(0);
  });

  test('kill -9 of the sidecar holding claims: a new sidecar finishes everything after the stale-claim reset', async () => {
    enqueue('sidecar_test_count', 200, '3000 + $i');
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=50']);
    await waitFor(async () => (await runs(3000, 3199))[0] > 10, 60000, 5);
    s.kill('SIGKILL');
    await exited(s);
    php(
      PREFIX,
      `global $wpdb; $wpdb->query("UPDATE {$wpdb->prefix}actionscheduler_actions SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE claim_id <> 0"); for ($i = 0; $i < 10; $i++) { (new ActionScheduler_QueueCleaner())->clean(300); }`,
    );
    const again = startSidecar(PREFIX, ['--once', '--workers=2']);
    expect(await exited(again)).toBe(0);
    const [n, distinct] = await runs(3000, 3199);
    // At most the one action running at the moment of the kill may have run twice (as with the library); none is lost.
    expect(distinct).toBe(200);
    expect(n - distinct).toBeLessThanOrEqual(1);
  });

  test("a plugin that unhooks the logger's routine lines silences them under the sidecar too, start windows included", async () => {
    const env = { SIDECAR_TEST_UNHOOK_LOGGER: '1' };
    const ids = JSON.parse(
      php(
        PREFIX,
        `$ids = array(); for ($i = 0; $i < 200; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_count', array(6000 + $i), 'xmode'); } as_enqueue_async_action('sidecar_test_throw', array(), 'xmode'); echo json_encode($ids);`,
        env,
      )
        .trim()
        .split('\n')
        .pop()!,
    );
    const s = startSidecar(
      PREFIX,
      ['--once', '--workers=2', '--batch-size=20', '--start-window-ms=1000', '--log-level=debug'],
      env,
    );
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toMatch(/"msg":"start window"/);
    expect(await runs(6000, 6199)).toEqual([200, 200]);
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${L} WHERE action_id IN (?)`, [ids]))[0].n)).toBe(0);
    // The lines it did not unhook are still written, by the same logger.
    const [thrower] = await rows(`SELECT action_id FROM ${A} WHERE hook = 'sidecar_test_throw'`);
    expect(await logsOf(thrower.action_id)).toEqual(['action failed via Sidecar: boom from test']);
  });

  // Other plugins' hooks write rows; the worker is killed while a later hook sleeps for action K (in a start window).
  const killWhileHookSleeps = async (on: 'completed_action' | 'before_execute') => {
    enqueue('sidecar_test_count', 20, '4000 + $i', 1); // trains the lane: the claim under test runs in windows
    const batch = enqueue('sidecar_test_count', 10, '5000 + $i', 2);
    const k = batch[4];
    const marker = join(mkdtempSync(join(tmpdir(), 'ts-hook-')), 'sleeping');
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=20', '--start-window-ms=1000', '--log-level=debug'], {
      SIDECAR_TEST_HOOK_ROWS: HOOK_ROWS,
      SIDECAR_TEST_HOOK_SLEEP: `${on}:${k}:${marker}`,
    });
    let atKill: { runsOfK: number; statusOfK: string; failed: number };
    try {
      await waitFor(async () => existsSync(marker) && readFileSync(marker, 'utf8') !== '', 60000, 20);
      await new Promise((r) => setTimeout(r, 200)); // the hook is asleep
      process.kill(Number(readFileSync(marker, 'utf8')), 'SIGKILL');
      atKill = {
        runsOfK: (await runs(5004, 5004))[0],
        statusOfK: (await rows(`SELECT status FROM ${A} WHERE action_id = ?`, [k]))[0].status,
        failed: Number((await rows(`SELECT COUNT(*) AS n FROM ${A} WHERE status = 'failed'`))[0].n),
      };
      await waitFor(
        async () =>
          Number(
            (await rows(`SELECT COUNT(*) AS n FROM ${A} WHERE hook = 'sidecar_test_count' AND status = 'complete'`))[0]
              .n,
          ) === 30,
        60000,
      );
    } finally {
      s.kill('SIGTERM');
      expect(await exited(s, 30000)).toBe(0);
    }
    expect(s.output.join('')).toMatch(/"msg":"start window"/);
    // Every action complete, exactly once, none failed; each with exactly one row from each hook of the other plugin.
    expect(await runs(4000, 5009)).toEqual([30, 30]);
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${A} WHERE status <> 'complete'`))[0].n)).toBe(0);
    const hookRows = await rows(
      `SELECT a.action_id, SUM(h.hook = 'after_execute') AS after_execute, SUM(h.hook = 'completed_action') AS completed FROM ${A} a LEFT JOIN ${H} h ON h.action_id = a.action_id GROUP BY a.action_id`,
    );
    expect(hookRows).toHaveLength(30);
    for (const r of hookRows) expect([Number(r.after_execute), Number(r.completed)]).toEqual([1, 1]);
    for (const id of batch) {
      expect((await rows(`SELECT attempts, claim_id FROM ${A} WHERE action_id = ?`, [id]))[0]).toMatchObject({
        attempts: 1,
        claim_id: 0,
      });
      expect(await logsOf(id)).toEqual(['action created', 'action started via Sidecar', 'action complete via Sidecar']);
    }
    return atKill!;
  };

  test('kill -9 while a completion hook of another plugin sleeps: its rows are there, the action is complete (not failed), the rest run once', async () => {
    const atKill = await killWhileHookSleeps('completed_action');
    expect(atKill).toEqual({ runsOfK: 1, statusOfK: 'in-progress', failed: 0 }); // ran; its completion was held, then settled
  });

  test('kill -9 while a before_execute hook of another plugin sleeps: the action had not started, is not failed, and runs once later', async () => {
    const atKill = await killWhileHookSleeps('before_execute');
    expect(atKill).toMatchObject({ runsOfK: 0, failed: 0 });
    expect(atKill.statusOfK).toBe('in-progress'); // its window's mark, undone by the sidecar (then it runs once)
  });
});
