// Living beside another copy of Action Scheduler (a stand-in that registers itself as the library does, see
// tests/fixtures/as-standin.php): no "Cannot redeclare" whatever the load order, companion mode, the sidecar runs
// the other copy's queue through its own process_action(), and the copy's runners stand down only while a sidecar lives.
import { execFileSync } from 'node:child_process';
import { installSite, php, rows, startSidecar, exited, dropPrefix, DOCROOT } from '../helpers/stack';

const PREFIX = 'tcomp_';
const run = (mode: string, code: string) => php(PREFIX, code, { SIDECAR_TEST_STANDIN: mode });

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  run('mu', `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`);
});

test.each([['mu'], ['late']])('another copy loaded %s: companion mode, no fatal, the API is the other copy\'s', (mode) => {
  const out = run(mode, `echo json_encode(array(SidecarScheduler\\Plugin::mode(), defined('SIDECAR_STANDIN_INITIALIZED'), function_exists('as_enqueue_async_action'), ActionScheduler::is_initialized(), (new ReflectionClass('ActionScheduler'))->getFileName()));`);
  const [mode_, standin, api, ready] = JSON.parse(out.trim().split('\n').pop()!);
  expect([mode_, standin, api, ready]).toEqual(['companion', true, true, true]);
});

test('a theme-bundled copy stays out when Sidecar Scheduler provides the library (standalone, no redeclare)', () => {
  // Loading a theme happens during wp-settings.php; a fatal "Cannot redeclare" would make php exit non-zero.
  const out = run('theme', `echo json_encode(array(SidecarScheduler\\Plugin::mode(), defined('SIDECAR_STANDIN_STAYED_OUT'), defined('SIDECAR_STANDIN_INITIALIZED')));`);
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual(['standalone', true, false]);
});

test('every load order finishes without a PHP fatal', () => {
  for (const mode of ['mu', 'late', 'theme', '']) {
    const out = execFileSync('php', ['-d', 'display_errors=stderr', '-r', `$_SERVER['HTTP_HOST']='127.0.0.1'; require ${JSON.stringify(DOCROOT + '/wp-load.php')}; echo 'ok';`], { env: { ...process.env, WP_TABLE_PREFIX: PREFIX, SIDECAR_TEST_STANDIN: mode }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim().endsWith('ok')).toBe(true);
  }
});

test('the sidecar runs the other copy\'s queue through its process_action()', async () => {
  run('mu', `for ($i = 0; $i < 200; $i++) { as_enqueue_async_action('sidecar_test_count', array(500000 + $i), 'companion'); }`);
  const s = startSidecar(PREFIX, ['--once', '--workers=2'], { SIDECAR_TEST_STANDIN: 'mu' });
  expect(await exited(s)).toBe(0);
  const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${PREFIX}sidecar_test_runs WHERE n >= 500000`);
  expect([Number(c.n), Number(c.d)]).toEqual([200, 200]);
  const [l] = await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs WHERE message = 'action complete via Sidecar'`);
  expect(Number(l.n)).toBe(200);
  expect(s.output.join('')).toMatch(/"mode":"companion"/);
});

test('the other copy\'s WP-Cron and async runners stand down only while a sidecar heartbeat is fresh', async () => {
  const probe = `do_action('init'); echo json_encode(array(has_action('action_scheduler_run_queue', array(ActionScheduler::runner(), 'run')) !== false, apply_filters('action_scheduler_allow_async_request_runner', true)));`;
  await rows(`DELETE FROM ${PREFIX}sidecar_workers`);
  expect(JSON.parse(run('mu', probe).trim().split('\n').pop()!)).toEqual([true, true]);
  await rows(`INSERT INTO ${PREFIX}sidecar_workers (worker_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running) VALUES ('test', 'h', 1, 'v', 'php', 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '[]')`);
  expect(JSON.parse(run('mu', probe).trim().split('\n').pop()!)).toEqual([false, false]);
  await rows(`UPDATE ${PREFIX}sidecar_workers SET last_seen_gmt = UTC_TIMESTAMP() - INTERVAL 5 MINUTE`);
  expect(JSON.parse(run('mu', probe).trim().split('\n').pop()!)).toEqual([true, true]);
  await rows(`DELETE FROM ${PREFIX}sidecar_workers`);
});
