// Reviewer R1: a retry policy must not run an action twice when the library's cleaner fails it for its time limit
// while it is still running and it then completes (the library's completion is an UPDATE by ID: the row ends
// "complete", as with the library). The library runs the callback once; with a retry policy the copy scheduled on
// action_scheduler_failed_action runs it a second time. The cleaner runs in a process of its own, during the callback,
// after the test's clock has aged the row past the failure period. Both modes.
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { installSite, php, rows, dropPrefix, DOCROOT, OURS, BUNDLER_AFTER } from '../helpers/stack';

const base = (k: string) => `r1a${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('s'), companion: base('c') } as const;
const CLEANER = `/tmp/r1a_cleaner_${process.pid}.php`;

beforeAll(async () => {
  writeFileSync(
    CLEANER,
    `<?php $_SERVER['HTTP_HOST'] = '127.0.0.1'; require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))};
sidecar_scheduler_register_policy( 'r1a_slow', array( 'retries' => 1, 'delays' => array( 0 ) ) ); // as every process of the site registers it
( new ActionScheduler_QueueCleaner() )->mark_failures( 300 ); echo 'cleaned';`,
  );
  for (const p of Object.values(SITES)) await dropPrefix(p);
  installSite(SITES.standalone, [OURS]);
  installSite(SITES.companion, [OURS, BUNDLER_AFTER]);
  for (const p of Object.values(SITES)) await rows(`CREATE TABLE IF NOT EXISTS ${p}r1a_runs (id int)`);
});
afterAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
  try {
    unlinkSync(CLEANER);
  } catch {
    /* gone */
  }
});

// Registers the callback and the policy (one retry, no delay), then claims and runs what is due, as a runner does.
const runDue = (first: string) => `
  global $wpdb;
  sidecar_scheduler_register_policy( 'r1a_slow', array( 'retries' => 1, 'delays' => array( 0 ) ) );
  add_action( 'r1a_slow', function () use ( $wpdb ) {
    $wpdb->query( "INSERT INTO {$wpdb->prefix}r1a_runs (id) VALUES (1)" );
    if ( 1 === (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->prefix}r1a_runs" ) ) {
      // A long run: the test's clock moves past the failure period, and the cleaner runs elsewhere meanwhile.
      $wpdb->query( "UPDATE {$wpdb->actionscheduler_actions} SET last_attempt_gmt = UTC_TIMESTAMP() - INTERVAL 1 HOUR WHERE hook = 'r1a_slow' AND status = 'in-progress'" );
      echo 'cleaner:' . shell_exec( 'php -d display_errors=stderr ${CLEANER}' ) . "\\n";
    }
  } );
  ${first}
  $claim = ActionScheduler::store()->stake_claim( 10, null, array( 'r1a_slow' ) );
  foreach ( $claim->get_actions() as $id ) { ActionScheduler::runner()->process_action( $id, 'Test' ); }
  ActionScheduler::store()->release_claim( $claim );
  echo count( $claim->get_actions() );`;

test.each(Object.entries(SITES))(
  '%s: an action the cleaner timed out while it ran, then completed, runs once (no retry copy runs it again)',
  async (_mode, prefix) => {
    const out = php(prefix, runDue(`as_enqueue_async_action( 'r1a_slow' );`));
    expect(out).toContain('cleaner:cleaned');
    const [orig] = await rows(
      `SELECT status FROM ${prefix}actionscheduler_actions WHERE hook = 'r1a_slow' ORDER BY action_id LIMIT 1`,
    );
    expect(orig.status).toBe('complete'); // the late completion, as the library writes it
    const copies = await rows(
      `SELECT action_id, status FROM ${prefix}actionscheduler_actions WHERE hook = 'r1a_slow' ORDER BY action_id`,
    );
    // The next runner pass: the library would find nothing to run.
    php(prefix, runDue(''));
    expect((await rows(`SELECT id FROM ${prefix}r1a_runs`)).length).toBe(1);
    expect(copies.length).toBe(1); // no copy of an action that completed
  },
);
