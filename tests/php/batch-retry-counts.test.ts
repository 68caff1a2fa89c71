// A batch whose items are retried by a policy (issue 14) finishes exactly once, after the retries are decided, and
// counts per item: an item that failed once and then completed is one done item (its failed first attempt counts
// through its copy), an item that failed every attempt (a dead letter) is one failed item. The end is found by the
// sweep after a claimed batch (action_scheduler_after_process_queue), as the runners fire it. Standalone mode.
import { installSite, php, dropPrefix, OURS } from '../helpers/stack';

const P = `f2a_${process.pid % 1000}_`;

beforeAll(async () => {
  await dropPrefix(P);
  installSite(P, [OURS]);
});
afterAll(async () => {
  await dropPrefix(P);
});

// Runs every due-or-not pending item of the batch once (the library's process_action, as a runner would), then the
// sweep a runner fires after its batch; returns the progress and how often the completion hook fired so far.
const SCENARIO = (failFirstOnly: boolean) => `
  $GLOBALS['f2a_fired'] = array();
  delete_option( 'f2a_runs_a' );
  delete_option( 'f2a_runs_b' );
  add_action( 'sidecar_scheduler_batch_complete', function ( $p ) { $GLOBALS['f2a_fired'][] = array( $p['status'], $p['done'], $p['failed'] ); } );
  sidecar_scheduler_register_policy( 'f2a_item', array( 'retries' => 1, 'delays' => array( 60 ) ) );
  add_action( 'f2a_item', function ( $item ) {
    $n = (int) get_option( 'f2a_runs_' . $item, 0 ) + 1;
    update_option( 'f2a_runs_' . $item, $n );
    if ( 'b' === $item && ( ${failFirstOnly ? 'true' : 'false'} ? 1 === $n : true ) ) { throw new RuntimeException( 'f2a fails' ); }
  } );
  $batch = sidecar_scheduler_batch( 'f2a', 'f2a_item', array( 'a', 'b' ) );
  $round = function () use ( $batch ) {
    $group = sidecar_scheduler_batch_progress( $batch )['group'];
    foreach ( as_get_scheduled_actions( array( 'group' => $group, 'status' => 'pending', 'per_page' => 10 ), 'ids' ) as $id ) {
      ActionScheduler::runner()->process_action( $id, 'Test' );
    }
    do_action( 'action_scheduler_after_process_queue' );
    $p = sidecar_scheduler_batch_progress( $batch );
    return array( $p['status'], $p['total'], $p['done'], $p['failed'], $p['pending'], $p['percent'], count( $GLOBALS['f2a_fired'] ) );
  };
  $rounds = array( $round(), $round(), $round() );
  echo json_encode( array( 'rounds' => $rounds, 'fired' => $GLOBALS['f2a_fired'], 'runs' => array( (int) get_option( 'f2a_runs_a' ), (int) get_option( 'f2a_runs_b' ) ) ) );`;

const last = (out: string) => JSON.parse(out.trim().split('\n').pop() as string);

test('an item that fails once and then completes: the batch waits for its copy, then finishes once with 2 done, 0 failed', () => {
  const r = last(php(P, SCENARIO(true)));
  expect(r.rounds).toEqual([
    // status, total, done, failed, pending, percent, hook calls: the failed first attempt counts through its copy
    ['running', 2, 1, 0, 1, 50, 0],
    ['complete', 2, 2, 0, 0, 100, 1],
    ['complete', 2, 2, 0, 0, 100, 1],
  ]);
  expect(r.fired).toEqual([['complete', 2, 0]]);
  expect(r.runs).toEqual([1, 2]);
});

test('an item that fails every attempt: the batch finishes once, after the last attempt, with 1 done and 1 failed', () => {
  const r = last(php(P, SCENARIO(false)));
  expect(r.rounds).toEqual([
    ['running', 2, 1, 0, 1, 50, 0],
    ['complete', 2, 1, 1, 0, 100, 1],
    ['complete', 2, 1, 1, 0, 100, 1],
  ]);
  expect(r.fired).toEqual([['complete', 1, 1]]);
  expect(r.runs).toEqual([1, 2]);
});
