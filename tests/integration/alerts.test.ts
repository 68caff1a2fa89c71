// Alerts on the real stack: real wp_mail() calls captured by the fixture's pre_wp_mail mailer, and webhooks received
// by a test HTTP server on 127.0.0.1 that checks each signature. Each alert fires once, respects its cool-down and
// sends a recovery; a failed webhook is retried; the sidecar's maintenance pass evaluates them with nobody looking.
import { createServer, Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  installSite,
  php,
  rows,
  dropPrefix,
  startSidecar,
  exited,
  eventually,
  WP_BIN,
  PREFIX_SITE,
} from '../helpers/stack';
import { linkFeatureFixture, createFeatureTables } from '../helpers/feature-site';

const run = promisify(execFile);
const PREFIX = `h6d${process.pid % 1000}_`;
const SECRET = 'h6-webhook-secret';
let server: Server;
let url = '';
const hooks: Array<{ body: any; raw: string; validSignature: boolean; status: number }> = [];
const answers: number[] = []; // statuses to answer with next (then 200)

/**
 * `wp sidecar-scheduler alerts` in a child process, asynchronously: the webhook server lives in this process, and a
 * synchronous spawn would block it from answering (the PHP side would time out and retry).
 */
const check = async () => {
  const { stdout } = await run(WP_BIN, ['sidecar-scheduler', 'alerts', '--format=json'], {
    env: { ...process.env, WP_TABLE_PREFIX: PREFIX },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
};
const mails = async () => rows(`SELECT recipients, subject, body FROM ${PREFIX}h6_mail ORDER BY id`);
const settings = (extra: Record<string, unknown> = {}) =>
  php(
    PREFIX,
    `update_option('sidecar_scheduler_alerts', json_decode(${JSON.stringify(JSON.stringify({ emails: ['ops@example.test', 'not an address'], webhook_url: url, webhook_secret: SECRET, cooldown_seconds: 3600, webhook_retry_seconds: 0, ...extra }))}, true));`,
  );
const pastDue = (n: number) =>
  php(
    PREFIX,
    `for ($i = 0; $i < ${n}; $i++) { as_schedule_single_action(time() - 1200 - $i, 'h6_ok', array('due', $i)); }`,
  );
const runDue = () =>
  php(
    PREFIX,
    `global $wpdb; foreach ($wpdb->get_col("SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE status = 'pending' AND scheduled_date_gmt <= UTC_TIMESTAMP()") as $id) { ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );

beforeAll(async () => {
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  createFeatureTables(PREFIX);
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const ts = String(req.headers['x-sidecar-alert-timestamp'] ?? '');
      const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.${raw}`).digest('hex');
      const status = answers.shift() ?? 200;
      hooks.push({
        body: JSON.parse(raw),
        raw,
        validSignature: req.headers['x-sidecar-alert-signature'] === expected && /^\d+$/.test(ts),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  settings();
});
afterAll(async () => {
  server.close();
  await dropPrefix(PREFIX);
});

test('past-due actions without a sidecar: one alert each by mail and signed webhook, not repeated while firing', async () => {
  pastDue(2);
  const first = await check();
  expect(first.sent).toEqual([
    { event: 'alert', code: 'no_sidecar' },
    { event: 'alert', code: 'past_due' },
  ]);
  const m = await mails();
  expect(m.map((x: any) => x.subject)).toEqual(
    [
      '[My WordPress Website] Queue alert: No sidecar is alive while 2 actions are due.',
      '[My WordPress Website] Queue alert: 2 actions are past due; the oldest has waited 20 minutes.',
    ].map((s) => s.replace('My WordPress Website', m[0].subject.match(/^\[(.*?)\]/)[1])),
  );
  expect(m[0].recipients).toBe('ops@example.test'); // the invalid address is dropped
  expect(m[1].body).toContain('Alert: past_due, since ');
  expect(m[1].body).toContain('/wp-admin/tools.php?page=action-scheduler');
  expect(hooks.map((h) => [h.body.event, h.body.code, h.validSignature])).toEqual([
    ['alert', 'no_sidecar', true],
    ['alert', 'past_due', true],
  ]);
  expect(hooks[1].body.summary).toBe('2 actions are past due; the oldest has waited 20 minutes.');
  expect((await check()).sent).toEqual([]);
  expect(await mails()).toHaveLength(2);
  expect(hooks).toHaveLength(2);
});

test('when it clears: one recovery each; firing again within the cool-down sends nothing; after it, an alert again', async () => {
  runDue();
  expect((await check()).sent).toEqual([
    { event: 'recovery', code: 'no_sidecar' },
    { event: 'recovery', code: 'past_due' },
  ]);
  const m = await mails();
  expect(m.slice(2).map((x: any) => x.subject.replace(/^\[.*?\] /, ''))).toEqual([
    'Queue recovered: no_sidecar',
    'Queue recovered: past_due',
  ]);
  expect(hooks.slice(2).map((h) => [h.body.event, h.body.code, h.validSignature])).toEqual([
    ['recovery', 'no_sidecar', true],
    ['recovery', 'past_due', true],
  ]);
  expect((await check()).sent).toEqual([]);
  pastDue(1);
  expect((await check()).sent).toEqual([]); // within the hour's cool-down: neither alert again
  runDue();
  expect((await check()).sent).toEqual([]); // nor a recovery for an alert that was not sent
  expect(await mails()).toHaveLength(4);
  settings({ cooldown_seconds: 0 });
  pastDue(1);
  expect((await check()).sent).toEqual([
    { event: 'alert', code: 'no_sidecar' },
    { event: 'alert', code: 'past_due' },
  ]);
  runDue();
  expect((await check()).sent).toEqual([
    { event: 'recovery', code: 'no_sidecar' },
    { event: 'recovery', code: 'past_due' },
  ]);
  expect(await mails()).toHaveLength(8);
});

test('a webhook answered with 500 is retried with the same signed body until it is taken', async () => {
  hooks.length = 0;
  answers.push(500, 503);
  await rows(
    `INSERT INTO ${PREFIX}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, last_attempt_gmt, last_attempt_local, args, schedule, group_id, attempts) VALUES ('h6_stuck', 'in-progress', UTC_TIMESTAMP() - INTERVAL 30 MINUTE, UTC_TIMESTAMP() - INTERVAL 30 MINUTE, UTC_TIMESTAMP() - INTERVAL 20 MINUTE, UTC_TIMESTAMP() - INTERVAL 20 MINUTE, '[]', 'O:28:"ActionScheduler_NullSchedule":0:{}', 0, 1)`,
  );
  expect((await check()).sent).toEqual([{ event: 'alert', code: 'stuck' }]);
  expect((await check()).sent).toEqual([]);
  expect((await check()).sent).toEqual([]);
  expect(hooks.map((h) => [h.status, h.body.code, h.validSignature])).toEqual([
    [500, 'stuck', true],
    [503, 'stuck', true],
    [200, 'stuck', true],
  ]);
  expect(new Set(hooks.map((h) => h.raw)).size).toBe(1);
  expect((await check()).sent).toEqual([]);
  expect(hooks).toHaveLength(3);
  expect((await mails()).filter((x: any) => x.subject.includes('stuck in progress'))).toHaveLength(1);
  await rows(`DELETE FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_stuck'`);
  expect((await check()).sent).toEqual([{ event: 'recovery', code: 'stuck' }]);
});

test("the sidecar's maintenance pass evaluates the alerts with nobody looking: a failing hook, by mail", async () => {
  php(
    PREFIX,
    `for ($i = 0; $i < 10; $i++) { $id = as_enqueue_async_action('h6_fail', array('smtp refused')); ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );
  const before = (await mails()).length;
  const sidecar = startSidecar(PREFIX, ['--workers=1', '--maintenance-ms=1000'], { SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    const m = await eventually(mails, (x) => x.length > before, 60000, 500);
    expect(m.slice(before).map((x: any) => x.subject.replace(/^\[.*?\] /, ''))).toEqual([
      'Queue alert: h6_fail failed 10 of 10 runs; most often: smtp refused',
    ]);
    await new Promise((r) => setTimeout(r, 3000)); // more passes: still one
    expect((await mails()).length).toBe(before + 1);
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});

test('without a sidecar, WP-Cron evaluates them: a wp-cron.php request sends the alert', async () => {
  await rows(`DELETE FROM ${PREFIX}sidecar_heartbeats`); // the stopped sidecar's row, if it left one
  pastDue(1);
  // With WP-Cron off in this process (it would spawn a run itself), and WordPress's lock cleared of earlier spawns.
  // Due an hour ago: WP-Cron runs events oldest first, so this runs before the library's queue runner (which would
  // run the past-due action and clear the condition first).
  php(
    PREFIX,
    `delete_transient('doing_cron'); wp_clear_scheduled_hook('sidecar_scheduler_alerts'); wp_schedule_event(time() - 3600, 'sidecar_scheduler_minute', 'sidecar_scheduler_alerts');`,
    { WP_DISABLE_CRON: '1' },
  );
  const before = (await mails()).length;
  const res = await fetch(`${PREFIX_SITE}/wp-cron.php?doing_wp_cron`, { headers: { 'X-WP-Table-Prefix': PREFIX } });
  expect(res.status).toBe(200);
  const m = await eventually(mails, (x) => x.length >= before + 2, 20000, 300);
  expect(
    m
      .slice(before)
      .map((x: any) => x.subject.replace(/^\[.*?\] /, ''))
      .sort(),
  ).toEqual([
    'Queue alert: 1 actions are past due; the oldest has waited 20 minutes.',
    'Queue alert: No sidecar is alive while 1 actions are due.',
  ]);
});

describe('backlog, group failure rate and new dead letters', () => {
  const due = (n: number) =>
    php(PREFIX, `for ($i = 0; $i < ${n}; $i++) { as_schedule_single_action(time() - 5, 'h6_ok', array('f4', $i)); }`);
  const only = async (code: string) => (await check()).sent.filter((x: any) => x.code === code);
  const subjects = async (from: number) =>
    (await mails()).slice(from).map((x: any) => x.subject.replace(/^\[.*?\] /, ''));

  beforeAll(async () => {
    await rows(`DELETE FROM ${PREFIX}sidecar_heartbeats`);
    runDue();
    await check(); // the earlier tests' conditions settle
  });

  test('f4a_ a due backlog over backlog_count alerts once, recovers when cleared, respects the cool-down', async () => {
    settings({ cooldown_seconds: 3600, backlog_count: 3 });
    const before = (await mails()).length;
    due(4);
    expect(await only('backlog')).toEqual([{ event: 'alert', code: 'backlog' }]);
    expect(await subjects(before)).toContain('Queue alert: 4 actions are due, more than 3.');
    expect(await only('backlog')).toEqual([]);
    runDue();
    expect(await only('backlog')).toEqual([{ event: 'recovery', code: 'backlog' }]);
    expect(await subjects(before)).toContain('Queue recovered: backlog');
    due(4);
    expect(await only('backlog')).toEqual([]); // within the cool-down
    runDue();
    expect(await only('backlog')).toEqual([]); // no recovery for an alert not sent
  });

  test('f4b_ a backlog that rose at every evaluation over backlog_growing_minutes alerts, and recovers', async () => {
    settings({ cooldown_seconds: 0, backlog_growing_minutes: 10 });
    // Two earlier samples (11 and 5 minutes ago, 1 then 2 due) as earlier evaluations would have kept them.
    php(
      PREFIX,
      `$s = get_option('sidecar_scheduler_alert_state'); $s['memory']['backlog'] = array(array(time() - 660, 1), array(time() - 300, 2)); update_option('sidecar_scheduler_alert_state', $s, false);`,
    );
    const before = (await mails()).length;
    due(3);
    expect(await only('backlog')).toEqual([{ event: 'alert', code: 'backlog' }]);
    expect(await subjects(before)).toContain(
      'Queue alert: 3 actions are due and the backlog has grown for 11 minutes.',
    );
    runDue();
    expect(await only('backlog')).toEqual([{ event: 'recovery', code: 'backlog' }]);
    // Not rising at every sample: 1, 3, 2 within the span does not fire.
    php(
      PREFIX,
      `$s = get_option('sidecar_scheduler_alert_state'); $s['memory']['backlog'] = array(array(time() - 660, 1), array(time() - 300, 3)); update_option('sidecar_scheduler_alert_state', $s, false);`,
    );
    due(2);
    expect(await only('backlog')).toEqual([]);
    runDue();
  });

  test('f4c_ a group failing at group_failure_rate alerts once by mail and respects the cool-down', async () => {
    settings({ cooldown_seconds: 3600 });
    php(
      PREFIX,
      `for ($i = 0; $i < 10; $i++) { $id = as_enqueue_async_action('h6_fail', array('boom'), 'f4grp'); ActionScheduler::runner()->process_action($id, 'F4 test'); }`,
    );
    const before = (await mails()).length;
    expect(await only('group_failure')).toEqual([{ event: 'alert', code: 'group_failure' }]);
    expect((await subjects(before)).filter((x: string) => x.includes('f4grp'))).toEqual([
      'Queue alert: group f4grp failed 10 of 10 runs',
    ]);
    expect(await only('group_failure')).toEqual([]);
    settings({ cooldown_seconds: 3600, group_failure_min_count: 1000 });
    expect(await only('group_failure')).toEqual([{ event: 'recovery', code: 'group_failure' }]);
    settings({ cooldown_seconds: 3600, group_failure_min_count: 10 });
    expect(await only('group_failure')).toEqual([]); // firing again within the cool-down
  });

  test('f4d_ new dead letters alert once per batch (hook and count), no recovery, a held-back batch goes later', async () => {
    settings({ cooldown_seconds: 3600, group_failure_min_count: 1000 });
    await check();
    const dead = (ids: number[]) =>
      php(
        PREFIX,
        `\\SidecarScheduler\\Store\\AttemptsTable::ensure(); foreach (array(${ids.join(',')}) as $id) { \\SidecarScheduler\\Store\\AttemptsTable::record(array('action_id' => $id, 'origin_id' => $id, 'attempt' => 3, 'max_attempts' => 3, 'hook' => 'f4_dead', 'group_slug' => '', 'error' => 'gone', 'failed_gmt' => gmdate('Y-m-d H:i:s'), 'first_failed_gmt' => gmdate('Y-m-d H:i:s'))); \\SidecarScheduler\\Store\\AttemptsTable::mark_dead($id); }`,
      );
    const before = (await mails()).length;
    dead([900001, 900002]);
    expect(await only('dead_letters')).toEqual([{ event: 'alert', code: 'dead_letters' }]);
    expect((await subjects(before)).filter((x: string) => x.includes('dead'))).toEqual([
      'Queue alert: 2 new dead letters of f4_dead',
    ]);
    expect(await only('dead_letters')).toEqual([]); // nothing new, and no recovery
    dead([900003]);
    expect(await only('dead_letters')).toEqual([]); // within the cool-down: held back
    settings({ cooldown_seconds: 0, group_failure_min_count: 1000 });
    expect(await only('dead_letters')).toEqual([{ event: 'alert', code: 'dead_letters' }]);
    expect((await subjects(before)).filter((x: string) => x.includes('dead'))).toEqual([
      'Queue alert: 2 new dead letters of f4_dead',
      'Queue alert: 1 new dead letters of f4_dead',
    ]);
    expect(await only('dead_letters')).toEqual([]);
  });
});
