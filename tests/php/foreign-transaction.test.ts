// Other code's transactions on the worker's connection must never carry the worker's own writes (issue 13).
// - A callback or hook that opens a transaction and rolls it back: the worker's held completions and log lines must
//   not have been flushed into it (they were, when that code read the actions table meanwhile, and the ROLLBACK lost
//   them: actions left in progress although they completed).
// - A callback that turns autocommit off and leaves it off: the next action's start, the completions and the hooks'
//   rows must still be committed (they ran inside the callback's never-ended transaction, and were all rolled back
//   when the process exited: a crash there runs the action again).
// The real worker (Worker::run with the sidecar's protocol), both modes, windows off and on; read back from another
// connection after the PHP process has exited, so only what was committed counts.
import { installSite, php, rows, dropPrefix, OURS, BUNDLER_AFTER } from '../helpers/stack';

const base = (k: string) => `h1${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('a'), companion: base('b') } as const;
const HOOKS = [
  'h1_plain',
  'h1_rollback',
  'h1_plain',
  'h1_autocommit_off',
  'h1_rollback',
  'h1_plain',
  'h1_autocommit_off',
  'h1_plain',
  'h1_plain',
  'h1_autocommit_off',
];

beforeAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
  installSite(SITES.standalone, [OURS]);
  installSite(SITES.companion, [OURS, BUNDLER_AFTER]);
});
afterAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
});

const scenario = (prefix: string, window: number) =>
  JSON.parse(
    php(
      prefix,
      `
  global $wpdb;
  $t = $wpdb->prefix . 'h1_rows';
  $wpdb->query("CREATE TABLE IF NOT EXISTS {$t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, action_id BIGINT NOT NULL, what VARCHAR(40) NOT NULL) ENGINE=InnoDB");
  $wpdb->query("TRUNCATE {$t}");
  $row = function ($what) use ($wpdb, $t) { $wpdb->query($wpdb->prepare("INSERT INTO {$t} (action_id, what) VALUES (%d, %s)", $GLOBALS['h1_current'], $what)); };
  add_action('action_scheduler_before_execute', function ($id) { $GLOBALS['h1_current'] = (int) $id; }, 0);
  add_action('h1_plain', function () use ($row) { $row('cb'); });
  // Opens a transaction, reads the actions table inside it (as_has_scheduled_action), and rolls it back.
  add_action('h1_rollback', function () use ($wpdb, $row) {
    $wpdb->query('START TRANSACTION');
    $row('cb-rolled-back');
    as_has_scheduled_action('h1_none');
    $wpdb->query('ROLLBACK');
    $row('cb');
  });
  // Turns autocommit off and leaves it off.
  add_action('h1_autocommit_off', function () use ($wpdb, $row) { $wpdb->query('SET autocommit = 0'); $row('cb'); });
  add_action('action_scheduler_after_execute', function () use ($row) { $row('after_execute'); }, 10, 0);
  // A hook that reads the actions table inside a transaction of its own, then rolls it back.
  add_action('action_scheduler_completed_action', function () use ($wpdb, $row) {
    $wpdb->query('START TRANSACTION');
    as_next_scheduled_action('h1_none');
    $wpdb->query('ROLLBACK');
    $row('completed_action');
  }, 10, 0);
  $ids = array();
  foreach (${JSON.stringify(HOOKS).replace(/"/g, "'")} as $i => $hook) { $ids[] = as_enqueue_async_action($hook, array($i)); }
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => $ids, 'claim' => 0, 'context' => 'Test', 'window' => ${window})) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20)); // pings: an ended stdin reads as "stop"
  rewind($in);
  $out = fopen('php://temp', 'w+');
  SidecarScheduler\\Runner\\Worker::run($in, $out);
  while (ob_get_level() > 0) { ob_end_clean(); }
  echo json_encode(array('ids' => $ids));
  // Exits without a COMMIT: whatever is still uncommitted on the connection is rolled back now.`,
      {},
      "define('SIDECAR_SCHEDULER_WORKER', true);",
    )
      .trim()
      .split('\n')
      .pop() as string,
  ) as { ids: number[] };

const cases = Object.entries(SITES).flatMap(
  ([mode, prefix]) =>
    [
      [mode, prefix, 1],
      [mode, prefix, 25],
    ] as [string, string, number][],
);

test.each(cases)(
  '%s (%s), window %s: every action complete once, with its log lines and every hook row',
  async (_mode, prefix, window) => {
    const { ids } = scenario(prefix, window);
    const first = ids[0];
    const actions = await rows(
      `SELECT action_id, status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id >= ? ORDER BY action_id`,
      [first],
    );
    expect(actions.map((a) => `${a.action_id - first} ${a.status} ${a.attempts}`)).toEqual(
      ids.map((_, i) => `${i} complete 1`),
    );
    const logs = await rows(
      `SELECT action_id, message FROM ${prefix}actionscheduler_logs WHERE action_id >= ? ORDER BY log_id`,
      [first],
    );
    for (const id of ids) {
      expect([id - first, logs.filter((l) => Number(l.action_id) === id).map((l) => l.message)]).toEqual([
        id - first,
        ['action created', 'action started via Test', 'action complete via Test'],
      ]);
    }
    const written = await rows(`SELECT action_id, what FROM ${prefix}h1_rows ORDER BY id`);
    for (const id of ids) {
      expect([id - first, written.filter((r) => Number(r.action_id) === id).map((r) => r.what)]).toEqual([
        id - first,
        ['cb', 'after_execute', 'completed_action'],
      ]);
    }
  },
);
