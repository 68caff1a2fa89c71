// WP-Cron on time: with DISABLE_WP_CRON, a live sidecar runs due WP-Cron events itself through its PHP workers (no
// page view, no wp-cron.php request), each once, on time; with two sidecars too; without DISABLE_WP_CRON nothing
// changes (no bridge action is made).
import { installSite, php, rows, dropPrefix, startSidecar, exited, eventually, waitFor } from '../helpers/stack';
import { linkFeatureFixture, createFeatureTables, siteApi } from '../helpers/feature-site';

const PREFIX = `h6f${process.pid % 1000}_`;
const NO_CRON = { WP_DISABLE_CRON: '1' };
// As DISABLE_WP_CRON in wp-config.php: every PHP process of this site has it (the stack's wp-config reads it from the
// environment). A process without it would spawn WP-Cron itself and hold WordPress's doing_cron lock for a minute.
process.env.WP_DISABLE_CRON = '1';
const SIDECAR_ENV = { ...NO_CRON, SIDECAR_SCHEDULER_NUDGE: '' };
const runsOf = async (n: number) =>
  Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}h6_runs WHERE n = ?`, [n]))[0].n);
/** A fresh heartbeat (the table itself is made by the sidecar's first worker). */
const alive = () =>
  waitFor(
    async () => {
      try {
        return (
          Number(
            (
              await rows(
                `SELECT COUNT(*) AS n FROM ${PREFIX}sidecar_heartbeats WHERE last_seen_gmt >= UTC_TIMESTAMP() - INTERVAL 5 SECOND`,
              )
            )[0].n,
          ) > 0
        );
      } catch {
        return false;
      }
    },
    60000,
    200,
  );

beforeAll(async () => {
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  createFeatureTables(PREFIX);
  await rows(`CREATE TABLE ${PREFIX}h6_cron (n bigint, at double)`);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

test('an event due in 2 s runs once, within 5 s of its time, by the sidecar alone; a recurring one is rescheduled', async () => {
  const sidecar = startSidecar(PREFIX, ['--workers=1'], SIDECAR_ENV);
  try {
    await alive();
    const due = Number(
      php(PREFIX, `$t = time() + 2; wp_schedule_single_event($t, 'h6_cron_tick', array(7)); echo $t;`, NO_CRON)
        .trim()
        .split('\n')
        .pop(),
    );
    await eventually(
      () => runsOf(7),
      (n) => n > 0,
      20000,
      100,
    );
    const at = await rows(`SELECT at FROM ${PREFIX}h6_cron WHERE n = 7`);
    if (!at.length) {
      throw new Error(
        `event 7 did not run (due ${due}): ${php(PREFIX, `echo json_encode(array(get_option('sidecar_scheduler_wp_cron_last'), get_option('sidecar_scheduler_wp_cron_next'), get_transient('doing_cron'), time(), array_keys(_get_cron_array())));`)} ${JSON.stringify(await rows(`SELECT action_id, status, scheduled_date_gmt, last_attempt_gmt FROM ${PREFIX}actionscheduler_actions ORDER BY action_id`))} ${sidecar.output.join('').slice(-3000)}`,
      );
    }
    const ran = Number(at[0].at);
    // On time: not before its second, and within 5 s of it (the sidecar sleeps until the bridge action is due).
    expect(ran).toBeGreaterThanOrEqual(due);
    expect(ran - due).toBeLessThan(5);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await runsOf(7)).toBe(1);
    expect(php(PREFIX, `var_export(wp_next_scheduled('h6_cron_tick', array(7)));`).trim().split('\n').pop()).toBe(
      'false',
    );
    // A recurring event due now: runs once and its next occurrence is an hour later.
    const start = Number(
      php(PREFIX, `$t = time(); wp_schedule_event($t, 'hourly', 'h6_cron_tick', array(8)); echo $t;`, NO_CRON)
        .trim()
        .split('\n')
        .pop(),
    );
    await eventually(
      () => runsOf(8),
      (n) => n > 0,
      20000,
      100,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await runsOf(8)).toBe(1);
    expect(Number(php(PREFIX, `echo wp_next_scheduled('h6_cron_tick', array(8));`).trim().split('\n').pop())).toBe(
      start + 3600,
    );
    const api = siteApi(PREFIX);
    const state = (await api('/sidecar-scheduler/v1/wp-cron')).json;
    expect(state.recent.map((r: any) => r.hook)).toEqual(expect.arrayContaining(['h6_cron_tick']));
    expect(state.next.find((e: any) => e.hook === 'h6_cron_tick')).toMatchObject({
      schedule: 'hourly',
      lateSeconds: 0,
    });
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});

test('an event another process schedules while a slow WP-Cron callback runs is not written away', async () => {
  const sidecar = startSidecar(PREFIX, ['--workers=1'], SIDECAR_ENV);
  try {
    await alive();
    // Two events due together: the slow one first, then one more, whose removal the worker writes after the slow
    // callback has run (with whatever copy of the cron option it has then).
    php(
      PREFIX,
      `$t = time() + 1; wp_schedule_single_event($t, 'h6_cron_slow', array(40)); wp_schedule_single_event($t, 'h6_cron_tick', array(43));`,
      NO_CRON,
    );
    await eventually(
      async () => (await rows(`SELECT n FROM ${PREFIX}h6_cron WHERE n = 40`)).length,
      (n) => n > 0,
      20000,
      100,
    );
    // The slow callback runs now (3 s); the worker then changes the cron option again for the events after it.
    php(
      PREFIX,
      `wp_schedule_single_event(time() + 1, 'h6_cron_tick', array(41)); wp_schedule_single_event(time() + 1, 'h6_cron_slow', array(42));`,
      NO_CRON,
    );
    expect(
      await eventually(
        () => runsOf(41),
        (n) => n > 0,
        20000,
        200,
      ),
    ).toBe(1);
    expect(
      await eventually(
        async () => (await rows(`SELECT n FROM ${PREFIX}h6_cron WHERE n = 42`)).length,
        (n) => n > 0,
        20000,
        200,
      ),
    ).toBe(1);
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});

test('two sidecars: five events due together each run exactly once', async () => {
  const a = startSidecar(PREFIX, ['--workers=2'], SIDECAR_ENV);
  const b = startSidecar(PREFIX, ['--workers=2'], SIDECAR_ENV);
  try {
    await alive();
    php(
      PREFIX,
      `$t = time() + 2; for ($n = 20; $n < 25; $n++) { wp_schedule_single_event($t, 'h6_cron_tick', array($n)); }`,
      NO_CRON,
    );
    const distinct = await eventually(
      async () =>
        Number((await rows(`SELECT COUNT(DISTINCT n) AS n FROM ${PREFIX}h6_runs WHERE n BETWEEN 20 AND 24`))[0].n),
      (n) => n === 5,
      30000,
      100,
    );
    if (distinct !== 5) {
      throw new Error(
        `ran ${distinct} of 5; last bridge run: ${php(PREFIX, `echo json_encode(array(get_option('sidecar_scheduler_wp_cron_last'), get_transient('doing_cron'), microtime(true), _get_cron_array()));`)}; bridge rows: ${JSON.stringify(await rows(`SELECT action_id, status, scheduled_date_gmt FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_scheduler_wp_cron' ORDER BY action_id DESC LIMIT 3`))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect(
      (await rows(`SELECT n, COUNT(*) AS c FROM ${PREFIX}h6_runs WHERE n BETWEEN 20 AND 24 GROUP BY n ORDER BY n`)).map(
        (r: any) => [Number(r.n), Number(r.c)],
      ),
    ).toEqual([
      [20, 1],
      [21, 1],
      [22, 1],
      [23, 1],
      [24, 1],
    ]);
  } finally {
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    await Promise.all([exited(a), exited(b)]);
  }
});

test('without DISABLE_WP_CRON nothing changes, even with a live sidecar: no bridge action', async () => {
  await rows(`DELETE FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_scheduler_wp_cron'`);
  const cronOn = { WP_DISABLE_CRON: '' };
  const sidecar = startSidecar(PREFIX, ['--workers=1'], { ...cronOn, SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    await alive();
    php(
      PREFIX,
      `delete_option('sidecar_scheduler_wp_cron_next'); wp_schedule_single_event(time() + 30, 'h6_cron_tick', array(30));`,
      cronOn,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      await rows(`SELECT action_id FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_scheduler_wp_cron'`),
    ).toEqual([]);
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});
