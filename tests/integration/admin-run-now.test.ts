// "Run now" from the admin against a live sidecar: it queues (due now + a nudge) instead of running the callback in
// the web request, so racing the sidecar's drain every action runs exactly once (counted by the callback in a table
// of the test's own), and none is failed. Bulk run is capped.
import { php, rows, dropPrefix, PREFIX_SITE, startSidecar, exited, eventually } from '../helpers/stack';
import { countingSite } from '../helpers/sites';

// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const PREFIX = `tfa${process.pid}_`;
const NS = '/sidecar-scheduler/v1';
const runs = `${PREFIX}sidecar_test_runs`;
let auth = '';

afterAll(async () => {
  await dropPrefix(PREFIX);
});

beforeAll(async () => {
  await countingSite(PREFIX);
  const pass = php(
    PREFIX,
    `$u = get_user_by('login', 'admin'); list($p) = WP_Application_Passwords::create_new_application_password($u->ID, array('name' => 'tf ' . microtime(true))); echo $p;`,
  ).trim();
  auth = 'Basic ' + Buffer.from(`admin:${pass}`).toString('base64');
});

async function call(path: string, method = 'POST', body?: unknown) {
  const res = await fetch(`${PREFIX_SITE}/wp-json${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: auth, 'X-WP-Table-Prefix': PREFIX },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

test('"Run now" without a sidecar queues the action (due now, still pending) and runs nothing in the request', async () => {
  const id = Number(
    php(PREFIX, `echo as_schedule_single_action(time() + 7200, 'sidecar_test_count', array(1), 'tf-admin');`).trim(),
  );
  const r = await call(`${NS}/actions/${id}/run`);
  expect(r.status).toBe(200);
  expect(r.json).toEqual({ id, status: 'pending', queued: true });
  const [row] = await rows(
    `SELECT status, attempts, UNIX_TIMESTAMP(scheduled_date_gmt) AS due FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`,
    [id],
  );
  expect([row.status, row.attempts]).toEqual(['pending', 0]);
  expect(Math.abs(Number(row.due) - Date.now() / 1000)).toBeLessThan(60);
  expect(await rows(`SELECT n FROM ${runs}`)).toEqual([]);
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
    id,
  ]);
  expect(logs.map((l: any) => l.message)).toEqual(['action created', 'action queued to run now from the admin screen']);
  // A second click on an action that is no longer pending is a 409, as before.
  await rows(`UPDATE ${PREFIX}actionscheduler_actions SET status = 'complete' WHERE action_id = ?`, [id]);
  expect((await call(`${NS}/actions/${id}/run`)).status).toBe(409);
  await rows(`DELETE FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [id]);
});

test('"Run now" and bulk run racing a live sidecar drain: every action runs exactly once, none failed', async () => {
  const TOTAL = 1500;
  php(
    PREFIX,
    `for ($i = 0; $i < ${TOTAL}; $i++) { as_enqueue_async_action('sidecar_test_count', array(10000 + $i), 'tf-race'); }`,
  );
  const ids = (
    await rows(
      `SELECT action_id FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND status = 'pending' ORDER BY action_id`,
    )
  ).map((r: any) => Number(r.action_id));
  const s = startSidecar(PREFIX, ['--workers=2', '--batch-size=25']);
  let requests = 0;
  let queued = 0;
  try {
    // Four clients clicking "Run now" on actions the sidecar is about to start, plus a bulk run now and then.
    const client = async (k: number) => {
      for (let i = k; i < ids.length; i += 4 * 3) {
        const r =
          i % 60 === k
            ? await call(`${NS}/actions/bulk`, 'POST', { op: 'run', ids: ids.slice(i, i + 20) })
            : await call(`${NS}/actions/${ids[i]}/run`);
        requests++;
        if (r.status === 200) queued++;
        else expect(r.status).toBe(409); // it had already started or finished
      }
    };
    await Promise.all([0, 1, 2, 3].map(client));
    await eventually(
      async () =>
        Number(
          (
            await rows(
              `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND args LIKE '[1____]' AND status IN ('pending', 'in-progress')`,
            )
          )[0].n,
        ),
      (n) => n === 0,
      60000,
      200,
    );
  } finally {
    s.kill('SIGTERM');
    await exited(s, 60000);
  }
  expect(requests).toBeGreaterThanOrEqual(100);
  expect(queued).toBeGreaterThan(0); // some clicks landed before the sidecar got there
  const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runs} WHERE n BETWEEN 10000 AND 19999`);
  expect([Number(c.n), Number(c.d)]).toEqual([TOTAL, TOTAL]);
  const byStatus = await rows(
    `SELECT status, attempts, COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND args LIKE '[1____]' GROUP BY status, attempts`,
  );
  expect(byStatus.map((r: any) => [r.status, Number(r.attempts), Number(r.n)])).toEqual([['complete', 1, TOTAL]]);
  const [adminRuns] = await rows(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs WHERE message LIKE '%via Admin List Table%'`,
  );
  expect(Number(adminRuns.n)).toBe(0); // nothing ran inside a web request
}, 240000);

test('bulk run is capped at 1,000 per request and only queues pending actions', async () => {
  php(
    PREFIX,
    `for ($i = 0; $i < 1100; $i++) { as_schedule_single_action(time() + 7200, 'sidecar_test_noop', array($i), 'tf-bulk'); }`,
  );
  const r = await call(`${NS}/actions/bulk`, 'POST', { op: 'run', filter: { group: 'tf-bulk' } });
  expect(r.status).toBe(200);
  expect(r.json).toMatchObject({ op: 'run', matched: 1000, done: 1000, limit: 1000, queued: true });
  const [due] = await rows(
    `SELECT SUM(scheduled_date_gmt <= UTC_TIMESTAMP()) AS now, COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions a JOIN ${PREFIX}actionscheduler_groups g USING (group_id) WHERE g.slug = 'tf-bulk' AND a.status = 'pending'`,
  );
  expect([Number(due.now), Number(due.n)]).toEqual([1000, 1100]);
}, 120000);
