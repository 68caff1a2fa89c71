// A start window that skips an action (cancelled after the claim, so not pending when the window opens) must not
// drop the marks of the actions after it: at the skipped action's turn the worker opened a second window, which found
// the later rows in progress (its own marks), marked nothing and forgot them; they were then "ignored" at their turn
// and left in progress for the cleaner to fail, though they never ran. Found in review; the real worker, both modes.
import { php } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const SITES = { standalone: `tkws${process.pid}_`, companion: `tkwc${process.pid}_` } as const;

bothModeSites(SITES);

const run = (prefix: string) =>
  JSON.parse(
    php(
      prefix,
      `
  global $wpdb;
  add_action('tk_plain', function () {});
  $ids = array();
  for ($i = 0; $i < 5; $i++) { $ids[] = as_enqueue_async_action('tk_plain', array($i)); }
  $first = min($ids);
  ActionScheduler::store()->cancel_action($ids[1]); // after the claim, before the window opens
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => $ids, 'claim' => 0, 'context' => 'Test', 'window' => 25)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20));
  rewind($in);
  $out = fopen('php://temp', 'w+');
  SidecarScheduler\\Runner\\Worker::run($in, $out);
  rewind($out);
  $windows = 0;
  while (($line = fgets($out)) !== false) { $m = json_decode($line, true); if ('window' === $m['op']) { $windows++; } }
  $rows = $wpdb->get_results($wpdb->prepare("SELECT action_id, status, attempts FROM {$wpdb->actionscheduler_actions} WHERE action_id >= %d ORDER BY action_id", $first));
  $logs = $wpdb->get_results($wpdb->prepare("SELECT action_id, message FROM {$wpdb->actionscheduler_logs} WHERE action_id >= %d ORDER BY log_id", $first));
  while (ob_get_level() > 0) { ob_end_clean(); }
  echo json_encode(array(
    'rows' => array_map(function ($r) use ($first) { return '#' . ($r->action_id - $first) . " {$r->status} {$r->attempts}"; }, $rows),
    'ignored' => array_values(array_map(function ($l) use ($first) { return '#' . ($l->action_id - $first) . ' ' . $l->message; }, array_filter($logs, function ($l) { return false !== strpos($l->message, 'ignored'); }))),
    'windows' => $windows,
  ));`,
      {},
      "define('SIDECAR_SCHEDULER_WORKER', true);",
    )
      .trim()
      .split('\n')
      .pop() as string,
  );

test.each(Object.entries(SITES))(
  '%s: the actions after a skipped one run once, from the first window',
  (_mode, prefix) => {
    const r = run(prefix);
    expect(r.rows).toEqual(['#0 complete 1', '#1 canceled 0', '#2 complete 1', '#3 complete 1', '#4 complete 1']);
    // Only the cancelled action is ignored at its turn, as the library's runner ignores a claimed action cancelled since.
    expect(r.ignored).toEqual(['#1 action ignored via Test']);
    expect(r.windows).toBe(1);
  },
);
