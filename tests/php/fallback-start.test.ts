// With the library's own classes running the worker (no commit pipeline), the start is a compare-and-set too: an
// action another claim took between the worker's check and its start is neither run nor failed; the worker reports
// it "lost" and stops (issue 13). Before, the library's start (`UPDATE … WHERE action_id = N`) started it anyway and
// the callback ran under another claim. Both modes.
import { php, rows } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `h1${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('i'), companion: base('j') } as const;

bothModeSites(SITES);
beforeAll(async () => {
  for (const p of Object.values(SITES)) await rows(`CREATE TABLE IF NOT EXISTS ${p}h1_ran (id int)`);
});

const stream = (id: number, claim: number) => `
  global $wpdb;
  add_filter('sidecar_scheduler_pipeline_commits', '__return_false');
  add_action('h1_fallback', function () use ($wpdb) { $wpdb->query("INSERT INTO {$wpdb->prefix}h1_ran (id) VALUES (1)"); });
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => array(${id}), 'claim' => ${claim}, 'context' => 'Test', 'window' => 1)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 5));
  rewind($in);
  $out = fopen('php://temp', 'w+');
  register_shutdown_function(function () use ($out) { rewind($out); while (ob_get_level() > 0) { ob_end_clean(); } echo stream_get_contents($out); });
  SidecarScheduler\\Runner\\Worker::run($in, $out);`;

const claimOne = (prefix: string) =>
  JSON.parse(
    php(
      prefix,
      `$id = as_enqueue_async_action('h1_fallback'); $c = ActionScheduler::store()->stake_claim(10, null, array('h1_fallback')); echo json_encode(array($id, (int) $c->get_id()));`,
    ).trim(),
  ) as number[];

test.each(Object.entries(SITES))(
  '%s: an action taken by another claim before its start is not run and not failed',
  async (_mode, prefix) => {
    const [id, claim] = claimOne(prefix);
    let code: number | null = 0;
    let out = '';
    try {
      // Another claim takes the action after the worker checked its claim (as a racing claimer would).
      out = php(
        prefix,
        `add_action('action_scheduler_before_execute', function ($id) { global $wpdb; $wpdb->query($wpdb->prepare("UPDATE {$wpdb->actionscheduler_actions} SET claim_id = claim_id + 1000 WHERE action_id = %d", $id)); }, 99);` +
          stream(id, claim),
        {},
        "define('SIDECAR_SCHEDULER_WORKER', true);",
      );
    } catch (e) {
      code = (e as { status: number | null }).status;
      out = String((e as { stdout: string }).stdout);
    }
    expect(out).toContain('"classes":"library"');
    expect(code).toBe(75);
    expect(out).toContain(`{"op":"done","id":${id},"status":"lost"}`);
    const [a] = await rows(
      `SELECT status, attempts, claim_id FROM ${prefix}actionscheduler_actions WHERE action_id = ?`,
      [id],
    );
    expect([a.status, Number(a.attempts), Number(a.claim_id)]).toEqual(['pending', 0, claim + 1000]);
    const logs = await rows(`SELECT message FROM ${prefix}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
      id,
    ]);
    expect(logs.map((l) => l.message)).toEqual(['action created']);
    expect(await rows(`SELECT id FROM ${prefix}h1_ran`)).toEqual([]);
  },
);

test.each(Object.entries(SITES))(
  '%s: an action still under the claim starts and completes as before',
  async (_mode, prefix) => {
    await rows(`DELETE FROM ${prefix}h1_ran`);
    const [id, claim] = claimOne(prefix);
    const out = php(prefix, stream(id, claim), {}, "define('SIDECAR_SCHEDULER_WORKER', true);");
    expect(out).toContain(`"id":${id},"status":"complete"`);
    const [a] = await rows(`SELECT status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id = ?`, [id]);
    expect([a.status, Number(a.attempts)]).toEqual(['complete', 1]);
    expect((await rows(`SELECT id FROM ${prefix}h1_ran`)).length).toBe(1);
  },
);
