// A start refused by the compare-and-set (another claim took the action between the turn's read and its start)
// leaves no trace: the action stays pending with no attempt and no "started" line, and the worker stops without
// running it (issue 13). The line was left behind when other code's statement on the logs or actions table (here a
// begin_execute callback that reads the queue) had the held "started" line sent before the start. Both modes.
import { php, rows } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `h1${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('e'), companion: base('f') } as const;

bothModeSites(SITES);

test.each(Object.entries(SITES))(
  '%s: a refused start leaves the action pending, with no attempt and no "started" line',
  async (_mode, prefix) => {
    const [id, claim] = JSON.parse(
      php(
        prefix,
        `$id = as_enqueue_async_action('h1_refused'); $c = ActionScheduler::store()->stake_claim(10, null, array('h1_refused')); echo json_encode(array($id, (int) $c->get_id()));`,
      ).trim(),
    ) as number[];
    let code: number | null = 0;
    let out = '';
    try {
      out = php(
        prefix,
        `
      global $wpdb;
      add_action('h1_refused', function () use ($wpdb) { $wpdb->query("INSERT INTO {$wpdb->prefix}h1_ran (id) VALUES (1)"); });
      // Another claim takes the action after the turn read its row (as a racing claimer would).
      add_action('action_scheduler_before_execute', function ($id) use ($wpdb) { $wpdb->query($wpdb->prepare("UPDATE {$wpdb->actionscheduler_actions} SET claim_id = claim_id + 1000 WHERE action_id = %d", $id)); }, 99);
      // A later begin_execute callback that reads the queue: what is held (the "started" line) is sent first.
      add_action('action_scheduler_begin_execute', function () { as_has_scheduled_action('h1_none'); }, 20);
      $in = fopen('php://temp', 'w+');
      fwrite($in, json_encode(array('op' => 'stream', 'ids' => array(${id}), 'claim' => ${claim}, 'context' => 'Test', 'window' => 1)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 5));
      rewind($in);
      $out = fopen('php://temp', 'w+');
      register_shutdown_function(function () use ($out) { rewind($out); while (ob_get_level() > 0) { ob_end_clean(); } echo stream_get_contents($out); });
      SidecarScheduler\\Runner\\Worker::run($in, $out);`,
        {},
        "define('SIDECAR_SCHEDULER_WORKER', true);",
      );
    } catch (e) {
      code = (e as { status: number | null }).status;
      out = String((e as { stdout: string }).stdout);
    }
    expect(code).toBe(75); // the worker stops without running it
    expect(out).toContain(`{"op":"done","id":${id},"status":"lost"}`);
    const [a] = await rows(`SELECT status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id = ?`, [id]);
    expect([a.status, Number(a.attempts)]).toEqual(['pending', 0]);
    const logs = await rows(`SELECT message FROM ${prefix}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
      id,
    ]);
    expect(logs.map((l) => l.message)).toEqual(['action created']);
    expect(await rows(`SELECT id FROM ${prefix}h1_ran`)).toEqual([]);
  },
);

beforeAll(async () => {
  for (const p of Object.values(SITES)) await rows(`CREATE TABLE IF NOT EXISTS ${p}h1_ran (id int)`);
});
