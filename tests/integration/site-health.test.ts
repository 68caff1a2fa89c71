// Site Health: each of the plugin's tests in its good and its bad state on a site of its own, through WordPress's own
// WP_Site_Health::get_tests() (the site_status_tests filter), with a real sidecar for "alive"; and the Info tab's
// section through WP_Debug_Data::debug_data().
import { installSite, php, rows, dropPrefix, wp, startSidecar, exited, eventually } from '../helpers/stack';
import { linkFeatureFixture } from '../helpers/feature-site';

const PREFIX = `h6b${process.pid % 1000}_`;
type Result = [status: string, label: string, description: string];

function health(env: Record<string, string> = {}): Record<string, Result> {
  const out = php(
    PREFIX,
    `require_once ABSPATH . 'wp-admin/includes/class-wp-site-health.php';
    $out = array();
    foreach (WP_Site_Health::get_tests()['direct'] as $k => $t) {
      if (0 === strpos($k, 'sidecar_scheduler_')) { $r = call_user_func($t['test']); $out[substr($k, 18)] = array($r['status'], $r['label'], html_entity_decode(wp_strip_all_tags(str_replace('</p><p>', ' ', $r['description'])), ENT_QUOTES)); }
    }
    echo json_encode($out);`,
    env,
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

function info(): Record<string, { label: string; value: string; debug?: unknown }> {
  const out = php(
    PREFIX,
    `require_once ABSPATH . 'wp-admin/includes/class-wp-debug-data.php'; require_once ABSPATH . 'wp-admin/includes/update.php'; require_once ABSPATH . 'wp-admin/includes/plugin.php'; require_once ABSPATH . 'wp-admin/includes/misc.php';
    $d = WP_Debug_Data::debug_data(); echo json_encode($d['sidecar-scheduler']['fields']);`,
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

beforeAll(async () => {
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

test('a fresh site without a sidecar: the sidecar and runner tests recommend one, the rest are good', () => {
  const h = health();
  expect(Object.keys(h).sort()).toEqual(['cleanup', 'failing', 'indexes', 'past_due', 'runners', 'schema', 'sidecar']);
  expect(h.sidecar.slice(0, 2)).toEqual(['recommended', 'No sidecar is running the scheduled actions']);
  expect(h.runners.slice(0, 2)).toEqual(['recommended', 'The PHP fallback runners process scheduled actions']);
  for (const k of ['past_due', 'failing', 'indexes', 'cleanup', 'schema']) expect([k, h[k][0]]).toEqual([k, 'good']);
  expect(h.past_due[2]).toBe('No action is waiting past its time.');
  const i = info();
  expect(i.sidecars.value).toBe('0');
  expect(i.fallback.debug).toBe('on');
  expect(i.wp_cron.debug).toBe('enabled');
  expect(i.mode.debug).toBe('standalone');
});

test('with DISABLE_WP_CRON and no sidecar, the runner test says actions may not run', () => {
  const h = health({ WP_DISABLE_CRON: '1' });
  expect(h.runners[0]).toBe('recommended');
  expect(h.runners[1]).toBe('WP-Cron is disabled and no sidecar runs: scheduled actions may not run');
  expect(h.runners[2]).toContain('DISABLE_WP_CRON is set');
});

test('past-due actions older than the threshold are critical; a real sidecar makes sidecar, runners and past-due good', async () => {
  php(PREFIX, `for ($i = 0; $i < 3; $i++) { as_schedule_single_action(time() - 900 - $i, 'h6_ok', array($i)); }`);
  let h = health();
  expect(h.past_due.slice(0, 2)).toEqual(['critical', '3 scheduled actions are past due']);
  expect(h.past_due[2]).toMatch(
    /^The oldest has waited 15 minutes past its time \(the warning starts at 5 minutes\)\./,
  );
  expect(h.past_due[2]).toContain('No sidecar runs: start it');
  const sidecar = startSidecar(PREFIX, ['--workers=1'], { SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    await eventually(
      async () =>
        Number(
          (
            await rows(
              `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_ok' AND status = 'complete'`,
            )
          )[0].n,
        ),
      (n) => n === 3,
      60000,
    );
    h = health();
    expect(h.sidecar[0]).toBe('good');
    expect(h.sidecar[1]).toBe('1 sidecar runs the scheduled actions');
    expect(h.sidecar[2]).toMatch(new RegExp(`\\(pid ${sidecar.pid}\\): version 0\\.1\\.0, php channel, 1 workers`));
    expect(h.runners.slice(0, 2)).toEqual(['good', 'The PHP fallback runners stand down while the sidecar runs']);
    expect(h.past_due.slice(0, 3)).toEqual([
      'good',
      'Scheduled actions run on time',
      'No action is waiting past its time.',
    ]);
    const i = info();
    expect(i.sidecars.value).toBe('1');
    expect(i.sidecar_0.debug).toMatch(
      new RegExp(`pid=${sidecar.pid} version=0\\.1\\.0 channel=php workers=1 heartbeat_age=\\d+s`),
    );
    expect(i.fallback.debug).toBe('off');
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});

test('a hook failing 12 of 12 runs in the last hour is named with its error; under 10 failures it is not', () => {
  php(
    PREFIX,
    `for ($i = 0; $i < 9; $i++) { $id = as_enqueue_async_action('h6_fail', array('quota exceeded')); ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );
  expect(health().failing[0]).toBe('good');
  php(
    PREFIX,
    `for ($i = 0; $i < 3; $i++) { $id = as_enqueue_async_action('h6_fail', array('quota exceeded')); ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );
  const h = health();
  expect(h.failing.slice(0, 2)).toEqual(['recommended', '1 hook fails often']);
  expect(h.failing[2]).toBe(
    'h6_fail failed 12 of 12 runs (100%); most often: "quota exceeded" (12×). Open the failing hooks on the queue screen for the error messages, fix the cause, then retry the failed actions there.',
  );
});

test('a missing index is critical, and fix-schema makes it good again', async () => {
  await rows(`ALTER TABLE ${PREFIX}actionscheduler_actions DROP INDEX sidecar_claim`);
  let h = health();
  expect(h.indexes.slice(0, 2)).toEqual(['critical', 'Tables or indexes of the scheduled actions are missing']);
  expect(h.indexes[2]).toMatch(/^Missing: actionscheduler_actions\.sidecar_claim\./);
  const fix = wp(PREFIX, ['action-scheduler', 'fix-schema']);
  expect(fix.code).toBe(0);
  h = health();
  expect(h.indexes[0]).toBe('good');
});

test('finished rows piling up past the retention period: cleanup is behind until they are cleaned', async () => {
  await rows(
    `INSERT INTO ${PREFIX}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, last_attempt_gmt, last_attempt_local, args, schedule, group_id) SELECT 'h6_old', 'complete', UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, CONCAT('[', seq, ']'), 'O:28:"ActionScheduler_NullSchedule":0:{}', 0 FROM seq_1_to_1000`,
  );
  expect(health().cleanup[0]).toBe('good'); // 1,000 is the threshold, not over it.
  await rows(
    `INSERT INTO ${PREFIX}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, last_attempt_gmt, last_attempt_local, args, schedule, group_id) VALUES ('h6_old', 'canceled', UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, UTC_TIMESTAMP() - INTERVAL 40 DAY, '[0]', 'O:28:"ActionScheduler_NullSchedule":0:{}', 0)`,
  );
  const h = health();
  expect(h.cleanup.slice(0, 2)).toEqual(['recommended', 'Cleanup of old actions falls behind']);
  expect(h.cleanup[2]).toContain(
    'More than 1000 actions (complete, canceled) are older than the retention period of 31 days plus a day',
  );
  const clean = wp(PREFIX, ['action-scheduler', 'clean', '--batch-size=2000', '--before=35 days ago']);
  expect(clean.code).toBe(0);
  expect(
    Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_old'`))[0].n),
  ).toBe(0);
  expect(health().cleanup[0]).toBe('good');
});
