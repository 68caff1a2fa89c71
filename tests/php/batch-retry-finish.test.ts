// Reviewer R1: a batch whose last item fails under a retry policy must not be finished (and its completion hook fired)
// before the retry copy exists. The failed row is written before action_scheduler_failed_execution's listeners run,
// and the copy is inserted by one of them (Retries, priority 20); a progress read or another runner's sweep in
// between (another process: the admin's Batches card polls every 5 s, every sidecar sweeps after each claim) sees no
// open item, finishes the batch and fires sidecar_scheduler_batch_complete; the copy then runs in a finished batch.
// The other process is started from a listener between the two (priority 15). Standalone mode.
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { installSite, php, dropPrefix, DOCROOT, OURS } from '../helpers/stack';

const P = `r1c_${process.pid % 1000}_`;
const READER = `/tmp/r1c_progress_${process.pid}.php`;

beforeAll(async () => {
  // Another process reading the batch's progress (as GET /batches/{id} does); it records the hook if it fires there.
  writeFileSync(
    READER,
    `<?php $_SERVER['HTTP_HOST'] = '127.0.0.1'; require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))};
sidecar_scheduler_register_policy( 'r1c_item', array( 'retries' => 1, 'delays' => array( 60 ) ) ); // the site's plugin registers it in every process
add_action( 'sidecar_scheduler_batch_complete', function ( $b ) { add_option( 'r1c_completed_' . $b['id'], $b['failed'] ); } );
$p = sidecar_scheduler_batch_progress( (int) $argv[1] ); echo $p['status'];`,
  );
  await dropPrefix(P);
  installSite(P, [OURS]);
});
afterAll(async () => {
  await dropPrefix(P);
  try {
    unlinkSync(READER);
  } catch {
    /* gone */
  }
});

test('the last item failing with a retry to come leaves its batch running, its completion hook not fired', async () => {
  const out = php(
    P,
    `
    sidecar_scheduler_register_policy( 'r1c_item', array( 'retries' => 1, 'delays' => array( 60 ) ) );
    add_action( 'r1c_item', function () { throw new RuntimeException( 'r1c first attempt fails' ); } );
    $batch = sidecar_scheduler_batch( 'r1c', 'r1c_item', array( 1 ) );
    add_action( 'action_scheduler_failed_execution', function () use ( $batch ) {
      echo 'reader:' . shell_exec( 'php -d display_errors=stderr ${READER} ' . (int) $batch ) . "\\n";
    }, 15 );
    $claim = ActionScheduler::store()->stake_claim( 10, null, array( 'r1c_item' ) );
    foreach ( $claim->get_actions() as $id ) { ActionScheduler::runner()->process_action( $id, 'Test' ); }
    ActionScheduler::store()->release_claim( $claim );
    $p = sidecar_scheduler_batch_progress( $batch );
    echo json_encode( array( 'batch' => $batch, 'status' => $p['status'], 'pending' => $p['pending'], 'fired' => get_option( 'r1c_completed_' . $batch, 'no' ) ) );`,
  );
  const last = JSON.parse(out.trim().split('\n').pop() as string);
  // A retry copy is pending in the batch's group...
  expect(last.pending).toBe(1);
  // ...so the batch is still running, and nobody was told it was finished.
  expect([last.status, last.fired]).toEqual(['running', 'no']);
  expect(out).toContain('reader:running');
});
