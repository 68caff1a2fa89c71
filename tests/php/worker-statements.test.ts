// The sidecar's worker saves statements (one SELECT for the status check and the row, the "started" and "complete"
// log lines written together). Nobody may be able to tell: the same scenario run with and without those savings
// must leave the same rows, log lines in the same order, and show hooks the same things.
import { installSite, phpJson, dropPrefix } from '../helpers/stack';

const PREFIX = 'twst_';

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

// Runs in its own PHP process: CommitPipeline::register() cannot be undone within one. 'window': the worker marks
// every action of the scenario in progress at once first (a start window), then runs them in order.
const scenario = (mode: 'library' | 'pipeline' | 'window') => phpJson(PREFIX, `
  global $wpdb;
  $seen = array();
  $names = array();
  add_action('twst_plain', function () {});
  add_action('twst_fail', function () { throw new Exception('boom'); });
  add_action('twst_args', function ($v) use (&$seen) { $seen[] = 'callback got ' . $v; });
  add_action('twst_rec', function () {});
  $ids = array(
    as_enqueue_async_action('twst_plain', array(1)),
    as_enqueue_async_action('twst_fail'),
    as_enqueue_async_action('twst_args', array('original')),
    as_schedule_recurring_action(time() - 5, 3600, 'twst_rec'),
    as_enqueue_async_action('twst_plain', array('cancel-me')),
    as_enqueue_async_action('twst_plain', array(2)),
  );
  $first = min($ids);
  // A plugin that writes to the action between the status check and the fetch: the callback must see its write.
  add_action('action_scheduler_begin_execute', function ($id) use ($ids) {
    global $wpdb;
    if ((int) $id === (int) $ids[2]) { $wpdb->query($wpdb->prepare("UPDATE {$wpdb->actionscheduler_actions} SET args = %s WHERE action_id = %d", '["changed"]', $id)); }
  }, 20);
  // A plugin that cancels an action just before it runs: it must be ignored.
  add_action('action_scheduler_before_execute', function ($id) use ($ids) { if ((int) $id === (int) $ids[4]) { as_unschedule_action('twst_plain', array('cancel-me')); } });
  // A plugin that reads the logs when an action completes: it must see the "complete" line, as with the library.
  add_action('action_scheduler_completed_action', function ($id) use (&$seen, $first) {
    $seen[] = 'at completion of #' . ($id - $first) . ': ' . implode(' | ', array_map(function ($e) { return $e->get_message(); }, ActionScheduler::logger()->get_logs($id)));
    $seen[] = 'status at completion of #' . ($id - $first) . ': ' . ActionScheduler::store()->get_status($id);
  }, 20);
  // A plugin that looks at the previous action's row with its own SQL before the next one starts.
  $last = 0;
  add_action('action_scheduler_before_execute', function ($id) use (&$seen, &$last, $first) {
    global $wpdb;
    if ($last) { $seen[] = 'before #' . ($id - $first) . ', #' . ($last - $first) . ' is ' . $wpdb->get_var($wpdb->prepare("SELECT status FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d", $last)); }
    $last = $id;
  }, 5);
  if (${mode !== 'library' ? 'true' : 'false'}) { $pipe = new SidecarScheduler\\Runner\\CommitPipeline(); $pipe->register(); }
  if (${mode === 'window' ? 'true' : 'false'}) {
    SidecarScheduler\\Runner\\StartWindow::activate(true);
    SidecarScheduler\\Runner\\StartWindow::open($ids, 0, 'Test', $pipe, function () {});
  }
  foreach ($ids as $id) { ActionScheduler::runner()->process_action($id, 'Test'); }
  SidecarScheduler\\Runner\\StartWindow::release_held();
  SidecarScheduler\\Runner\\StartWindow::activate(false);
  if (isset($pipe)) { $pipe->commit(); }
  $logs = $wpdb->get_results($wpdb->prepare("SELECT action_id, message FROM {$wpdb->actionscheduler_logs} WHERE action_id >= %d ORDER BY log_id", $first));
  $rows = $wpdb->get_results($wpdb->prepare("SELECT action_id, hook, status, args, attempts FROM {$wpdb->actionscheduler_actions} WHERE action_id >= %d ORDER BY action_id", $first));
  echo json_encode(array(
    'logs' => array_map(function ($l) use ($first) { return '#' . ($l->action_id - $first) . ' ' . $l->message; }, $logs),
    'rows' => array_map(function ($r) use ($first) { return '#' . ($r->action_id - $first) . " {$r->hook} {$r->status} {$r->args} {$r->attempts}"; }, $rows),
    'seen' => $seen,
    'queries' => $wpdb->num_queries,
  ));`);

test('with and without the worker\'s statement savings: same rows, same log lines in the same order, same things seen by hooks', () => {
  const library = scenario('library');
  const worker = scenario('pipeline');
  expect(worker.logs).toEqual(library.logs);
  expect(worker.rows).toEqual(library.rows);
  expect(worker.seen).toEqual(library.seen);
  // And what both saw is what the library does.
  expect(worker.seen).toContain('callback got changed');
  expect(worker.seen[0]).toBe('at completion of #0: action created | action started via Test | action complete via Test');
  expect(worker.seen[1]).toBe('status at completion of #0: complete');
  expect(worker.seen).toContain('before #1, #0 is complete');
  expect(worker.logs).toEqual(expect.arrayContaining(['#1 action failed via Test: boom', '#4 action canceled', '#4 action ignored via Test']));
  expect(worker.logs.filter((l: string) => l.startsWith('#1 '))).toEqual(['#1 action created', '#1 action started via Test', '#1 action failed via Test: boom']);
  expect(worker.rows[6]).toMatch(/^#6 twst_rec pending \[\] 0$/); // the recurring successor
  expect(worker.queries).toBeLessThan(library.queries);
});

// Each action's own log lines, in order (a start window writes the "started" lines of a whole window together, so
// their log IDs come before the previous actions' "complete" lines: across actions the order differs by design).
const perAction = (logs: string[]) => logs.reduce<Record<string, string[]>>((by, l) => {
  const [id, ...rest] = l.split(' ');
  (by[id] ??= []).push(rest.join(' '));
  return by;
}, {});

test(`in a start window: the same rows, each action's log lines, and what hooks saw, as the library; a cancel just before an action's turn undoes its mark`, () => {
  const library = scenario('library');
  const windowed = scenario('window');
  expect(windowed.rows).toEqual(library.rows); // incl. attempts 0 for the cancelled #4, the successor, the changed args
  expect(perAction(windowed.logs)).toEqual(perAction(library.logs));
  expect(perAction(windowed.logs)['#4']).toEqual(['action created', 'action canceled', 'action ignored via Test']); // its mark's "started" line is gone
  expect(windowed.seen).toEqual(library.seen); // as_unschedule_action in before_execute found #4: this worker's marks are pending to it
  expect(windowed.queries).toBeLessThan(library.queries);
});
