// Rows both ways: a site that switches from the real Action Scheduler to our plugin and back (and the other way
// round) loses nothing. Actions, groups, claims and logs written by one are read, listed, run and cleaned by the
// other, and pending, recurring and cron chains continue. Plugins are switched as wp-admin does it
// (deactivate_plugins() then activate_plugin(), each in its own request, so each request loads one implementation).
import { join } from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { installSite, php, phpJson, dropPrefix, rows, LIBRARY, OURS, ROOT, linkTestFixtures } from '../helpers/stack';

type Side = 'library' | 'ours';
const PLUGIN: Record<Side, string> = { library: LIBRARY, ours: OURS };
const OBSERVER = JSON.stringify(join(ROOT, 'tests/fixtures/observer.php'));

function active(prefix: string): string[] {
  return phpJson(prefix, `echo json_encode( array_values( get_option( 'active_plugins' ) ) );`);
}

/** wp-admin's way: deactivate in one request (the old plugin's deactivation hooks run), activate in the next. */
function switchTo(prefix: string, from: Side, to: Side) {
  php(
    prefix,
    `require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins( ${JSON.stringify(PLUGIN[from])} );`,
  );
  const r = phpJson(
    prefix,
    `require_once ABSPATH . 'wp-admin/includes/plugin.php'; $r = activate_plugin( ${JSON.stringify(PLUGIN[to])} ); echo json_encode( is_wp_error( $r ) ? $r->get_error_message() : 'activated' );`,
  );
  expect(r).toBe('activated');
  expect(active(prefix)).toEqual([PLUGIN[to]]);
}

/** Which implementation answers in a request of this site. */
function implementation(prefix: string): Side {
  return phpJson(
    prefix,
    `echo json_encode( class_exists( 'ActionScheduler_Versions' ) && ActionScheduler_Versions::instance()->latest_version() && ! defined( 'SIDECAR_SCHEDULER_FILE' ) ? 'library' : ( defined( 'SIDECAR_SCHEDULER_FILE' ) ? 'ours' : 'none' ) );`,
  );
}

/** Runs the due queue in process; returns the observer's callback calls (hook args) made in that request. */
function runQueue(prefix: string): string[] {
  const file = join(tmpdir(), `sidecar-td-switch-${prefix}-${process.pid}.jsonl`);
  rmSync(file, { force: true });
  php(prefix, `ActionScheduler::runner()->run( 'Switch' );`, { SIDECAR_TEST_OBSERVE_FILE: file });
  const calls = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).event)
        .filter((e: [string]) => e[0] === 'callback:sidecar_test_obs_ok')
    : [];
  return calls.map((e: [string, string[]]) => e[1].map((a) => a.replace(/^string:/, '')).join(','));
}

/** What a plugin sees through the API: every action of the test's hooks, its status, schedule, group and logs. */
function view(prefix: string) {
  return phpJson(
    prefix,
    `
    $out = array();
    foreach ( array( 'pending', 'complete', 'failed', 'canceled', 'in-progress' ) as $status ) {
      foreach ( as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_ok', 'status' => $status, 'per_page' => -1, 'orderby' => 'action_id', 'order' => 'ASC' ) ) as $id => $a ) {
        $out[ $id ] = array(
          'status'   => $status,
          'class'    => get_class( $a ),
          'args'     => $a->get_args(),
          'group'    => $a->get_group(),
          'schedule' => serialize( $a->get_schedule() ),
          'claim'    => (int) ActionScheduler::store()->get_claim_id( $id ),
          'logs'     => array_map( function ( $e ) { return $e->get_message(); }, ActionScheduler::logger()->get_logs( $id ) ),
        );
      }
    }
    ksort( $out );
    echo json_encode( array(
      'actions' => $out,
      'next'    => array( as_next_scheduled_action( 'sidecar_test_obs_ok', array( 'recurring' ) ), as_next_scheduled_action( 'sidecar_test_obs_ok', array( 'cron' ) ), as_next_scheduled_action( 'sidecar_test_obs_ok', array( 'later' ), 'switch-group' ) ),
      'grouped' => as_get_scheduled_actions( array( 'group' => 'switch-group', 'status' => '', 'per_page' => -1, 'orderby' => 'action_id', 'order' => 'ASC' ), 'ids' ),
      'store'   => get_class( ActionScheduler::store() ),
    ) );`,
  );
}

/** Writes, on whichever side is active: pending, scheduled, grouped, recurring and cron chains, a claim, a completion. */
function writeFixtures(prefix: string) {
  php(
    prefix,
    `
    require_once ${OBSERVER};
    as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'async' ) );
    as_schedule_single_action( 2000000000, 'sidecar_test_obs_ok', array( 'later' ), 'switch-group' );
    as_schedule_recurring_action( time() - 60, HOUR_IN_SECONDS, 'sidecar_test_obs_ok', array( 'recurring' ), 'switch-group' );
    as_schedule_cron_action( 1735689600, '* * * * *', 'sidecar_test_obs_ok', array( 'cron' ) );
    $done = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'done before the switch' ) );
    ActionScheduler::runner()->process_action( $done, 'Switch' );
    $canceled = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'canceled' ) );
    as_unschedule_action( 'sidecar_test_obs_ok', array( 'canceled' ) );
    // A claim left behind (a runner that died holding it), with an old last attempt so the next cleaner resets it.
    as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'claimed' ), '', false, 0 );
    $claim = ActionScheduler::store()->stake_claim( 1 );
    global $wpdb;
    $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE claim_id = %d", $claim->get_id() ) );
    // An old completion the cleaner deletes, with its logs.
    $old = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'old' ) );
    ActionScheduler::runner()->process_action( $old, 'Switch' );
    $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = %d", $old ) );
  `,
  );
}

/** The successors are due in a minute (cron) and an hour (recurring): moved to the past in their rows, as if that time had come. */
async function makeSuccessorsDue(prefix: string) {
  await rows(
    `UPDATE ${prefix}actionscheduler_actions SET scheduled_date_gmt = '2001-01-01 00:00:00' WHERE status = 'pending' AND args IN ('["cron"]', '["recurring"]')`,
  );
}

describe.each([
  ['library', 'ours'],
  ['ours', 'library'],
] as [Side, Side][])('written by %s, then %s, then back', (first, second) => {
  const prefix = `tds_${first.slice(0, 3)}${process.pid}_`; // per process: concurrent runs of this file would share it
  let before: any;

  beforeAll(async () => {
    linkTestFixtures();
    await dropPrefix(prefix);
    installSite(prefix, [PLUGIN[first]]);
    expect(implementation(prefix)).toBe(first);
    writeFixtures(prefix);
    before = view(prefix);
  });
  afterAll(() => dropPrefix(prefix));

  test(`${second} reads, lists and runs what ${first} wrote`, async () => {
    switchTo(prefix, first, second);
    expect(implementation(prefix)).toBe(second);
    const after = view(prefix);
    // Every action, its status, class, args, group, schedule (byte for byte), claim and logs read the same.
    expect(after.actions).toEqual(before.actions);
    expect(after.next).toEqual(before.next);
    expect(after.grouped).toEqual(before.grouped);
    expect(after.store).toBe('ActionScheduler_DBStore');

    // Run: the cleaner resets the dead claim, deletes the old completion; every due action runs once.
    const calls = runQueue(prefix);
    expect(calls.sort()).toEqual(['async', 'claimed', 'cron', 'recurring'].sort());
    const ran = view(prefix);
    const byArgs = (v: any, args: string) =>
      Object.entries(v.actions).filter(([, a]: any) => a.args.join(',') === args);
    expect(byArgs(ran, 'old')).toEqual([]);
    expect(byArgs(ran, 'claimed').map(([, a]: any) => [a.status, a.claim, a.logs])).toEqual([
      ['complete', 0, ['action created', 'action reset', 'action started via Switch', 'action complete via Switch']],
    ]);
    // The chains continue: one pending successor each, written by this side.
    for (const chain of ['recurring', 'cron']) {
      expect(
        byArgs(ran, chain)
          .map(([, a]: any) => a.status)
          .sort(),
      ).toEqual(['complete', 'pending']);
    }
    expect(byArgs(ran, 'later').map(([, a]: any) => a.status)).toEqual(['pending']);
    expect(byArgs(ran, 'done before the switch').map(([, a]: any) => [a.status, a.logs])).toEqual([
      ['complete', ['action created', 'action started via Switch', 'action complete via Switch']],
    ]);
    before = ran;
  });

  test(`${first} reads, lists and runs what ${second} wrote, and the chains go on`, async () => {
    switchTo(prefix, second, first);
    expect(implementation(prefix)).toBe(first);
    const after = view(prefix);
    expect(after.actions).toEqual(before.actions);
    expect(after.next).toEqual(before.next);
    expect(after.store).toBe('ActionScheduler_DBStore');
    await makeSuccessorsDue(prefix);
    expect(runQueue(prefix).sort()).toEqual(['cron', 'recurring']);
    const ran = view(prefix);
    for (const chain of ['recurring', 'cron']) {
      const states = Object.values(ran.actions)
        .filter((a: any) => a.args.join(',') === chain)
        .map((a: any) => a.status);
      expect(states.sort()).toEqual(['complete', 'complete', 'pending']);
    }
    // Nothing was lost on the way: every action seen before is still there, in the state the runs left it.
    for (const id of Object.keys(before.actions)) expect(ran.actions[id]).toBeDefined();
  });
});
