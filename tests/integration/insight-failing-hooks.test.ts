// Failing hooks at a glance: the report (REST route and `wp sidecar-scheduler report`) on a site of its own, from
// actions really run by the library's runner (in process) and by the sidecar: runs, failures, rate, run time
// percentiles, error messages merged across runners with counts and first/last seen, the hour/day windows.
import { installSite, php, rows, dropPrefix, wp, startSidecar, exited, eventually } from '../helpers/stack';
import { linkFeatureFixture, siteApi } from '../helpers/feature-site';

const PREFIX = `h6a${process.pid % 1000}_`;
const NS = '/sidecar-scheduler/v1';
let api: ReturnType<typeof siteApi>;

/** Enqueues and runs in process (the library's runner, context "H6 test"): what any runner leaves in the logs. */
const runNow = (hook: string, argsPhp: string[], group = '') =>
  php(
    PREFIX,
    `foreach (array(${argsPhp.join(',')}) as $a) { $id = as_enqueue_async_action('${hook}', $a, '${group}'); ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );

beforeAll(async () => {
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  api = siteApi(PREFIX);
  // 40 runs of one hook in group "payments": every 4th fails, with two different messages (5 each).
  const items = Array.from({ length: 40 }, (_, n) =>
    n % 4 !== 0 ? `array()` : `array(${n % 8 === 0 ? "'card declined'" : "'gateway timeout'"})`,
  );
  php(
    PREFIX,
    `add_action('h6_maybe', function ($m = null) { if (null !== $m) { throw new RuntimeException($m); } });
    foreach (array(${items.join(',')}) as $a) { $id = as_enqueue_async_action('h6_maybe', $a, 'payments'); ActionScheduler::runner()->process_action($id, 'H6 test'); }`,
  );
  runNow('h6_ok', Array(10).fill('array()'), 'h6-ok');
  runNow('h6_sleep', ['array(2)', 'array(2)']);
  // Three failures of another hook, moved to 3 hours ago: in the day, not in the hour.
  runNow('h6_fail', Array(3).fill(`array('old problem')`));
  // Run time is whole seconds from the started line to the outcome line, so a quick run that straddles a second
  // boundary reads 1 (CI saw "0/1" for h6_fail once). The quick hooks' lines are put on their action's last second,
  // so the figures the table prints are exact; h6_sleep keeps its real times (2 or 3 s).
  await rows(
    `UPDATE ${PREFIX}actionscheduler_logs l JOIN (SELECT action_id, MAX(log_date_gmt) AS last_at FROM ${PREFIX}actionscheduler_logs GROUP BY action_id) x USING (action_id) JOIN ${PREFIX}actionscheduler_actions a USING (action_id) SET l.log_date_gmt = x.last_at WHERE a.hook IN ('h6_maybe', 'h6_ok', 'h6_fail')`,
  );
  await rows(
    `UPDATE ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) SET l.log_date_gmt = l.log_date_gmt - INTERVAL 3 HOUR, a.last_attempt_gmt = a.last_attempt_gmt - INTERVAL 3 HOUR WHERE a.hook = 'h6_fail'`,
  );
});

afterAll(async () => {
  await dropPrefix(PREFIX);
});

const find = (w: any, hook: string) => w.hooks.find((h: any) => h.hook === hook);

test('the REST report: runs, failures, rate, errors with counts, run time, failed now; failing hooks first', async () => {
  const r = await api(`${NS}/failing-hooks`);
  expect(r.status).toBe(200);
  const hour = r.json.hour;
  expect(hour.complete).toBe(true);
  expect(hour.hooks[0].hook).toBe('h6_maybe');
  const m = find(hour, 'h6_maybe');
  expect(m).toMatchObject({ group: 'payments', runs: 40, failures: 10, failureRate: 0.25, failedNow: 10 });
  expect(m.errors.map((e: any) => [e.message, e.count])).toEqual(
    expect.arrayContaining([
      ['card declined', 5],
      ['gateway timeout', 5],
    ]),
  );
  expect(m.errors).toHaveLength(2);
  expect(m.errors[0].lastSeen >= m.errors[0].firstSeen).toBe(true);
  expect(find(hour, 'h6_ok')).toMatchObject({ group: 'h6-ok', runs: 10, failures: 0, failureRate: 0, errors: [] });
  const slow = find(hour, 'h6_sleep');
  expect(slow.runs).toBe(2);
  // Whole seconds from the "started" line to the outcome line: a 2 s sleep reads 2 or 3.
  expect(slow.runSeconds.p50).toBeGreaterThanOrEqual(2);
  expect(slow.runSeconds.p95).toBeLessThanOrEqual(3);
  expect(find(hour, 'h6_fail')).toBeUndefined();
  const old = find(r.json.day, 'h6_fail');
  expect(old).toMatchObject({
    runs: 3,
    failures: 3,
    failureRate: 1,
    failedNow: 3,
    errors: [expect.objectContaining({ message: 'old problem', count: 3 })],
  });
  expect(find(r.json.day, 'h6_maybe')).toMatchObject({ runs: 40, failures: 10 });
});

test('the same error met by two runners (in process and the sidecar) is one message with both counts', async () => {
  php(PREFIX, `for ($i = 0; $i < 4; $i++) { as_enqueue_async_action('h6_fail', array('shared error'), 'both'); }`);
  const sidecar = startSidecar(PREFIX, ['--workers=1'], { SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    const failed = await eventually(
      async () =>
        Number(
          (
            await rows(
              `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_fail' AND status = 'failed' AND args = '["shared error"]'`,
            )
          )[0].n,
        ),
      (n) => n === 4,
      60000,
    );
    expect(failed).toBe(4);
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
  runNow('h6_fail', [`array('shared error')`], 'both');
  const r = await api(`${NS}/failing-hooks?window=hour`);
  expect(r.json.day).toBeUndefined();
  const h = r.json.hour.hooks.find((x: any) => x.hook === 'h6_fail' && x.group === 'both');
  expect(h).toMatchObject({
    runs: 5,
    failures: 5,
    errors: [expect.objectContaining({ message: 'shared error', count: 5 })],
  });
  const contexts = (
    await rows(
      `SELECT DISTINCT SUBSTRING_INDEX(SUBSTRING_INDEX(l.message, ':', 1), 'via ', -1) AS ctx FROM ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) WHERE a.args = '["shared error"]' AND l.message LIKE 'action failed via%' ORDER BY ctx`,
    )
  ).map((x: any) => x.ctx);
  expect(contexts).toEqual(['H6 test', 'Sidecar']);
});

test('wp sidecar-scheduler report: the same figures as JSON, and a table with the top error', async () => {
  const json = wp(PREFIX, ['sidecar-scheduler', 'report', '--format=json']);
  expect(json.code).toBe(0);
  const rep = JSON.parse(json.stdout.trim().split('\n').pop()!);
  const rest = (await api(`${NS}/failing-hooks`)).json;
  // The two ran a moment apart: only their windows' start differs.
  for (const r of [rep, rest]) {
    delete r.generatedAt;
    delete r.hour.since;
    delete r.day.since;
  }
  expect(rep).toEqual(rest);
  const table = wp(PREFIX, ['sidecar-scheduler', 'report', '--window=day', '--failing']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^h6_maybe\tpayments\t40\t10\t25\.0%\t0\/0\t10\t/m);
  expect(table.stdout).toMatch(/card declined \(5×, last \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)|gateway timeout \(5×/);
  expect(table.stdout).toMatch(/^h6_fail\t\t3\t3\t100\.0%\t0\/0\t3\told problem \(3×/m);
  expect(table.stdout).not.toContain('h6_ok');
  expect(table.stdout).not.toContain('h6_sleep');
  const bad = wp(PREFIX, ['sidecar-scheduler', 'report', '--window=week']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("Invalid value specified for 'window'");
});

test('the route needs the admin capability and validates its window', async () => {
  expect((await api(`${NS}/failing-hooks`, { anonymous: true })).status).toBe(401);
  const bad = await api(`${NS}/failing-hooks?window=week`);
  expect(bad.status).toBe(400);
  expect(bad.json.code).toBe('rest_invalid_param');
});
