// Sites without a sidecar: the WP-Cron runner and the async loopback keep the queue moving, as with the library;
// with a fresh sidecar heartbeat both stand down.
import { installSite, php, phpJson, rows, dropPrefix, PREFIX_SITE } from '../helpers/stack';

const PREFIX = 'tfall_';

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

test('without a sidecar: the every-minute WP-Cron event exists and running it processes due actions with context "WP Cron"', async () => {
  await rows(`DELETE FROM ${PREFIX}sidecar_heartbeats`);
  const r = phpJson(
    PREFIX,
    `
    $ids = array(); for ($i = 0; $i < 3; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array('cron' . $i)); }
    $hooked = has_action('action_scheduler_run_queue', array(ActionScheduler::runner(), 'run')) !== false;
    $event = wp_next_scheduled('action_scheduler_run_queue', array('WP Cron'));
    $schedules = wp_get_schedules();
    do_action('action_scheduler_run_queue', 'WP Cron');
    echo json_encode(array($hooked, (bool) $event, $schedules['every_minute']['interval'], array_map(array(ActionScheduler::store(), 'get_status'), $ids)));`,
  );
  expect(r).toEqual([true, true, 60, ['complete', 'complete', 'complete']]);
  const logs = await rows(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs WHERE message = 'action complete via WP Cron'`,
  );
  expect(Number(logs[0].n)).toBe(3);
});

test('with a live sidecar heartbeat: the WP-Cron callback and the async runner stand down (the event stays, harmless)', async () => {
  await rows(
    `INSERT INTO ${PREFIX}sidecar_heartbeats (sidecar_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running) VALUES ('t', 'h', 1, 'v', 'php', 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '[]')`,
  );
  const r = phpJson(
    PREFIX,
    `echo json_encode(array(has_action('action_scheduler_run_queue', array(ActionScheduler::runner(), 'run')) !== false, apply_filters('action_scheduler_allow_async_request_runner', true), (bool) wp_next_scheduled('action_scheduler_run_queue', array('WP Cron'))));`,
  );
  expect(r).toEqual([false, false, true]);
  await rows(`DELETE FROM ${PREFIX}sidecar_heartbeats`);
});

test('the async loopback request (admin-ajax, nonce-checked) runs the queue with context "Async Request"', async () => {
  const nonce = php(PREFIX, `wp_set_current_user(0); echo wp_create_nonce('as_async_request_queue_runner');`).trim();
  const id = Number(php(PREFIX, `echo as_enqueue_async_action('sidecar_test_noop', array('async'));`).trim());
  const bad = await fetch(`${PREFIX_SITE}/wp-admin/admin-ajax.php?action=as_async_request_queue_runner&nonce=forged`, {
    method: 'POST',
    headers: { 'X-WP-Table-Prefix': PREFIX },
  });
  expect(bad.status).toBe(403);
  expect((await rows(`SELECT status FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [id]))[0].status).toBe(
    'pending',
  );
  const ok = await fetch(`${PREFIX_SITE}/wp-admin/admin-ajax.php?action=as_async_request_queue_runner&nonce=${nonce}`, {
    method: 'POST',
    headers: { 'X-WP-Table-Prefix': PREFIX },
  });
  expect(ok.status).toBe(200);
  expect((await rows(`SELECT status FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [id]))[0].status).toBe(
    'complete',
  );
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
    id,
  ]);
  expect(logs.map((l: any) => l.message)).toEqual([
    'action created',
    'action started via Async Request',
    'action complete via Async Request',
  ]);
}, 30000);
