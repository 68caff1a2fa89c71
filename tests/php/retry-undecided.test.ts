// A failure recorded by a process that died before it scheduled the retry copy (left with no next step) is repaired
// after the next batch of any runner: the copy is scheduled the delay after the original failure, once. Both modes.
import { installSite, php, rows, dropPrefix, OURS, BUNDLER_AFTER } from '../helpers/stack';

const SITES = { standalone: `h7qs${process.pid % 1000}_`, companion: `h7qc${process.pid % 1000}_` } as const;
const SETUP = `sidecar_scheduler_register_policy( 'h7q_fail', array( 'delays' => array( 5 ) ) );
  add_action( 'h7q_fail', function () { throw new RuntimeException( 'h7q failure' ); } );
  add_action( 'h7q_noop', '__return_null' );`;

beforeAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
  installSite(SITES.standalone, [OURS]);
  installSite(SITES.companion, [OURS, BUNDLER_AFTER]);
});
afterAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
});

test.each(Object.entries(SITES))('%s: an undecided failure gets its copy after the next batch', async (_mode, P) => {
  const id = Number(
    php(
      P,
      `${SETUP} $id = as_enqueue_async_action( 'h7q_fail', array( 7 ), 'h7q' ); ActionScheduler::runner()->process_action( $id, 'Test' ); echo $id;`,
    ).trim(),
  );
  // As if the process had died right after recording the failure: no copy, no next step, two minutes ago.
  const [a] = await rows(`SELECT next_id FROM ${P}sidecar_attempts WHERE action_id = ?`, [id]);
  await rows(`DELETE FROM ${P}actionscheduler_actions WHERE action_id = ?`, [a.next_id]);
  await rows(
    `UPDATE ${P}sidecar_attempts SET next_id = 0, next_kind = '', failed_gmt = UTC_TIMESTAMP() - INTERVAL 120 SECOND WHERE action_id = ?`,
    [id],
  );
  // Two runners' batches, one after the other (each claims one no-op and looks for undecided failures afterwards).
  php(P, `${SETUP} as_enqueue_async_action( 'h7q_noop' ); as_enqueue_async_action( 'h7q_noop' );`);
  const runner = `${SETUP} ActionScheduler::runner()->run( 'Test' );`;
  php(P, runner);
  php(P, runner);
  const [after] = await rows(
    `SELECT d.next_kind, d.next_id, TIMESTAMPDIFF(SECOND, d.failed_gmt, a.scheduled_date_gmt) AS gap, a.status, a.args FROM ${P}sidecar_attempts d JOIN ${P}actionscheduler_actions a ON a.action_id = d.next_id WHERE d.action_id = ?`,
    [id],
  );
  // Due already (5 s after a failure two minutes ago), so the runner's next claim ran it: attempt 2 of 2 failed.
  expect([after.next_kind, Number(after.gap), after.status, after.args]).toEqual(['retry', 5, 'failed', '[7]']);
  const copy = await rows(`SELECT attempt, dead, origin_id FROM ${P}sidecar_attempts WHERE action_id = ?`, [
    after.next_id,
  ]);
  expect(copy.map((c) => [Number(c.attempt), Number(c.dead), Number(c.origin_id)])).toEqual([[2, 1, id]]);
  // One copy, though a second runner's batch came after the first one's repair.
  expect((await rows(`SELECT action_id FROM ${P}actionscheduler_actions WHERE hook = 'h7q_fail'`)).length).toBe(2);
});
