// Pause and resume of a group and of a hook on the real stack: under a live sidecar nothing paused starts while the
// rest drains, the pause survives a sidecar restart, /metrics and the admin banner show it (who, when), resume runs
// each paused action once; the library's own runner (`wp action-scheduler run`, companion mode) leaves them out too.
import {
  php,
  phpJson,
  rows,
  startSidecar,
  exited,
  dropPrefix,
  wp,
  eventually,
  PREFIX_SITE,
  OURS,
  BUNDLER_AFTER,
  freePort,
} from '../helpers/stack';
import { adminCookies, policySite } from '../helpers/sites';
import { metricsText } from '../helpers/sidecar-http';

const P = `h7ps${process.pid % 1000}_`;
const C = `h7pc${process.pid % 1000}_`;

const statusOf = (p: string, group: string, hook = 'h7_ok') =>
  rows<{ status: string; attempts: number; claim_id: number }>(
    `SELECT a.status, a.attempts, a.claim_id FROM ${p}actionscheduler_actions a JOIN ${p}actionscheduler_groups g ON g.group_id = a.group_id WHERE g.slug = ? AND a.hook = ? ORDER BY a.action_id`,
    [group, hook],
  );
const runsOf = async (p: string, hook: string) =>
  Number((await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM ${p}h7_runs WHERE hook = ?`, [hook]))[0].n);
const runsDistinct = async (p: string) =>
  Number((await rows<{ n: number }>(`SELECT COUNT(DISTINCT action_id) AS n FROM ${p}h7_runs`))[0].n);
function enqueue(p: string, n: number, hook: string, group: string, arg: number) {
  php(p, `for ( $i = 0; $i < ${n}; $i++ ) { as_enqueue_async_action( '${hook}', array( ${arg} + $i ), '${group}' ); }`);
}

beforeAll(async () => {
  await policySite(P, [OURS]);
  await policySite(C, [OURS, BUNDLER_AFTER]);
});
afterAll(async () => {
  await dropPrefix(P);
  await dropPrefix(C);
});

test('under a live sidecar: a paused group and a paused hook stay pending while the rest drains, through a restart; resume runs each once', async () => {
  const port = await freePort();
  let s = startSidecar(P, ['--workers=2', `--http-port=${port}`], { SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    await eventually(
      () => metricsText(port),
      (t) => t.includes('sidecar_actions_running'),
      30000,
    );
    const g = wp(P, ['sidecar-scheduler', 'pause', 'group', 'h7paused']);
    expect(g.stdout.trim()).toMatch(
      /^Success: Group "h7paused" paused by WP-CLI \(system user \w+\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
    );
    expect(wp(P, ['sidecar-scheduler', 'pause', 'hook', 'h7_sleep']).code).toBe(0);
    // The sidecar sees the pauses within a second (its /metrics say so); only then is anything enqueued.
    const seen = await eventually(
      () => metricsText(port),
      (t) =>
        t.includes(`sidecar_paused{site="${P}",scope="group",name="h7paused"} 1`) &&
        t.includes(`sidecar_paused{site="${P}",scope="hook",name="h7_sleep"} 1`),
      10000,
    );
    expect(seen).toContain(`sidecar_paused{site="${P}",scope="hook",name="h7_sleep"} 1`);
    enqueue(P, 20, 'h7_ok', 'h7paused', 0);
    enqueue(P, 5, 'h7_sleep', 'h7free', 1);
    enqueue(P, 30, 'h7_ok', 'h7free', 100);
    const free = await eventually(
      () => statusOf(P, 'h7free'),
      (r) => r.every((x) => x.status === 'complete'),
      60000,
    );
    expect(free.map((x) => x.status)).toEqual(Array(30).fill('complete'));
    await new Promise((r) => setTimeout(r, 2000)); // a few more poll rounds: still nothing of the paused ones starts
    expect(await statusOf(P, 'h7paused')).toEqual(Array(20).fill({ status: 'pending', attempts: 0, claim_id: 0 }));
    expect(await statusOf(P, 'h7free', 'h7_sleep')).toEqual(
      Array(5).fill({ status: 'pending', attempts: 0, claim_id: 0 }),
    );
    expect([await runsOf(P, 'h7_ok'), await runsOf(P, 'h7_sleep')]).toEqual([30, 0]);

    // A fresh sidecar (the pause lives in the site's options, not in the process).
    s.kill('SIGTERM');
    expect(await exited(s)).toBe(0);
    s = startSidecar(P, ['--workers=2', `--http-port=${port}`], { SIDECAR_SCHEDULER_NUDGE: '' });
    await eventually(
      () => metricsText(port),
      (t) => t.includes(`sidecar_paused{site="${P}",scope="group",name="h7paused"} 1`),
      30000,
    );
    enqueue(P, 5, 'h7_ok', 'h7free', 200);
    await eventually(
      () => statusOf(P, 'h7free'),
      (r) => r.length === 35 && r.every((x) => x.status === 'complete'),
      60000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect((await statusOf(P, 'h7paused')).every((x) => x.status === 'pending' && x.attempts === 0)).toBe(true);

    // The banner on the queue screen says what is paused, by whom and when.
    const cookies = await adminCookies(P);
    const html = await (
      await fetch(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`, {
        headers: { 'X-WP-Table-Prefix': P, cookie: cookies },
      })
    ).text();
    expect(html).toMatch(
      /Group &quot;h7paused&quot;: paused by WP-CLI \(system user \w+\) on [^.]+\. Resume: wp sidecar-scheduler resume group h7paused/,
    );
    expect(html).toContain('Hook &quot;h7_sleep&quot;: paused by WP-CLI');

    // Resume the group over REST (as an admin) and the hook from WP-CLI: every paused action runs, once.
    const rest = phpJson(
      P,
      `wp_set_current_user( 1 ); $l = rest_do_request( new WP_REST_Request( 'GET', '/sidecar-scheduler/v1/pauses' ) ); $res = rest_do_request( new WP_REST_Request( 'DELETE', '/sidecar-scheduler/v1/pauses/group/h7paused' ) ); echo json_encode( array( array_map( function ( $p ) { return $p['scope'] . ':' . $p['name']; }, $l->get_data() ), $res->get_status() ) );`,
    );
    expect(rest).toEqual([['group:h7paused', 'hook:h7_sleep'], 200]);
    expect(wp(P, ['sidecar-scheduler', 'resume', 'hook', 'h7_sleep']).stdout.trim()).toBe(
      'Success: Hook "h7_sleep" resumed.',
    );
    const again = wp(P, ['sidecar-scheduler', 'resume', 'hook', 'h7_sleep']);
    expect([again.code, again.stderr.trim()]).toEqual([1, 'Error: The hook "h7_sleep" is not paused.']);
    const resumed = await eventually(
      async () => [...(await statusOf(P, 'h7paused')), ...(await statusOf(P, 'h7free', 'h7_sleep'))],
      (r) => r.every((x) => x.status === 'complete'),
      60000,
    );
    expect(resumed.map((x) => [x.status, x.attempts])).toEqual(Array(25).fill(['complete', 1]));
    expect([await runsOf(P, 'h7_ok'), await runsOf(P, 'h7_sleep'), await runsDistinct(P)]).toEqual([55, 5, 60]);
    expect(await metricsText(port)).not.toContain('sidecar_paused{');
    expect(await rows(`SELECT option_name FROM ${P}options WHERE option_name = 'sidecar_scheduler_pauses'`)).toEqual(
      [],
    );
  } finally {
    s.kill('SIGTERM');
    await exited(s).catch(() => null);
  }
});

test("the library's own runner (companion mode, `wp action-scheduler run`) leaves a paused hook and group out as well", async () => {
  expect(wp(C, ['sidecar-scheduler', 'pause', 'hook', 'h7_sleep']).code).toBe(0);
  expect(wp(C, ['sidecar-scheduler', 'pause', 'group', 'h7%paused']).code).toBe(0);
  enqueue(C, 3, 'h7_sleep', 'h7free', 1);
  enqueue(C, 3, 'h7_ok', 'h7%paused', 10);
  enqueue(C, 4, 'h7_ok', 'h7free', 20);
  const r = wp(C, ['action-scheduler', 'run']);
  expect(r.stderr).not.toMatch(/Fatal|Warning:|database error/i);
  expect((await statusOf(C, 'h7free')).map((x) => x.status)).toEqual(Array(4).fill('complete'));
  expect((await statusOf(C, 'h7%paused')).map((x) => [x.status, x.claim_id])).toEqual(Array(3).fill(['pending', 0]));
  expect((await statusOf(C, 'h7free', 'h7_sleep')).map((x) => [x.status, x.claim_id])).toEqual(
    Array(3).fill(['pending', 0]),
  );
  wp(C, ['sidecar-scheduler', 'resume', 'hook', 'h7_sleep']);
  wp(C, ['sidecar-scheduler', 'resume', 'group', 'h7%paused']);
  wp(C, ['action-scheduler', 'run']);
  expect((await statusOf(C, 'h7%paused')).map((x) => x.status)).toEqual(Array(3).fill('complete'));
  expect((await statusOf(C, 'h7free', 'h7_sleep')).map((x) => x.status)).toEqual(Array(3).fill('complete'));
  expect(await runsDistinct(C)).toBe(10);
});

test('a pause of anything but a group or hook is refused with a clear message', () => {
  const r = wp(C, ['sidecar-scheduler', 'pause', 'grp', 'x']);
  expect([r.code, r.stderr.trim()]).toEqual([1, 'Error: A policy applies to a "hook" or a "group", not to "grp".']);
});
