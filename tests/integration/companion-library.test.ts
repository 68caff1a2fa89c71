// Companion mode beside the REAL Action Scheduler (3.8.2, copied into the stack by scripts/stack.sh), in each load
// order a site meets: the library as a must-use plugin, bundled by a plugin loaded before ours, bundled by a plugin
// loaded after ours (as WooCommerce is), and the library as its own plugin. Every companion behaviour README claims:
// no fatal, mode 'companion', the API and classes are the library's, the sidecar runs the library's queue through the
// library's process_action() exactly once per action, the library's WP-Cron and async runners stand down only while
// a sidecar heartbeat is fresh, the library's own WP-CLI commands and admin screen work beside ours, and our Queue
// Health screen renders. A theme that bundles the library stays out of a site where ours is the library.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installSite,
  php,
  phpJson,
  rows,
  startSidecar,
  exited,
  dropPrefix,
  wp,
  DOCROOT,
  PREFIX_SITE,
  linkTestFixtures,
  LIBRARY,
  OURS,
  BUNDLER_BEFORE,
  BUNDLER_AFTER,
} from '../helpers/stack';
import { adminCookies } from '../helpers/sites';

const LIB_DIR = '/plugins/action-scheduler/';
const ORDERS: [string, string, string[], boolean][] = [
  ['the library as a must-use plugin', `tdm_mu${process.pid}_`, [OURS], true],
  ['a plugin bundling it, loaded before ours', `tdm_bef${process.pid}_`, [BUNDLER_BEFORE, OURS], false],
  ['a plugin bundling it, loaded after ours (as WooCommerce)', `tdm_aft${process.pid}_`, [OURS, BUNDLER_AFTER], false],
  ['the library as its own plugin', `tdm_own${process.pid}_`, [LIBRARY, OURS], false],
];

function whoamiCalls(
  file: string,
): { n: number; runner: string; store: string; api: string; pid: number; storeParent: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).event)
    .filter((e: [string]) => e[0] === 'callback:sidecar_test_obs_whoami')
    .map((e: [string, string[]]) => {
      const [n, runner, store, api, pid, storeParent] = e[1].map((v) => v.replace(/^(int|string):/, ''));
      return { n: Number(n), runner, store, api, pid: Number(pid), storeParent };
    });
}
const observeFile = (name: string) => {
  const f = join(tmpdir(), `sidecar-td-${name}-${process.pid}.jsonl`);
  rmSync(f, { force: true });
  return f;
};

/** Loads WordPress for the prefix in a PHP process that reports every error, warning and notice on stderr, then runs `code`. */
const phpAllErrors = (prefix: string, code: string) =>
  spawnSync(
    'php',
    [
      '-d',
      'display_errors=stderr',
      '-d',
      'error_reporting=-1',
      '-r',
      `$_SERVER['HTTP_HOST']='127.0.0.1'; require ${JSON.stringify(DOCROOT + '/wp-load.php')}; ${code}`,
    ],
    { env: { ...process.env, WP_TABLE_PREFIX: prefix }, encoding: 'utf8' },
  );
async function adminPage(prefix: string, cookies: string, query: string) {
  const res = await fetch(`${PREFIX_SITE}/wp-admin/tools.php?${query}`, {
    headers: { 'X-WP-Table-Prefix': prefix, cookie: cookies },
    redirect: 'manual',
  });
  return { status: res.status, html: await res.text() };
}

describe.each(ORDERS)('beside the real library: %s', (_label, prefix, plugins, mu) => {
  beforeAll(async () => {
    linkTestFixtures();
    await dropPrefix(prefix);
    installSite(prefix, plugins);
    if (mu) php(prefix, `update_option( 'sidecar_test_library_mu', 1 );`);
  });
  afterAll(() => dropPrefix(prefix));

  test("WordPress loads without a PHP error; mode companion; the API, classes and version are the library's", () => {
    const r = phpAllErrors(
      prefix,
      `do_action( 'admin_init' ); echo json_encode( array( SidecarScheduler\\Plugin::mode(), str_replace( WP_CONTENT_DIR, '', ( new ReflectionClass( 'ActionScheduler' ) )->getFileName() ), str_replace( WP_CONTENT_DIR, '', ( new ReflectionFunction( 'as_enqueue_async_action' ) )->getFileName() ), ActionScheduler_Versions::instance()->latest_version(), ActionScheduler::is_initialized(), get_class( ActionScheduler::store() ) ) );`,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Fatal|Warning|Notice|Deprecated|Cannot redeclare/);
    const [mode, classFile, apiFile, version, ready, store] = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect([mode, version, ready, store]).toEqual(['companion', '3.8.2', true, 'ActionScheduler_DBStore']);
    expect(classFile.startsWith(LIB_DIR)).toBe(true);
    expect(apiFile).toBe(`${LIB_DIR}functions.php`);
  });

  test("the sidecar runs the library's queue through the library's process_action(), each action exactly once", async () => {
    php(
      prefix,
      `for ( $i = 0; $i < 40; $i++ ) { as_enqueue_async_action( 'sidecar_test_obs_whoami', array( 1000 + $i ), 'companion' ); }`,
    );
    const file = observeFile(`${prefix}sidecar`);
    const s = startSidecar(prefix, ['--once', '--workers=2'], { SIDECAR_TEST_OBSERVE_FILE: file });
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toMatch(/"mode":"companion"/);
    const calls = whoamiCalls(file);
    expect(calls.map((c) => c.n).sort()).toEqual(Array.from({ length: 40 }, (_, i) => 1000 + i));
    // The library's runner and API; the store is the worker's (plugin/src/Runner/WorkerStore), a subclass of the
    // library's own ActionScheduler_DBStore that changes only how the worker commits (README, "How the sidecar runs").
    expect([...new Set(calls.map((c) => `${c.runner} ${c.api} ${c.storeParent}`))]).toEqual([
      `${LIB_DIR}classes/ActionScheduler_QueueRunner ${LIB_DIR}functions ${LIB_DIR}classes/data-stores/ActionScheduler_DBStore`,
    ]);
    expect(new Set(calls.map((c) => c.store.replace(/^.*\/plugin\//, 'plugin/')))).toEqual(
      new Set(['plugin/src/Runner/WorkerStore']),
    );
    const [l] = await rows(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT l.action_id) AS d FROM ${prefix}actionscheduler_logs l JOIN ${prefix}actionscheduler_actions a USING (action_id) WHERE a.hook = 'sidecar_test_obs_whoami' AND l.message = 'action complete via Sidecar'`,
    );
    expect([Number(l.n), Number(l.d)]).toEqual([40, 40]);
    const [p] = await rows(
      `SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE hook = 'sidecar_test_obs_whoami' AND status <> 'complete'`,
    );
    expect(Number(p.n)).toBe(0);
  });

  test("the library's WP-Cron and async runners stand down only while a sidecar heartbeat is fresh", async () => {
    // Whether the library's runner is still hooked to its WP-Cron event, and whether it would start its async loopback.
    const probe = `echo json_encode( array( false !== has_action( 'action_scheduler_run_queue', array( ActionScheduler::runner(), 'run' ) ), apply_filters( 'action_scheduler_allow_async_request_runner', true ) ) );`;
    await rows(`DELETE FROM ${prefix}sidecar_heartbeats`);
    expect(phpJson(prefix, probe)).toEqual([true, true]);
    await rows(
      `INSERT INTO ${prefix}sidecar_heartbeats (sidecar_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running) VALUES ('td', 'h', 1, 'v', 'php', 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '[]')`,
    );
    expect(phpJson(prefix, probe)).toEqual([false, false]);
    await rows(`UPDATE ${prefix}sidecar_heartbeats SET last_seen_gmt = UTC_TIMESTAMP() - INTERVAL 5 MINUTE`);
    expect(phpJson(prefix, probe)).toEqual([true, true]);
    await rows(`DELETE FROM ${prefix}sidecar_heartbeats`);
  });

  test("the library's own `wp action-scheduler run` and `clean` work beside ours, and so does `wp sidecar-scheduler status`", async () => {
    php(
      prefix,
      `for ( $i = 0; $i < 3; $i++ ) { as_enqueue_async_action( 'sidecar_test_obs_whoami', array( 2000 + $i ), 'cli' ); }`,
    );
    const file = observeFile(`${prefix}cli`);
    const run = wp(prefix, ['action-scheduler', 'run', '--group=cli'], { SIDECAR_TEST_OBSERVE_FILE: file });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Found 3 scheduled tasks/);
    expect(run.stdout.match(/Completed processing action \d+ with hook: sidecar_test_obs_whoami/g)).toHaveLength(3);
    // The library's own last lines (its final count says 0 here: that is how 3.8.2 counts, and ours prints the same).
    expect(run.stdout).toMatch(/1 batch executed\.\nSuccess: 0 scheduled tasks completed\./);
    const calls = whoamiCalls(file);
    expect(calls.map((c) => c.n).sort()).toEqual([2000, 2001, 2002]);
    // The library's classes throughout (its WP-CLI runner calls the process_action() it inherits; 'via WP CLI' below).
    expect(new Set(calls.map((c) => `${c.runner} ${c.store} ${c.api}`))).toEqual(
      new Set([
        `${LIB_DIR}classes/ActionScheduler_QueueRunner ${LIB_DIR}classes/data-stores/ActionScheduler_DBStore ${LIB_DIR}functions`,
      ]),
    );
    const [l] = await rows(
      `SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_logs WHERE message = 'action complete via WP CLI'`,
    );
    expect(Number(l.n)).toBe(3);
    // The library's clean: a bare `clean` removes every complete or canceled row whatever its age.
    const clean = wp(prefix, ['action-scheduler', 'clean']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/\d+ batch(es)? processed\.\nSuccess: 43 actions deleted\./); // 40 by the sidecar, 3 by `run`.
    const [c] = await rows(`SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE status = 'complete'`);
    expect(Number(c.n)).toBe(0);
    const status = wp(prefix, ['sidecar-scheduler', 'status', '--format=json']);
    expect(status.code).toBe(0);
    expect(() => JSON.parse(status.stdout)).not.toThrow();
  });

  test("as admin over HTTP: the library's Tools › Scheduled Actions lists its actions, our Tools › Queue Health renders", async () => {
    php(prefix, `as_schedule_single_action( 2000000000, 'td_companion_visible_hook' );`);
    const cookies = await adminCookies(prefix);
    const theirs = await adminPage(prefix, cookies, 'page=action-scheduler&status=pending');
    expect(theirs.status).toBe(200);
    expect(theirs.html).toMatch(/class="wp-list-table/);
    expect(theirs.html).toContain('td_companion_visible_hook');
    expect(theirs.html).not.toMatch(/Fatal error|critical error/i);
    const ours = await adminPage(prefix, cookies, 'page=sidecar-queue-health');
    expect(ours.status).toBe(200);
    expect(ours.html).toContain('id="sidecar-scheduler-root"');
    expect(ours.html).toMatch(/sidecar-scheduler\/build\/index\.js/);
    expect(ours.html).not.toMatch(/Fatal error|critical error/i);
  });
});

describe('a theme bundling the real library, on a site where ours is the library', () => {
  const prefix = `tdm_thm${process.pid}_`;
  beforeAll(async () => {
    linkTestFixtures();
    await dropPrefix(prefix);
    installSite(prefix, [OURS]);
    php(prefix, `update_option( 'template', 'twentytwentyfour' ); update_option( 'stylesheet', 'td-as-theme' );`);
  });
  afterAll(() => dropPrefix(prefix));

  test("the theme's copy stays out: no redeclare, no error, ours stays standalone and answers the API", () => {
    const r = phpAllErrors(
      prefix,
      `echo json_encode( array( get_stylesheet(), function_exists( 'action_scheduler_register_3_dot_8_dot_2' ), SidecarScheduler\\Plugin::mode(), str_replace( WP_CONTENT_DIR, '', ( new ReflectionClass( 'ActionScheduler' ) )->getFileName() ), as_enqueue_async_action( 'td_theme_probe' ) > 0 ) );`,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Fatal|Warning|Notice|Deprecated|Cannot redeclare/);
    const [theme, libraryFileLoaded, mode, classFile, enqueued] = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect([theme, libraryFileLoaded, mode, enqueued]).toEqual(['td-as-theme', true, 'standalone', true]);
    expect(classFile.startsWith(LIB_DIR)).toBe(false);
  });
});
