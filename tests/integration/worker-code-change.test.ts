// Issue 13 item 1: workers notice a change of what WordPress would load and are replaced before they run anything,
// and a long-lived worker that finds no callback hands the action to a fresh worker instead of failing it.
import { existsSync, lstatSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, DOCROOT, installSite, php, rows, startSidecar, exited, dropPrefix, eventually } from '../helpers/stack';

const MU_DIR = join(DOCROOT, 'wp-content/mu-plugins');

/** A must-use plugin body that acts only on sites whose prefix is `prefix` (other helpers' sites are unaffected). */
const guarded = (prefix: string, body: string) =>
  `<?php\nif ( '${prefix}' === $GLOBALS['wpdb']->prefix ) {\n${body}\n}\n`;
const recorder = (hook: string, tag: string) =>
  `add_action( '${hook}', function ( $n ) { global $wpdb; $wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->prefix}tw_runs (n, pid, tag) VALUES (%d, %d, '${tag}')", $n, getmypid() ) ); } );`;

async function site(prefix: string) {
  await dropPrefix(prefix);
  installSite(prefix);
  await rows(
    `CREATE TABLE ${prefix}tw_runs (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL, pid INT NOT NULL, tag VARCHAR(20) NOT NULL)`,
  );
}
const enqueue = (prefix: string, hook: string, from: number, count: number): number[] =>
  JSON.parse(
    php(
      prefix,
      `$ids = array(); for ($i = ${from}; $i < ${from + count}; $i++) { $ids[] = as_enqueue_async_action('${hook}', array($i)); } echo json_encode($ids);`,
    )
      .trim()
      .split('\n')
      .pop()!,
  );
const statuses = async (prefix: string, hook: string) => {
  const r = await rows(
    `SELECT status, COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE hook = ? GROUP BY status`,
    [hook],
  );
  return Object.fromEntries(r.map((x: any) => [x.status, Number(x.n)])) as Record<string, number>;
};
const settled = (count: number) => (s: Record<string, number>) => (s.complete ?? 0) + (s.failed ?? 0) >= count;
async function ready(s: ReturnType<typeof startSidecar>) {
  await eventually(
    async () => s.output.join(''),
    (o) => /"msg":"ready"/.test(o),
    60000,
    100,
  );
}
async function stop(s: ReturnType<typeof startSidecar>) {
  s.kill('SIGTERM');
  expect(await exited(s, 30000)).toBe(0);
}
/** Every action of `hook` ran exactly once (one row per n) and is complete, none failed. */
async function expectExactlyOnce(prefix: string, hook: string, from: number, count: number, tag: string) {
  expect(await statuses(prefix, hook)).toEqual({ complete: count });
  const [c] = await rows(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${prefix}tw_runs WHERE tag = ? AND n BETWEEN ? AND ?`,
    [tag, from, from + count - 1],
  );
  expect([Number(c.n), Number(c.d)]).toEqual([count, count]);
  const [a] = await rows(
    `SELECT MAX(attempts) AS hi, MIN(attempts) AS lo FROM ${prefix}actionscheduler_actions WHERE hook = ?`,
    [hook],
  );
  expect([Number(a.hi), Number(a.lo)]).toEqual([1, 1]);
}

test('a mu-plugin dropped in under a live sidecar: all its actions complete exactly once, none failed', async () => {
  const P = 'twmu_';
  await site(P);
  const file = join(MU_DIR, 'tw-late-mu.php');
  const s = startSidecar(P, ['--workers=2', '--batch-size=10']);
  try {
    await ready(s);
    // The long-lived workers have booted (and run something) before the plugin exists.
    enqueue(P, 'delete_expired_transients', 0, 4);
    await eventually(() => statuses(P, 'delete_expired_transients'), settled(4), 60000);
    writeFileSync(file, guarded(P, recorder('tw_late_mu_hook', 'mu')));
    enqueue(P, 'tw_late_mu_hook', 1, 200);
    await eventually(() => statuses(P, 'tw_late_mu_hook'), settled(200), 120000);
  } finally {
    if (existsSync(file)) unlinkSync(file);
    await stop(s);
  }
  await expectExactlyOnce(P, 'tw_late_mu_hook', 1, 200, 'mu');
  expect(s.output.join('')).toMatch(/what WordPress loads changed; replacing worker/);
});

test('a plugin activated for the site under a live sidecar: all its actions complete exactly once, none failed', async () => {
  const P = 'twplug_';
  await site(P);
  const link = join(DOCROOT, 'wp-content/plugins/tw-late-plugin');
  try {
    lstatSync(link);
  } catch {
    symlinkSync(join(ROOT, 'tests/fixtures/plugins/tw-late-plugin'), link);
  }
  const s = startSidecar(P, ['--workers=2', '--batch-size=10']);
  try {
    await ready(s);
    enqueue(P, 'delete_expired_transients', 0, 4);
    await eventually(() => statuses(P, 'delete_expired_transients'), settled(4), 60000);
    expect(
      php(
        P,
        `require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin('tw-late-plugin/tw-late-plugin.php'); echo is_wp_error($r) ? $r->get_error_message() : 'ok';`,
      )
        .trim()
        .split('\n')
        .pop(),
    ).toBe('ok');
    enqueue(P, 'tw_late_plugin_hook', 1, 200);
    await eventually(() => statuses(P, 'tw_late_plugin_hook'), settled(200), 120000);
  } finally {
    await stop(s);
    try {
      unlinkSync(link);
    } catch {
      /* already gone */
    }
  }
  await expectExactlyOnce(P, 'tw_late_plugin_hook', 1, 200, 'plugin');
  expect(s.output.join('')).toMatch(/what WordPress loads changed; replacing worker/);
});

test('an edited file takes effect before the next action', async () => {
  const P = 'twedit_';
  await site(P);
  const file = join(MU_DIR, 'tw-edit-mu.php');
  writeFileSync(file, guarded(P, recorder('tw_edit_hook', 'v1')));
  const s = startSidecar(P, ['--workers=1']);
  try {
    await ready(s);
    enqueue(P, 'tw_edit_hook', 1, 1);
    await eventually(() => statuses(P, 'tw_edit_hook'), settled(1), 60000);
    // A different length: the change is seen even within the second the worker booted in (mtimes are whole seconds).
    writeFileSync(file, guarded(P, recorder('tw_edit_hook', 'version2')));
    enqueue(P, 'tw_edit_hook', 2, 1);
    await eventually(() => statuses(P, 'tw_edit_hook'), settled(2), 60000);
  } finally {
    if (existsSync(file)) unlinkSync(file);
    await stop(s);
  }
  expect(await rows(`SELECT n, tag FROM ${P}tw_runs ORDER BY n`)).toEqual([
    { n: 1, tag: 'v1' },
    { n: 2, tag: 'version2' },
  ]);
  expect(await statuses(P, 'tw_edit_hook')).toEqual({ complete: 2 });
});

test('a file edited while a claim runs: the worker stops within a second and the rest of the claim runs the new code on a fresh worker', async () => {
  const P = 'twmid_';
  await site(P);
  const file = join(MU_DIR, 'tw-mid-mu.php');
  const slow = (tag: string) =>
    `add_action( 'tw_mid_hook', function ( $n ) { global $wpdb; $wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->prefix}tw_runs (n, pid, tag) VALUES (%d, %d, '${tag}')", $n, getmypid() ) ); usleep( 300000 ); } );`;
  writeFileSync(file, guarded(P, slow('old')));
  const s = startSidecar(P, ['--workers=1', '--batch-size=12', '--start-window-ms=0']);
  let ranBeforeEdit = 0;
  try {
    await ready(s);
    enqueue(P, 'tw_mid_hook', 1, 12); // one claim, 3.6 s of work
    await eventually(
      async () => Number((await rows(`SELECT COUNT(*) AS n FROM ${P}tw_runs`))[0].n),
      (n) => n >= 1,
      60000,
      20,
    );
    ranBeforeEdit = Number((await rows(`SELECT COUNT(*) AS n FROM ${P}tw_runs`))[0].n);
    writeFileSync(file, guarded(P, slow('new-code')));
    await eventually(() => statuses(P, 'tw_mid_hook'), settled(12), 60000);
  } finally {
    if (existsSync(file)) unlinkSync(file);
    await stop(s);
  }
  await expect(statuses(P, 'tw_mid_hook')).resolves.toEqual({ complete: 12 });
  const runs = await rows(`SELECT n, tag FROM ${P}tw_runs ORDER BY n`);
  expect(runs.map((r: any) => r.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // each once
  // Old code only until the first check after the edit, new code from then on. Checks come at most a second apart and
  // each action takes 0.3 s: after the edit, at most the running action and 4 more (1.2 s of them) ran old code.
  const firstNew = runs.findIndex((r: any) => r.tag === 'new-code');
  expect(firstNew).toBeGreaterThan(0);
  expect(runs.slice(firstNew).every((r: any) => r.tag === 'new-code')).toBe(true);
  expect(firstNew).toBeLessThanOrEqual(ranBeforeEdit + 4);
  expect(s.output.join('')).toMatch(/what WordPress loads changed; replacing worker before it runs anything more/);
});

test("a deploy that adds a file to an active plugin: the worker is replaced (its folder changed) before the new hook's actions run", async () => {
  const P = 'twdep_';
  await site(P);
  const dir = join(ROOT, 'tests/fixtures/plugins/tw-deploy-plugin');
  const link = join(DOCROOT, 'wp-content/plugins/tw-deploy-plugin');
  const extra = join(dir, 'extra.php');
  try {
    lstatSync(link);
  } catch {
    symlinkSync(dir, link);
  }
  expect(
    php(
      P,
      `require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin('tw-deploy-plugin/tw-deploy-plugin.php'); echo is_wp_error($r) ? $r->get_error_message() : 'ok';`,
    )
      .trim()
      .split('\n')
      .pop(),
  ).toBe('ok');
  const s = startSidecar(P, ['--workers=1']);
  try {
    await ready(s);
    enqueue(P, 'delete_expired_transients', 0, 2);
    await eventually(() => statuses(P, 'delete_expired_transients'), settled(2), 60000);
    writeFileSync(extra, `<?php\n${recorder('tw_deploy_hook', 'deploy')}\n`);
    enqueue(P, 'tw_deploy_hook', 1, 20);
    await eventually(() => statuses(P, 'tw_deploy_hook'), settled(20), 60000);
  } finally {
    if (existsSync(extra)) unlinkSync(extra);
    await stop(s);
    try {
      unlinkSync(link);
    } catch {
      /* already gone */
    }
  }
  await expectExactlyOnce(P, 'tw_deploy_hook', 1, 20, 'deploy');
  const why = s.output
    .join('')
    .split('\n')
    .filter((l) => l.includes('what WordPress loads changed'))
    .map((l) => JSON.parse(l).why);
  expect(why[0]).toMatch(/^changed on disk: .*tw-deploy-plugin$/); // the folder, not a hand-back
  expect(s.output.join('')).not.toMatch(/handing it to a fresh worker/);
});

test('a callback the long-lived worker lacks (registered from an option it read at boot) is handed to a fresh worker, which runs it', async () => {
  const P = 'twhand_';
  await site(P);
  const file = join(MU_DIR, 'tw-hand-mu.php');
  // The file never changes: only a fresh boot sees the option, so only the hand-back can run these.
  writeFileSync(file, guarded(P, `if ( get_option( 'tw_hand_on' ) ) { ${recorder('tw_hand_hook', 'hand')} }`));
  const s = startSidecar(P, ['--workers=1', '--batch-size=10']);
  try {
    await ready(s);
    enqueue(P, 'delete_expired_transients', 0, 3);
    await eventually(() => statuses(P, 'delete_expired_transients'), settled(3), 60000);
    php(P, `update_option('tw_hand_on', 1);`);
    enqueue(P, 'tw_hand_hook', 1, 30);
    await eventually(() => statuses(P, 'tw_hand_hook'), settled(30), 120000);
  } finally {
    if (existsSync(file)) unlinkSync(file);
    await stop(s);
  }
  await expectExactlyOnce(P, 'tw_hand_hook', 1, 30, 'hand');
  // Handed back without a start: no log line of any handing-back worker, only the fresh worker's started/completed.
  const [l] = await rows(
    `SELECT COUNT(*) AS n FROM ${P}actionscheduler_logs l JOIN ${P}actionscheduler_actions a USING (action_id) WHERE a.hook = 'tw_hand_hook'`,
  );
  expect(Number(l.n)).toBe(30 * 3); // created, started, completed
  expect(s.output.join('')).toMatch(
    /no callback for the action's hook in this long-lived worker; handing it to a fresh worker/,
  );
});

test('a hook with no callback anywhere still fails with the library message, once, by a fresh worker', async () => {
  const P = 'twnone_';
  await site(P);
  const s = startSidecar(P, ['--workers=1']);
  let id = 0;
  try {
    await ready(s);
    enqueue(P, 'delete_expired_transients', 0, 3);
    await eventually(() => statuses(P, 'delete_expired_transients'), settled(3), 60000);
    [id] = enqueue(P, 'tw_no_callback_anywhere', 1, 1);
    await eventually(() => statuses(P, 'tw_no_callback_anywhere'), settled(1), 60000);
  } finally {
    await stop(s);
  }
  const [a] = await rows(`SELECT status, attempts FROM ${P}actionscheduler_actions WHERE action_id = ?`, [id]);
  expect(a).toEqual({ status: 'failed', attempts: 1 });
  const logs = (
    await rows(`SELECT message FROM ${P}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id])
  ).map((r: any) => r.message);
  expect(logs).toEqual([
    'action created',
    'action started via Sidecar',
    'action failed via Sidecar: Scheduled action for tw_no_callback_anywhere will not be executed as no callbacks are registered.',
  ]);
  // The long-lived worker handed it back; the fresh one (booted after the claim) is the one that failed it.
  expect(s.output.join('').match(/handing it to a fresh worker/g)?.length).toBe(1);
});
