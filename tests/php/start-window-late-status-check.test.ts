// Reviewer R1: in a start window, the runner's status check of a marked action must see it pending even when other
// code checks the status first at action_scheduler_before_execute. WorkerStore arms the turn's check from its own
// listener (priority PHP_INT_MAX, added when the pipeline starts); a listener added later at the same priority (here:
// by the first action's callback, as lazily registered code does) runs after it and takes the armed check, which
// takes the mark. The runner's own check then reads the raw row, "in-progress" (no longer held), and ignores the
// action: it never runs and stays in progress for the cleaner to fail. Both modes.
import { php } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const SITES = { standalone: `r1es${process.pid % 1000}_`, companion: `r1ec${process.pid % 1000}_` } as const;

bothModeSites(SITES);

const run = (prefix: string) =>
  JSON.parse(
    php(
      prefix,
      `
  global $wpdb;
  add_action('r1e_plain', function ($i) {
    if (0 === $i) {
      // Code that looks at the action about to run (a monitor, say), registered once it is first needed.
      add_action('action_scheduler_before_execute', function ($id) { ActionScheduler::store()->get_status($id); }, PHP_INT_MAX);
    }
  });
  $ids = array();
  for ($i = 0; $i < 4; $i++) { $ids[] = as_enqueue_async_action('r1e_plain', array($i)); }
  $first = min($ids);
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => $ids, 'claim' => 0, 'context' => 'Test', 'window' => 25)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20));
  rewind($in);
  $out = fopen('php://temp', 'w+');
  SidecarScheduler\\Runner\\Worker::run($in, $out);
  $rows = $wpdb->get_results($wpdb->prepare("SELECT action_id, status, attempts FROM {$wpdb->actionscheduler_actions} WHERE action_id >= %d ORDER BY action_id", $first));
  while (ob_get_level() > 0) { ob_end_clean(); }
  echo json_encode(array_map(function ($r) use ($first) { return '#' . ($r->action_id - $first) . " {$r->status} {$r->attempts}"; }, $rows));`,
      {},
      "define('SIDECAR_SCHEDULER_WORKER', true);",
    )
      .trim()
      .split('\n')
      .pop() as string,
  );

test.each(Object.entries(SITES))(
  '%s: every marked action runs once though other code checks its status first',
  (_m, prefix) => {
    expect(run(prefix)).toEqual(['#0 complete 1', '#1 complete 1', '#2 complete 1', '#3 complete 1']);
  },
);
