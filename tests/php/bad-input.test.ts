// Bad input and broken tables through real WordPress: the library's result or a clear error, never a white screen,
// and nothing already queued is lost.
import { installSite, php, phpJson, rows, dropPrefix } from '../helpers/stack';

const PREFIX = 'tbad_';

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

test('a hook over 191 characters is truncated by the column (as with the library) and the row is kept', () => {
  const r = phpJson(
    PREFIX,
    `$h = str_repeat('h', 200); $id = as_enqueue_async_action($h); global $wpdb; echo json_encode(array($id > 0, strlen($wpdb->get_var("SELECT hook FROM {$wpdb->actionscheduler_actions} WHERE action_id = " . (int) $id))));`,
  );
  expect(r).toEqual([true, 191]);
});

test('a corrupt schedule is completed without running and logged, like the library', () => {
  const r = phpJson(
    PREFIX,
    `
    $ran = 0; add_action('tbad_hook', function () use (&$ran) { $ran++; });
    $id = as_enqueue_async_action('tbad_hook'); global $wpdb;
    $wpdb->query("UPDATE {$wpdb->actionscheduler_actions} SET schedule = 'garbage' WHERE action_id = " . (int) $id);
    ActionScheduler::runner()->process_action($id, 'Test');
    $logs = $wpdb->get_col("SELECT message FROM {$wpdb->actionscheduler_logs} WHERE action_id = " . (int) $id . " ORDER BY log_id");
    echo json_encode(array($ran, ActionScheduler::store()->get_status($id), end($logs)));`,
  );
  expect(r).toEqual([
    0,
    'complete',
    expect.stringMatching(
      /^action complete via Test$|There was a failure fetching this action: Action \[\d+\] has an invalid schedule: false/,
    ),
  ]);
  const logs = phpJson(
    PREFIX,
    `global $wpdb; echo json_encode($wpdb->get_col("SELECT message FROM {$wpdb->actionscheduler_logs} WHERE message LIKE '%invalid schedule%'"));`,
  );
  expect(logs.length).toBe(1);
});

test('a missing table: the API returns 0 with a logged error instead of a fatal, and an admin request recreates it, losing nothing else', async () => {
  php(PREFIX, `as_schedule_single_action(time() + 3600, 'tbad_keep', array(1));`);
  const logsBefore = Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs`))[0].n);
  await rows(`DROP TABLE ${PREFIX}actionscheduler_actions`);
  php(PREFIX, `delete_transient('sidecar_scheduler_tables_verified');`);
  const front = phpJson(
    PREFIX,
    `echo json_encode(array(as_enqueue_async_action('tbad_after'), as_next_scheduled_action('tbad_keep'), as_has_scheduled_action('tbad_keep')));`,
  );
  expect(front).toEqual([0, false, false]);
  // An admin request (WP_ADMIN set before WordPress loads) notices the missing table and recreates it.
  const admin = php(
    PREFIX,
    `echo json_encode(array(SidecarScheduler\\Store\\Schema::tables_exist(), as_enqueue_async_action('tbad_after') > 0));`,
    {},
    "define('WP_ADMIN', true);",
  );
  expect(JSON.parse(admin.trim().split('\n').pop()!)).toEqual([true, true]);
  const logsAfter = Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs`))[0].n);
  expect(logsAfter).toBeGreaterThanOrEqual(logsBefore);
});
