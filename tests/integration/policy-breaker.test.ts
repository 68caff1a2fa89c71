// A group's circuit breaker on the real stack, under a live sidecar: 3 consecutive failures open it (no fourth action
// starts), its actions wait pending through the cool-down, one trial run is claimed (half-open), a failed trial opens
// it again, a successful one closes it and the rest run; every transition is in the logs, in /metrics, REST and the
// admin banner.
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

const MODES: [string, string, string[]][] = [
  ['standalone', `h7bs${process.pid % 1000}_`, [OURS]],
  ['companion (the real library bundled after ours)', `h7bc${process.pid % 1000}_`, [OURS, BUNDLER_AFTER]],
];
const COOLDOWN = 4;

describe.each(MODES)('circuit breaker, %s', (_mode, P, plugins) => {
  const actions = () =>
    rows<{ action_id: number; status: string; attempts: number }>(
      `SELECT action_id, status, attempts FROM ${P}actionscheduler_actions WHERE hook = 'h7_flaky' ORDER BY action_id`,
    );
  const runs = () =>
    rows<{ action_id: number; started: number }>(`SELECT action_id, started FROM ${P}h7_runs ORDER BY id`);
  const breaker = () =>
    rows<any>(
      `SELECT *, UNIX_TIMESTAMP(until_gmt) AS until_ts, UNIX_TIMESTAMP(opened_gmt) AS opened_ts FROM ${P}sidecar_breakers WHERE group_slug = 'h7brk'`,
    ).then((r) => r[0]);
  const logsOf = (id: number) =>
    rows<{ message: string }>(`SELECT message FROM ${P}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
      id,
    ]).then((r) => r.map((x) => x.message));

  beforeAll(async () => {
    await policySite(P, plugins);
  });
  afterAll(() => dropPrefix(P));

  test('opens after 3 consecutive failures, waits, probes with one trial, opens again on failure, closes on success', async () => {
    php(
      P,
      `update_option( 'h7_code_policies', array( array( 'group', 'h7brk', array( 'breaker' => array( 'failures' => 3, 'cooldown' => ${COOLDOWN} ) ) ) ) ); update_option( 'h7_flaky_failures', 1000 );`,
    );
    expect(wp(P, ['sidecar-scheduler', 'policies', 'list']).code).toBe(0); // publishes the limits, creates the table
    const port = await freePort();
    const s = startSidecar(P, ['--workers=2', `--http-port=${port}`], { SIDECAR_SCHEDULER_NUDGE: '' });
    try {
      await eventually(
        async () => s.output.join(''),
        (o) => /"msg":"ready"/.test(o),
        60000,
      );
      php(P, `for ( $i = 0; $i < 10; $i++ ) { as_enqueue_async_action( 'h7_flaky', array( $i ), 'h7brk' ); }`);
      // Three fail, the breaker opens, and no fourth starts while it is open.
      const opened = await eventually(breaker, (b) => b?.state === 'open', 30000);
      expect([opened.state, Number(opened.opens), Number(opened.consecutive), opened.reason]).toEqual([
        'open',
        1,
        3,
        '3 consecutive failures',
      ]);
      expect(Number(opened.until_ts) - Number(opened.opened_ts)).toBe(COOLDOWN);
      await new Promise((r) => setTimeout(r, 1000));
      const first = await runs();
      expect(first.length).toBe(3);
      const st = await actions();
      expect(st.filter((a) => a.status === 'failed').map((a) => a.action_id)).toEqual(
        first.map((r) => Number(r.action_id)).sort((a, b) => a - b),
      );
      expect(st.filter((a) => a.status === 'pending' && Number(a.attempts) === 0).length).toBe(7);
      expect(await logsOf(Number(first[2].action_id))).toContain(
        `circuit breaker of group "h7brk" opened: 3 consecutive failures; its actions wait ${COOLDOWN} s, then one trial run decides`,
      );
      // The banner says it is open, since when and why.
      const cookies = await adminCookies(P);
      const html = await (
        await fetch(
          `${PREFIX_SITE}/wp-admin/tools.php?page=${plugins.length > 1 ? 'sidecar-queue-health' : 'action-scheduler'}`,
          {
            headers: { 'X-WP-Table-Prefix': P, cookie: cookies },
          },
        )
      ).text();
      expect(html).toMatch(
        /Group &quot;h7brk&quot;: open since .+?, until .+? \(3 consecutive failures\); then one trial run decides\./,
      );

      // After the cool-down exactly one trial runs; it fails, so the breaker opens again.
      const reopened = await eventually(breaker, (b) => Number(b?.opens) === 2, 30000);
      expect([reopened.state, reopened.reason]).toEqual([
        'open',
        expect.stringMatching(/^the trial run \(action \d+\) failed$/),
      ]);
      const second = await runs();
      expect(second.length).toBe(4);
      const trial1 = Number(second[3].action_id);
      expect(Number(second[3].started)).toBeGreaterThanOrEqual(Number(opened.until_ts));
      expect((await logsOf(trial1)).filter((l) => l.startsWith('circuit breaker'))).toEqual([
        'circuit breaker of group "h7brk" half-open: its cool-down is over and this is the trial run',
        `circuit breaker of group "h7brk" opened: the trial run (action ${trial1}) failed; its actions wait ${COOLDOWN} s, then one trial run decides`,
      ]);

      // The service is back: the next trial succeeds, the breaker closes and the other 5 run.
      await rows(`UPDATE ${P}options SET option_value = '0' WHERE option_name = 'h7_flaky_failures'`);
      const closed = await eventually(breaker, (b) => b?.state === 'closed', 30000);
      expect(closed.reason).toMatch(/^the trial run \(action \d+\) succeeded$/);
      const done = await eventually(actions, (a) => a.filter((x) => x.status === 'complete').length === 6, 30000);
      expect(done.map((a) => a.status).sort()).toEqual([...Array(6).fill('complete'), ...Array(4).fill('failed')]);
      const all = await runs();
      expect(all.length).toBe(10);
      expect(new Set(all.map((r) => r.action_id)).size).toBe(10);
      const trial2 = Number(all[4].action_id);
      expect((await logsOf(trial2)).filter((l) => l.startsWith('circuit breaker'))).toEqual([
        'circuit breaker of group "h7brk" half-open: its cool-down is over and this is the trial run',
        `circuit breaker of group "h7brk" closed: the trial run (action ${trial2}) succeeded`,
      ]);
      // No other action of the group started before the successful trial ended.
      expect(all.slice(5).every((r) => Number(r.started) > Number(all[4].started))).toBe(true);

      const m = await eventually(
        () => metricsText(port),
        (t) => t.includes(`sidecar_breaker_state{site="${P}",group="h7brk"} 0`),
        10000,
      );
      expect(m).toContain(`sidecar_breaker_opens_total{site="${P}",group="h7brk"} 2`);
      expect(m).toContain(`sidecar_breaker_trials_total{site="${P}",group="h7brk"} 2`);
      const rest = phpJson(
        P,
        `wp_set_current_user( 1 ); $r = rest_do_request( new WP_REST_Request( 'GET', '/sidecar-scheduler/v1/breakers' ) ); echo json_encode( array( $r->get_status(), $r->get_data()[0]['state'], $r->get_data()[0]['opens'] ) );`,
      );
      expect(rest).toEqual([200, 'closed', 2]);
      expect(JSON.parse(wp(P, ['sidecar-scheduler', 'breakers', '--format=json']).stdout)[0]).toMatchObject({
        group: 'h7brk',
        state: 'closed',
        opens: 2,
      });
    } finally {
      s.kill('SIGTERM');
      await exited(s).catch(() => null);
    }
  });

  test('a failure rate over the window opens it too, whichever runner ran the actions (here `wp action-scheduler run`)', async () => {
    php(
      P,
      `update_option( 'h7_code_policies', array( array( 'group', 'h7rate', array( 'breaker' => array( 'failures' => 0, 'rate' => 0.5, 'window' => 60, 'min_runs' => 4, 'cooldown' => 300 ) ) ) ) );`,
    );
    // Two successes first (priority 1), then two failures: 2 of 4 runs failed, 50 %, while never 3 in a row.
    php(
      P,
      `as_enqueue_async_action( 'h7_ok', array( 1 ), 'h7rate', false, 1 ); as_enqueue_async_action( 'h7_ok', array( 2 ), 'h7rate', false, 1 ); as_enqueue_async_action( 'h7_fail', array( 3 ), 'h7rate', false, 2 ); as_enqueue_async_action( 'h7_fail', array( 4 ), 'h7rate', false, 2 );`,
    );
    const r = wp(P, ['action-scheduler', 'run', '--group=h7rate']);
    expect(r.code).toBe(0);
    const b = (await rows<any>(`SELECT * FROM ${P}sidecar_breakers WHERE group_slug = 'h7rate'`))[0];
    expect([b.state, Number(b.window_runs), Number(b.window_failures), b.reason]).toEqual([
      'open',
      4,
      2,
      '2 of 4 runs failed within 60 s',
    ]);
    const last = (
      await rows<{ action_id: number }>(
        `SELECT action_id FROM ${P}actionscheduler_actions WHERE hook = 'h7_fail' AND args = '[4]'`,
      )
    )[0].action_id;
    expect(await logsOf(Number(last))).toContain(
      'circuit breaker of group "h7rate" opened: 2 of 4 runs failed within 60 s; its actions wait 300 s, then one trial run decides',
    );
  });
});
