// Reviewer R1: with the library's own classes (no commit pipeline) a start refused by the compare-and-set removes
// "the newest log line of the action since the turn began", whatever its message (Worker::process_guarded()). When the
// runner that took the action wrote a line after ours (its own "started" line: both runners logged before either
// start reached the row, and its start won), that line is the newest: the other run's line is deleted and ours, for a
// run that never happened, stays. Both modes.
import { php, rows } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `r1b${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('s'), companion: base('c') } as const;

bothModeSites(SITES);

const stream = (id: number, claim: number) => `
  global $wpdb;
  add_filter('sidecar_scheduler_pipeline_commits', '__return_false');
  add_action('r1b_hook', function () {});
  // After our "started" line (the logger's handler, priority 10), before our start: another runner's start wins the
  // row, and its own "started" line is written (as WP-Cron's runner would, having read the row pending too).
  add_action('action_scheduler_begin_execute', function ($id) use ($wpdb) {
    $wpdb->query($wpdb->prepare("UPDATE {$wpdb->actionscheduler_actions} SET claim_id = claim_id + 1000, status = 'in-progress', attempts = attempts + 1 WHERE action_id = %d", $id));
    ActionScheduler_Logger::instance()->log($id, 'action started via WP Cron');
  }, 11);
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => array(${id}), 'claim' => ${claim}, 'context' => 'Test', 'window' => 1)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 5));
  rewind($in);
  $out = fopen('php://temp', 'w+');
  register_shutdown_function(function () use ($out) { rewind($out); while (ob_get_level() > 0) { ob_end_clean(); } echo stream_get_contents($out); });
  SidecarScheduler\\Runner\\Worker::run($in, $out);`;

test.each(Object.entries(SITES))(
  "%s: a refused start removes its own 'started' line, not the line of the run that took the action",
  async (_mode, prefix) => {
    const [id, claim] = JSON.parse(
      php(
        prefix,
        `$id = as_enqueue_async_action('r1b_hook'); $c = ActionScheduler::store()->stake_claim(10, null, array('r1b_hook')); echo json_encode(array($id, (int) $c->get_id()));`,
      ).trim(),
    ) as number[];
    let code: number | null = 0;
    let out = '';
    try {
      out = php(prefix, stream(id, claim), {}, "define('SIDECAR_SCHEDULER_WORKER', true);");
    } catch (e) {
      code = (e as { status: number | null }).status;
      out = String((e as { stdout: string }).stdout);
    }
    expect(out).toContain('"classes":"library"');
    expect(code).toBe(75);
    expect(out).toContain(`{"op":"done","id":${id},"status":"lost"}`);
    const logs = await rows(`SELECT message FROM ${prefix}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
      id,
    ]);
    expect(logs.map((l) => l.message)).toEqual(['action created', 'action started via WP Cron']);
  },
);
