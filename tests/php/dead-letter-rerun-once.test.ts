// Reviewer R1: re-running a dead letter must make one copy even when two re-runs overlap (two admins, the Retry
// button and `wp sidecar-scheduler dead-letters retry`, a REST request resent). DeadLetters::rerun() reads the dead
// letters, schedules a copy, and only then marks the letter re-run, with no gate: a second re-run that reads the
// letter in between makes a second copy, and the action runs twice. The second re-run is another process, started
// while the first one stores its copy. Standalone mode.
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { installSite, php, rows, dropPrefix, DOCROOT, OURS } from '../helpers/stack';

const P = `r1d_${process.pid % 1000}_`;
const OTHER = `/tmp/r1d_rerun_${process.pid}.php`;

beforeAll(async () => {
  writeFileSync(
    OTHER,
    `<?php $_SERVER['HTTP_HOST'] = '127.0.0.1'; require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))};
$r = SidecarScheduler\\DeadLetter\\DeadLetters::rerun( array( 'ids' => array( (int) $argv[1] ) ) ); echo (int) $r['done'];`,
  );
  await dropPrefix(P);
  installSite(P, [OURS]);
});
afterAll(async () => {
  await dropPrefix(P);
  try {
    unlinkSync(OTHER);
  } catch {
    /* gone */
  }
});

test('two overlapping re-runs of one dead letter make one copy', async () => {
  const dead = Number(
    php(
      P,
      `
    sidecar_scheduler_register_policy( 'r1d_hook', array( 'retries' => 0 ) );
    add_action( 'r1d_hook', function () { throw new RuntimeException( 'r1d fails' ); } );
    $id = as_enqueue_async_action( 'r1d_hook' );
    $claim = ActionScheduler::store()->stake_claim( 10, null, array( 'r1d_hook' ) );
    foreach ( $claim->get_actions() as $a ) { ActionScheduler::runner()->process_action( $a, 'Test' ); }
    ActionScheduler::store()->release_claim( $claim );
    echo $id;`,
    ).trim(),
  );
  expect((await rows(`SELECT dead FROM ${P}sidecar_attempts WHERE action_id = ?`, [dead]))[0].dead).toBe(1);
  const out = php(
    P,
    `
    add_action( 'action_scheduler_stored_action', function () {
      static $once = false;
      if ( ! $once ) { $once = true; echo 'other:' . shell_exec( 'php -d display_errors=stderr ${OTHER} ${dead}' ) . "\\n"; }
    } );
    $r = SidecarScheduler\\DeadLetter\\DeadLetters::rerun( array( 'ids' => array( ${dead} ) ) ); echo 'first:' . (int) $r['done'];`,
  );
  const copies = await rows(
    `SELECT action_id FROM ${P}actionscheduler_actions WHERE hook = 'r1d_hook' AND status = 'pending'`,
  );
  expect(out).toContain('other:'); // the second re-run ran while the first stored its copy
  expect(copies.length).toBe(1);
});
