// Retry policies and dead letters on the real stack, in standalone mode and beside the real library (companion):
// exact delays (read from the stored dates, never slept), the failed row and its logs left as the library leaves
// them, recurring and cron chains not doubled, fatal errors and time limits, the last attempt becoming a dead letter,
// bulk re-run and purge, code over screen, bad values refused with a clear message, and nothing at all without a policy.
import { php, phpJson, rows, startSidecar, exited, dropPrefix, wp, OURS, BUNDLER_AFTER } from '../helpers/stack';
import { policySite } from '../helpers/sites';

const MODES: [string, string, string[]][] = [
  ['standalone', `h7rs${process.pid % 1000}_`, [OURS]],
  ['companion (the real library bundled after ours)', `h7rc${process.pid % 1000}_`, [OURS, BUNDLER_AFTER]],
];

type Policy = [scope: 'hook' | 'group', name: string, policy: unknown];
function setCodePolicies(prefix: string, policies: Policy[]) {
  php(prefix, `update_option( 'h7_code_policies', json_decode( ${JSON.stringify(JSON.stringify(policies))}, true ) );`);
}

interface ActionRow {
  action_id: number;
  hook: string;
  status: string;
  args: string;
  priority: number;
  group_slug: string;
  scheduled_date_gmt: string;
  last_attempt_gmt: string;
  schedule: string;
  attempts: number;
}
/** The test's own actions (the site also has the library's daily ensure-recurring action). */
const actions = (p: string, where = '1=1', params: unknown[] = []) =>
  rows<ActionRow>(
    `SELECT a.action_id, a.hook, a.status, a.args, a.priority, g.slug AS group_slug, a.scheduled_date_gmt, a.last_attempt_gmt, a.schedule, a.attempts FROM ${p}actionscheduler_actions a LEFT JOIN ${p}actionscheduler_groups g ON g.group_id = a.group_id WHERE a.hook LIKE 'h7\\_%' AND ${where} ORDER BY a.action_id`,
    params,
  );
const logs = (p: string, id: number) =>
  rows<{ message: string }>(`SELECT message FROM ${p}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
    id,
  ]).then((r) => r.map((x) => x.message));
const attempt = (p: string, id: number) =>
  rows<any>(
    `SELECT *, TIMESTAMPDIFF(SECOND, failed_gmt, (SELECT scheduled_date_gmt FROM ${p}actionscheduler_actions WHERE action_id = next_id)) AS gap FROM ${p}sidecar_attempts WHERE action_id = ?`,
    [id],
  ).then((r) => r[0]);
/** The test's clock: a copy waiting for its delay is made due now, so the next run takes it without sleeping. */
const makeDue = (p: string, id: number) =>
  rows(
    `UPDATE ${p}actionscheduler_actions SET scheduled_date_gmt = UTC_TIMESTAMP() - INTERVAL 1 SECOND, scheduled_date_local = scheduled_date_gmt WHERE action_id = ?`,
    [id],
  );
const runs = (p: string, hook: string) =>
  rows<{ action_id: number }>(`SELECT action_id FROM ${p}h7_runs WHERE hook = ? ORDER BY id`, [hook]).then((r) =>
    r.map((x) => Number(x.action_id)),
  );

async function sidecarOnce(p: string) {
  const s = startSidecar(p, ['--once', '--workers=1'], { SIDECAR_SCHEDULER_NUDGE: '' });
  const code = await exited(s);
  if (code !== 0) throw new Error(`sidecar exited ${code}: ${s.output.join('').slice(-3000)}`);
}
function cliRun(p: string, hooks: string) {
  const r = wp(p, ['action-scheduler', 'run', `--hooks=${hooks}`, '--force']);
  expect(r.stderr).not.toMatch(/Fatal|Warning:/);
  return r;
}

describe.each(MODES)('retries and dead letters, %s', (mode, P, plugins) => {
  beforeAll(async () => {
    await policySite(P, plugins);
    expect(phpJson(P, `echo json_encode( SidecarScheduler\\Plugin::mode() );`)).toBe(
      mode.startsWith('standalone') ? 'standalone' : 'companion',
    );
  });
  afterAll(() => dropPrefix(P));

  test('without a policy nothing changes: a failure stays failed, no copy, no table, no option', async () => {
    setCodePolicies(P, []);
    const id = Number(php(P, `echo as_enqueue_async_action( 'h7_fail', array( 0 ), 'h7none' );`));
    cliRun(P, 'h7_fail');
    expect((await actions(P)).map((a) => [a.action_id, a.status])).toEqual([[id, 'failed']]);
    expect(await rows(`SHOW TABLES LIKE '${P}sidecar\\_attempts'`)).toEqual([]);
    expect(
      await rows(
        `SELECT option_name FROM ${P}options WHERE option_name IN ('sidecar_scheduler_policies', 'sidecar_scheduler_attempts_schema')`,
      ),
    ).toEqual([]);
    await rows(`DELETE FROM ${P}actionscheduler_actions WHERE hook LIKE 'h7\\_%'`);
    await rows(`DELETE FROM ${P}h7_runs`);
  });

  test('delays [10, 60, 600]: each copy due exactly that long after the failure, same hook/args/group/priority, then a dead letter', async () => {
    setCodePolicies(P, [['hook', 'h7_fail', { delays: [10, 60, 600] }]]);
    const first = Number(php(P, `echo as_enqueue_async_action( 'h7_fail', array( 5 ), 'h7g', false, 7 );`));
    const chain = [first];
    const delays = [10, 60, 600];
    for (let n = 0; n < 4; n++) {
      const id = chain[n];
      // Attempts 1 and 4 through the sidecar's worker, 2 and 3 through `wp action-scheduler run` (the library's command in companion mode).
      if (n === 0 || n === 3) await sidecarOnce(P);
      else cliRun(P, 'h7_fail');
      const [failed] = await actions(P, 'a.action_id = ?', [id]);
      expect([failed.status, failed.attempts]).toEqual(['failed', 1]);
      // The failed row's logs are the library's, nothing added.
      const failedLogs = await logs(P, id);
      expect(
        failedLogs.slice(-2).map((l) => l.replace(/via \w[\w ]*:/, 'via X:').replace(/via \w[\w ]*$/, 'via X')),
      ).toEqual(['action started via X', 'action failed via X: h7 failure 5']);
      const a = await attempt(P, id);
      expect([Number(a.origin_id), Number(a.attempt), Number(a.max_attempts), a.error]).toEqual([
        first,
        n + 1,
        4,
        'h7 failure 5',
      ]);
      if (n < 3) {
        const copyId = Number(a.next_id);
        expect(a.next_kind).toBe('retry');
        expect(Number(a.gap)).toBe(delays[n]); // Exactly the delay after the recorded failure.
        const [copy] = await actions(P, 'a.action_id = ?', [copyId]);
        expect([copy.hook, copy.args, copy.group_slug, Number(copy.priority), copy.status]).toEqual([
          'h7_fail',
          '[5]',
          'h7g',
          7,
          'pending',
        ]);
        expect(copy.schedule).toMatch(/^O:30:"ActionScheduler_SimpleSchedule"/);
        expect(await logs(P, copyId)).toEqual([
          'action created',
          `retry: attempt ${n + 2} of 4, after action ${id} failed (first attempt: action ${first}); due ${delays[n]} s after the failure`,
        ]);
        // Not due yet: a run now leaves it alone.
        cliRun(P, 'h7_fail');
        expect((await actions(P, 'a.action_id = ?', [copyId]))[0].status).toBe('pending');
        await makeDue(P, copyId);
        chain.push(copyId);
      } else {
        expect([Number(a.dead), Number(a.next_id)]).toEqual([1, 0]);
      }
    }
    expect(await runs(P, 'h7_fail')).toEqual(chain); // Each attempt ran exactly once, counted by the callback.
    expect(await actions(P, "a.status = 'pending'")).toEqual([]);
    const dl = JSON.parse(wp(P, ['sidecar-scheduler', 'dead-letters', 'list', '--format=json']).stdout);
    const a1 = await attempt(P, first);
    const a4 = await attempt(P, chain[3]);
    expect(dl).toEqual({
      total: 1,
      items: [
        {
          id: chain[3],
          originId: first,
          hook: 'h7_fail',
          group: 'h7g',
          attempts: 4,
          lastError: 'h7 failure 5',
          firstFailureGmt: a1.failed_gmt,
          lastFailureGmt: a4.failed_gmt,
          status: 'failed',
        },
      ],
    });
    expect(a4.first_failed_gmt).toBe(a1.failed_gmt);
  });

  test('recurring and cron actions: the chain goes on once, the retry copy is a single action, the last attempt a dead letter', async () => {
    setCodePolicies(P, [['group', 'h7chain', { delays: [30] }]]);
    const rec = Number(
      php(P, `echo as_schedule_recurring_action( time() - 5, 3600, 'h7_fail2', array( 1 ), 'h7chain' );`),
    );
    const cron = Number(
      php(P, `echo as_schedule_cron_action( time() - 5, '0 3 * * *', 'h7_fail2', array( 2 ), 'h7chain' );`),
    );
    await makeDue(P, cron); // Its first run would be at 03:00.
    await sidecarOnce(P);
    const pending = await actions(P, "a.status = 'pending' AND a.hook = 'h7_fail2'");
    const successors = pending.filter((a) => !a.schedule.startsWith('O:30:"ActionScheduler_SimpleSchedule"'));
    const copies = pending.filter((a) => a.schedule.startsWith('O:30:"ActionScheduler_SimpleSchedule"'));
    expect(successors.map((a) => [a.args, a.schedule.match(/^O:\d+:"(\w+)"/)![1]]).sort()).toEqual([
      ['[1]', 'ActionScheduler_IntervalSchedule'],
      ['[2]', 'ActionScheduler_CronSchedule'],
    ]);
    expect(copies.map((a) => a.args).sort()).toEqual(['[1]', '[2]']);
    for (const id of [rec, cron]) expect(Number((await attempt(P, id)).gap)).toBe(30);
    for (const c of copies) await makeDue(P, c.action_id);
    await sidecarOnce(P);
    // Both copies failed their last attempt: dead letters; the chains still have exactly one successor each, not due.
    for (const c of copies) expect(Number((await attempt(P, c.action_id)).dead)).toBe(1);
    const after = await actions(P, "a.status = 'pending' AND a.hook = 'h7_fail2'");
    expect(after.map((a) => a.action_id)).toEqual(successors.map((a) => a.action_id));
    expect((await runs(P, 'h7_fail2')).length).toBe(4);
  });

  test('a fatal error (sidecar) and a time limit (the cleaner) are retried too', async () => {
    setCodePolicies(P, [
      ['hook', 'h7_fatal', { delays: [5] }],
      ['hook', 'h7_ok', { retries: 1, delays: [7] }],
    ]);
    const fatal = Number(php(P, `echo as_enqueue_async_action( 'h7_fatal', array( 1 ), 'h7x' );`));
    await sidecarOnce(P);
    const a = await attempt(P, fatal);
    expect(a.error).toMatch(/^Allowed memory size of \d+ bytes exhausted/);
    expect([Number(a.attempt), Number(a.gap), a.next_kind]).toEqual([1, 5, 'retry']);
    expect((await actions(P, 'a.action_id = ?', [fatal]))[0].status).toBe('failed');
    // An action stuck in progress for an hour: the library's cleaner (before `run`'s batch) fails it for its time limit.
    const stuck = Number(php(P, `echo as_enqueue_async_action( 'h7_ok', array( 9 ), 'h7x' );`));
    await rows(
      `UPDATE ${P}actionscheduler_actions SET status = 'in-progress', attempts = 1, last_attempt_gmt = UTC_TIMESTAMP() - INTERVAL 1 HOUR, last_attempt_local = last_attempt_gmt WHERE action_id = ?`,
      [stuck],
    );
    cliRun(P, 'h7_nothing_due');
    const t = await attempt(P, stuck);
    expect([t.error, Number(t.gap), Number(t.max_attempts)]).toEqual(['timed out after 300 seconds', 7, 2]);
    const [copy] = await actions(P, 'a.action_id = ?', [Number(t.next_id)]);
    expect([copy.hook, copy.args, copy.status]).toEqual(['h7_ok', '[9]', 'pending']);
  });

  test('dead letters: re-run all matching as fresh pending copies due now, purge the rest; CLI refuses a bare purge', async () => {
    setCodePolicies(P, [
      ['hook', 'h7_fail', { retries: 0 }],
      ['hook', 'h7_fail2', { retries: 0 }],
    ]);
    await rows(`DELETE FROM ${P}sidecar_attempts`);
    const ids = [11, 12, 13].map((n) =>
      Number(php(P, `echo as_enqueue_async_action( 'h7_fail', array( ${n} ), 'h7bulk' );`)),
    );
    const other = Number(php(P, `echo as_enqueue_async_action( 'h7_fail2', array( 14 ), 'h7bulk' );`));
    cliRun(P, 'h7_fail,h7_fail2');
    expect(JSON.parse(wp(P, ['sidecar-scheduler', 'dead-letters', 'list', '--format=json']).stdout).total).toBe(4);
    const bare = wp(P, ['sidecar-scheduler', 'dead-letters', 'purge']);
    expect([bare.code, bare.stderr.trim()]).toEqual([
      1,
      'Error: Give action IDs, or --all (with --hook / --group to narrow it).',
    ]);
    const r = wp(P, ['sidecar-scheduler', 'dead-letters', 'retry', '--all', '--hook=h7_fail']);
    expect(r.code).toBe(0);
    const fresh = await actions(P, "a.status = 'pending' AND a.hook = 'h7_fail'");
    expect(fresh.map((a) => a.args).sort()).toEqual(['[11]', '[12]', '[13]']);
    expect(r.stdout.trim()).toBe(
      `Success: 3 of 3 dead letters re-run as actions ${fresh.map((a) => a.action_id).join(', ')}.`,
    );
    const due = await rows<{ due: number }>(
      `SELECT COUNT(*) AS due FROM ${P}actionscheduler_actions WHERE status = 'pending' AND hook = 'h7_fail' AND scheduled_date_gmt <= UTC_TIMESTAMP()`,
    );
    expect(Number(due[0].due)).toBe(3);
    const byArgs = new Map(fresh.map((a) => [a.args, a.action_id]));
    expect((await logs(P, byArgs.get('[11]')!))[1]).toBe(
      `re-run of dead letter: action ${ids[0]}, which failed 1 attempts (first attempt: action ${ids[0]})`,
    );
    const left = JSON.parse(wp(P, ['sidecar-scheduler', 'dead-letters', 'list', '--format=json']).stdout);
    expect(left.items.map((i: { id: number }) => i.id)).toEqual([other]);
    expect(wp(P, ['sidecar-scheduler', 'dead-letters', 'purge', '--all']).stdout.trim()).toBe(
      'Success: 1 dead letters discarded.',
    );
    expect(JSON.parse(wp(P, ['sidecar-scheduler', 'dead-letters', 'list', '--format=json']).stdout).total).toBe(0);
    expect((await actions(P, 'a.action_id = ?', [other]))[0].status).toBe('failed'); // Discarding keeps the failed row.
    // The re-runs start a chain of their own: with retries 0 they are dead letters again after one failure.
    cliRun(P, 'h7_fail');
    expect(
      JSON.parse(wp(P, ['sidecar-scheduler', 'dead-letters', 'list', '--format=json', '--hook=h7_fail']).stdout).total,
    ).toBe(3);
    // Over REST, as an admin: re-run one by ID, then the list's schema.
    const one = fresh[0].action_id;
    const dead = (
      await rows<{ action_id: number }>(
        `SELECT action_id FROM ${P}sidecar_attempts WHERE dead = 1 ORDER BY action_id LIMIT 1`,
      )
    )[0].action_id;
    const rest = phpJson(
      P,
      `wp_set_current_user( 1 ); $r = new WP_REST_Request( 'POST', '/sidecar-scheduler/v1/dead-letters/retry' ); $r->set_body_params( array( 'ids' => array( ${dead} ) ) ); $res = rest_do_request( $r ); $l = rest_do_request( new WP_REST_Request( 'GET', '/sidecar-scheduler/v1/dead-letters' ) ); $o = rest_do_request( new WP_REST_Request( 'OPTIONS', '/sidecar-scheduler/v1/dead-letters' ) ); echo json_encode( array( $res->get_status(), $res->get_data()['done'], $l->get_data()['total'], array_keys( $o->get_data()['schema']['properties']['items']['items']['properties'] ) ) );`,
    );
    expect(rest).toEqual([
      200,
      1,
      2,
      ['id', 'originId', 'hook', 'group', 'attempts', 'lastError', 'firstFailureGmt', 'lastFailureGmt', 'status'],
    ]);
    expect(one).toBeGreaterThan(0);
    await rows(`DELETE FROM ${P}actionscheduler_actions WHERE status = 'pending' AND hook LIKE 'h7\\_%'`);
  });

  test("a hook policy wins over its group's; code wins over the screen, and the listing says so", async () => {
    setCodePolicies(P, [
      ['group', 'h7pg', { delays: [20] }],
      ['hook', 'h7_fail2', { delays: [40] }],
    ]);
    const saved = phpJson(
      P,
      `wp_set_current_user( 1 ); $r = new WP_REST_Request( 'PUT', '/sidecar-scheduler/v1/policies/hook/h7_fail2' ); $r->set_body_params( array( 'policy' => array( 'retries' => 5 ) ) ); $res = rest_do_request( $r ); echo json_encode( array( $res->get_status(), $res->get_data() ) );`,
    );
    expect(saved).toEqual([
      200,
      {
        scope: 'hook',
        name: 'h7_fail2',
        policy: { retries: 5, backoff: { base: 10, factor: 2, max: 3600, jitter: 0.2 } },
        source: 'screen',
        overriddenByCode: true,
      },
    ]);
    const listing = JSON.parse(wp(P, ['sidecar-scheduler', 'policies', 'list', '--format=json']).stdout);
    expect(listing.policies.map((p: any) => [p.scope, p.name, p.source, p.active])).toEqual([
      ['group', 'h7pg', 'code', true],
      ['hook', 'h7_fail2', 'code', true],
      ['hook', 'h7_fail2', 'screen', false],
    ]);
    const inGroup = Number(php(P, `echo as_enqueue_async_action( 'h7_fail', array( 21 ), 'h7pg' );`));
    const own = Number(php(P, `echo as_enqueue_async_action( 'h7_fail2', array( 22 ), 'h7pg' );`));
    cliRun(P, 'h7_fail,h7_fail2');
    expect([Number((await attempt(P, inGroup)).gap), Number((await attempt(P, inGroup)).max_attempts)]).toEqual([
      20, 2,
    ]);
    expect([Number((await attempt(P, own)).gap), Number((await attempt(P, own)).max_attempts)]).toEqual([40, 2]);
  });

  test('bad policy values are refused with a clear message, from PHP, REST and WP-CLI, and nothing is saved', async () => {
    const cases: [unknown, string][] = [
      [
        { retries: 'three' },
        'Policy for hook "h7_bad": "retries" must be a whole number from 0 to 50 (retries after the first failure); got "three".',
      ],
      [
        { retries: 51 },
        'Policy for hook "h7_bad": "retries" must be a whole number from 0 to 50 (retries after the first failure); got 51.',
      ],
      [
        { retires: 3 },
        'Policy for hook "h7_bad": unknown setting "retires"; known settings are retries, delays, backoff.',
      ],
      [
        { delays: [10, -1] },
        'Policy for hook "h7_bad": delay 2 must be a whole number of seconds from 0 to 2592000; got -1.',
      ],
      [
        { delays: [] },
        'Policy for hook "h7_bad": "delays" must be a list of 1 to 50 delays in seconds, e.g. [10, 60, 600]; got [].',
      ],
      [
        { retries: 2, backoff: { base: 10, jitter: 2 } },
        'Policy for hook "h7_bad": "backoff.jitter" must be a number from 0 to 1; got 2.',
      ],
      [
        { retries: 2, backoff: { bse: 10 } },
        'Policy for hook "h7_bad": unknown setting "backoff.bse"; known settings are base, factor, max, jitter.',
      ],
      [
        { delays: [1], backoff: { base: 1 } },
        'Policy for hook "h7_bad": give either "delays" (an explicit list) or "backoff" (exponential), not both.',
      ],
      [
        { concurrency: 2 },
        'Policy for hook "h7_bad": "concurrency" is a limit of a whole group; set it in a group policy.',
      ],
      [{}, 'Policy for hook "h7_bad" is empty: give at least one setting.'],
    ];
    const php_ = phpJson<string[]>(
      P,
      `$out = array(); foreach ( json_decode( ${JSON.stringify(JSON.stringify(cases.map((c) => c[0])))}, true ) as $p ) { $r = @sidecar_scheduler_register_policy( 'h7_bad', $p ); $out[] = is_wp_error( $r ) ? $r->get_error_message() : 'accepted'; } echo json_encode( $out );`,
    );
    expect(php_).toEqual(cases.map((c) => c[1]));
    const rest = phpJson<[number, string][]>(
      P,
      `wp_set_current_user( 1 ); $out = array(); foreach ( json_decode( ${JSON.stringify(JSON.stringify(cases.map((c) => c[0])))} ) as $p ) { $r = new WP_REST_Request( 'PUT', '/sidecar-scheduler/v1/policies/hook/h7_bad' ); $r->set_header( 'content-type', 'application/json' ); $r->set_body( wp_json_encode( array( 'policy' => $p ) ) ); $res = rest_do_request( $r ); $out[] = array( $res->get_status(), $res->as_error()->get_error_message() ); } echo json_encode( $out );`,
    );
    expect(rest).toEqual(cases.map((c) => [400, c[1]]));
    const group = phpJson<string>(
      P,
      `$r = @sidecar_scheduler_register_group_policy( 'h7g', array( 'rate' => array( 'limit' => 5, 'per' => 'hour' ) ) ); echo json_encode( $r->get_error_message() );`,
    );
    expect(group).toBe('Policy for group "h7g": "rate.per" must be "second" or "minute"; got "hour".');
    const cli = wp(P, ['sidecar-scheduler', 'policies', 'set', 'hook', 'h7_bad', '{"delays":"10s"}']);
    expect([cli.code, cli.stderr.trim()]).toEqual([
      1,
      'Error: Policy for hook "h7_bad": "delays" must be a list of 1 to 50 delays in seconds, e.g. [10, 60, 600]; got "10s".',
    ]);
    const notJson = wp(P, ['sidecar-scheduler', 'policies', 'set', 'hook', 'h7_bad', '{delays:1']);
    expect([notJson.code, notJson.stderr.trim()]).toEqual([1, 'Error: The policy is not valid JSON: Syntax error']);
    const stored = phpJson(P, `echo json_encode( SidecarScheduler\\Policy\\Registry::screen()['hook'] );`);
    expect(Object.keys(stored as object)).toEqual(['h7_fail2']); // Only the earlier valid one.
  });

  test('exponential backoff with jitter stays within its bounds and is capped', () => {
    const out = phpJson<number[][]>(
      P,
      `$p = array( 'retries' => 5, 'backoff' => array( 'base' => 10, 'factor' => 3, 'max' => 200, 'jitter' => 0.5 ) ); $o = array(); foreach ( array( 0.0, 0.5, 0.999999 ) as $r ) { $row = array(); for ( $n = 1; $n <= 5; $n++ ) { $row[] = SidecarScheduler\\Policy\\Backoff::delay( $p, $n, function () use ( $r ) { return $r; } ); } $o[] = $row; } echo json_encode( $o );`,
    );
    expect(out).toEqual([
      [5, 15, 45, 100, 100],
      [10, 30, 90, 200, 200],
      [15, 45, 135, 300, 300],
    ]);
  });
});
