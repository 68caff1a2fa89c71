// The sidecar against the real stack: exactly-once under 3 concurrent sidecars, crash recovery, graceful stop, bad schema.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  php,
  rows,
  startSidecar,
  exited,
  dropPrefix,
  waitFor,
  PREFIX_SITE,
  eventually,
  ROOT,
  DOCROOT,
  laneWorkerPids,
} from '../helpers/stack';
import { countingSite } from '../helpers/sites';

const waitForRow = (sql: string) =>
  eventually(
    () => rows(sql),
    (r) => r.length > 0,
    60000,
    50,
  );

// Per process: two runs of this file (two helpers, a rerun) must not share a site and count each other's rows.
const PREFIX = `h1s_${process.pid % 1000}_`;
const runsTable = `${PREFIX}sidecar_test_runs`;

afterAll(async () => {
  await dropPrefix(PREFIX);
});

beforeAll(async () => {
  await countingSite(PREFIX);
});

const enqueue = (hook: string, count: number, args = '$i') =>
  php(PREFIX, `for ($i = 0; $i < ${count}; $i++) { as_enqueue_async_action('${hook}', array(${args}), 'itest'); }`);

test('10,000 actions run exactly once by 3 sidecars at the same time (counted outside our bookkeeping)', async () => {
  enqueue('sidecar_test_count', 10000);
  const sidecars = [0, 1, 2].map(() => startSidecar(PREFIX, ['--once', '--workers=2', '--batch-size=25']));
  const codes = await Promise.all(sidecars.map((s) => exited(s)));
  expect(codes).toEqual([0, 0, 0]);
  const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable}`);
  expect(Number(c.n)).toBe(10000);
  expect(Number(c.d)).toBe(10000);
  const [s] = await rows(
    `SELECT SUM(status='complete') AS done, SUM(status<>'complete') AS other, SUM(claim_id<>0) AS claimed FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_count'`,
  );
  expect([Number(s.done), Number(s.other), Number(s.claimed)]).toEqual([10000, 0, 0]);
  const [claims] = await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_claims`);
  expect(Number(claims.n)).toBe(0);
  const [logs] = await rows(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) WHERE a.hook='sidecar_test_count' AND l.message='action complete via Sidecar'`,
  );
  expect(Number(logs.n)).toBe(10000);
});

test('rest channel: signed loopback requests run every action exactly once', async () => {
  enqueue('sidecar_test_count', 300, '400000 + $i');
  const s = startSidecar(PREFIX, [
    '--once',
    '--channel=rest',
    `--url=${PREFIX_SITE}`,
    `--rest-headers=X-WP-Table-Prefix: ${PREFIX}`,
    '--workers=3',
  ]);
  expect(await exited(s)).toBe(0);
  const [c] = await rows(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN 400000 AND 499999`,
  );
  expect([Number(c.n), Number(c.d)]).toEqual([300, 300]);
  const [logs] = await rows(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) WHERE CAST(TRIM(BOTH ']' FROM TRIM(BOTH '[' FROM a.args)) AS UNSIGNED) BETWEEN 400000 AND 499999 AND l.message = 'action complete via Sidecar'`,
  );
  expect(Number(logs.n)).toBe(300);
});

test('--lanes gives a group its own workers and keeps it off the general lanes', async () => {
  php(
    PREFIX,
    `for ($i = 0; $i < 40; $i++) { as_enqueue_async_action('sidecar_test_count', array(600000 + $i), 'emails'); as_enqueue_async_action('sidecar_test_count', array(700000 + $i), 'other'); }`,
  );
  const s = startSidecar(PREFIX, ['--once', '--workers=1', '--lanes=emails:1']);
  expect(await exited(s)).toBe(0);
  if (!/"executed":80/.test(s.output.join(''))) console.log(s.output.join(''));
  const pids = async (lo: number) =>
    (await rows(`SELECT DISTINCT pid FROM ${runsTable} WHERE n BETWEEN ? AND ?`, [lo, lo + 99999])).map((r: any) =>
      Number(r.pid),
    );
  const emails = await pids(600000);
  const other = await pids(700000);
  expect(emails).toHaveLength(1);
  expect(other).toHaveLength(1);
  expect(emails[0]).not.toBe(other[0]);
  const [c] = await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 600000 AND 799999`);
  expect(Number(c.n)).toBe(80);
});

test('a malformed --lanes value is a usage error with a clear message', async () => {
  const s = startSidecar(PREFIX, ['--lanes=emails']);
  expect(await exited(s)).toBe(64);
  expect(s.output.join('')).toMatch(/--lanes entry "emails" is not "group\[\+group...\]:workers"/);
});

test('recurring and cron chains continue across runs of a live sidecar', async () => {
  php(
    PREFIX,
    `as_schedule_recurring_action(time(), 1, 'sidecar_test_noop', array('chain'), 'chains'); as_schedule_cron_action(time() - 120, '* * * * *', 'sidecar_test_noop', array('cron'), 'chains');`,
  );
  const s = startSidecar(PREFIX, ['--workers=1', '--poll-ms=100']);
  await new Promise((r) => setTimeout(r, 4500));
  s.kill('SIGTERM');
  expect(await exited(s, 30000)).toBe(0);
  try {
    const interval = await rows(
      `SELECT status, COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE args = '["chain"]' GROUP BY status`,
    );
    const by = Object.fromEntries(interval.map((r: any) => [r.status, Number(r.n)]));
    expect(by.complete).toBeGreaterThanOrEqual(3); // due every second, started when due: the chain kept going
    expect(by.pending).toBe(1); // and exactly one successor waits
    const cron = await rows(
      `SELECT status, scheduled_date_gmt FROM ${PREFIX}actionscheduler_actions WHERE args = '["cron"]' ORDER BY action_id`,
    );
    // One run, or two when the test crossed a minute boundary (the first successor was then due too): every
    // instance but the newest completed, and the newest waits for the next minute.
    const statuses = cron.map((r: any) => r.status);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses).toEqual([...Array(statuses.length - 1).fill('complete'), 'pending']);
    const next = cron[cron.length - 1].scheduled_date_gmt;
    expect(next).toMatch(/:00$/); // the next minute, in UTC, seconds zeroed
    expect(Date.parse(next.replace(' ', 'T') + 'Z')).toBeGreaterThan(Date.now() - 1000);
  } finally {
    // Always: a chain left queued would run inside the later tests of this file and skew what they count.
    php(PREFIX, `as_unschedule_all_actions('', array(), 'chains');`);
  }
});

test('kill -9 of a PHP worker in the middle of an action: it fails with the library message, the rest run, nothing twice', async () => {
  enqueue('sidecar_test_sleep', 1, '20');
  enqueue('sidecar_test_count', 5, '800000 + $i');
  const s = startSidecar(PREFIX, ['--workers=1']);
  const [sleeping] = await waitForRow(
    `SELECT action_id FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_sleep' AND status = 'in-progress'`,
  );
  // The worker is the sidecar's php child running the sleep; kill it as the OOM killer would.
  const [worker] = laneWorkerPids(s.pid!);
  process.kill(worker, 'SIGKILL');
  await waitFor(
    async () =>
      Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 800000 AND 899999`))[0].n) === 5,
    60000,
  );
  s.kill('SIGTERM');
  expect(await exited(s, 30000)).toBe(0);
  const [a] = await rows(`SELECT status FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [
    sleeping.action_id,
  ]);
  expect(a.status).toBe('failed');
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
    sleeping.action_id,
  ]);
  expect(logs.map((l: any) => l.message).pop()).toMatch(
    /^action marked as failed after \d+ seconds\. Unknown error occurred\. Check server, PHP and database error logs to diagnose cause\.$/,
  );
});

test('a worker is replaced after --max-jobs-per-worker actions and above --max-worker-memory-mb; nothing lost or run twice', async () => {
  const perPid = async (from: number, to: number) =>
    (
      await rows(
        `SELECT pid, COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN ? AND ? GROUP BY pid ORDER BY MIN(id)`,
        [from, to],
      )
    ).map((r: any) => [Number(r.n), Number(r.d)]);
  enqueue('sidecar_test_count', 30, '500000 + $i');
  const s = startSidecar(PREFIX, ['--workers=1', '--once', '--batch-size=20', '--max-jobs-per-worker=7']);
  expect(await exited(s, 60000)).toBe(0);
  // 30 actions, 7 per worker: 5 workers, each ran its share once (the batch of 20 crossed two replacements).
  expect(await perPid(500000, 500029)).toEqual([
    [7, 7],
    [7, 7],
    [7, 7],
    [7, 7],
    [2, 2],
  ]);
  // A threshold below a fresh worker's own footprint: one action per worker, still every action runs.
  enqueue('sidecar_test_count', 3, '510000 + $i');
  const m = startSidecar(PREFIX, ['--workers=1', '--once', '--max-worker-memory-mb=1']);
  expect(await exited(m, 60000)).toBe(0);
  expect(await perPid(510000, 510002)).toEqual([
    [1, 1],
    [1, 1],
    [1, 1],
  ]);
});

test('a request that reaches a worker during a stream (the maintenance "clean", say) is answered after it, not lost', async () => {
  const ids = JSON.parse(
    php(
      PREFIX,
      `$ids = array(); for ($i = 0; $i < 2; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_sleep', array(1), 'itest-stream'); } echo json_encode($ids);`,
    )
      .trim()
      .split('\n')
      .pop()!,
  );
  const worker = spawn('php', [join(ROOT, 'plugin/bin/worker.php'), `--path=${DOCROOT}`], {
    env: { ...process.env, WP_TABLE_PREFIX: PREFIX },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: any[] = [];
  createInterface({ input: worker.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  try {
    await eventually(
      async () => lines.length,
      (n) => n >= 1,
      30000,
      20,
    ); // ready
    worker.stdin!.write(
      JSON.stringify({ op: 'stream', ids, claim: 0, context: 'Sidecar', max: 100, max_mem: 0 }) + '\n',
    );
    await new Promise((r) => setTimeout(r, 300)); // the first action is sleeping
    worker.stdin!.write('{"op":"ping"}\n');
    await eventually(
      async () => lines.length,
      (n) => n >= 11,
      30000,
      20,
    );
    // "started", "running" (its start is committed) and "completed" tell the sidecar where each action is (see
    // Worker.php); "done" ends its turn.
    expect(lines.slice(1).map((m) => m.op + (m.status ? `:${m.status}` : ''))).toEqual([
      'started',
      'running',
      'completed',
      'done:complete',
      'started',
      'running',
      'completed',
      'done:complete',
      'stream_end',
      'pong',
    ]);
  } finally {
    worker.stdin!.end();
    await exited(worker, 10000);
  }
});

test('a lane whose actions are slow claims about a second of work at a time, so they are not held in one claim', async () => {
  const slow = (n: number) =>
    php(
      PREFIX,
      `for ($i = 0; $i < ${n}; $i++) { as_enqueue_async_action('sidecar_test_sleep', array(1), 'itest-slow'); }`,
    );
  const inGroup = `FROM ${PREFIX}actionscheduler_actions a JOIN ${PREFIX}actionscheduler_groups g USING (group_id) WHERE g.slug = 'itest-slow'`;
  slow(1); // the lane learns that its actions take about a second
  const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=20', '--poll-ms=100']);
  try {
    await waitFor(
      async () => Number((await rows(`SELECT COUNT(*) AS n ${inGroup} AND a.status = 'complete'`))[0].n) === 1,
      30000,
    );
    slow(4);
    let most = 0;
    await waitFor(async () => {
      const held = await rows(
        `SELECT a.claim_id, COUNT(*) AS n ${inGroup} AND a.claim_id <> 0 AND a.status IN ('pending', 'in-progress') GROUP BY a.claim_id`,
      );
      most = Math.max(most, ...held.map((r: any) => Number(r.n)));
      return Number((await rows(`SELECT COUNT(*) AS n ${inGroup} AND a.status = 'complete'`))[0].n) === 5;
    }, 30000);
    expect(most).toBe(1); // with a fixed claim of 20, all four would have waited in one claim
  } finally {
    s.kill('SIGTERM');
    await exited(s, 30000);
  }
});

test('DB_HOST as host:port over TCP works as well as the socket', async () => {
  enqueue('sidecar_test_count', 3, '900000 + $i');
  const s = startSidecar(PREFIX, ['--once', '--db-host=127.0.0.1:' + (process.env.SIDECAR_STACK_DB_PORT ?? '33306')]);
  expect(await exited(s)).toBe(0);
  expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 900000 AND 999999`))[0].n)).toBe(3);
});

test('a PHP fatal in an action fails it with "unexpected shutdown" and the worker is replaced', async () => {
  enqueue('sidecar_test_fatal', 1, '');
  enqueue('sidecar_test_count', 5, '100000 + $i');
  const s = startSidecar(PREFIX, ['--once', '--workers=1']);
  expect(await exited(s)).toBe(0);
  const [a] = await rows(
    `SELECT action_id, status FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_fatal'`,
  );
  expect(a.status).toBe('failed');
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id=? ORDER BY log_id`, [
    a.action_id,
  ]);
  expect(logs.map((l: any) => l.message).join('|')).toMatch(
    /unexpected shutdown: PHP Fatal error Allowed memory size of \d+ bytes exhausted/,
  );
  const [c] = await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 100000 AND 199999`);
  expect(Number(c.n)).toBe(5);
});

test('an action over the time limit is killed and failed with the library message; the rest still run', async () => {
  enqueue('sidecar_test_sleep', 1, '30');
  enqueue('sidecar_test_count', 3, '200000 + $i');
  const s = startSidecar(PREFIX, ['--once', '--workers=1', '--action-timeout=2']);
  expect(await exited(s)).toBe(0);
  const [a] = await rows(
    `SELECT action_id, status FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_sleep' AND args = '[30]'`,
  );
  expect(a.status).toBe('failed');
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id=? ORDER BY log_id`, [
    a.action_id,
  ]);
  expect(logs.map((l: any) => l.message)).toContain(
    'action marked as failed after 2 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.',
  );
  const [c] = await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 200000 AND 299999`);
  expect(Number(c.n)).toBe(3);
});

test('SIGTERM: running action finishes, nothing else starts, unstarted work goes back to pending unclaimed', async () => {
  enqueue('sidecar_test_sleep', 4, '2');
  const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=10', '--shutdown-timeout-ms=10000']);
  await waitFor(
    async () =>
      (
        await rows(
          `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_sleep' AND status='in-progress'`,
        )
      )[0].n > 0,
  );
  s.kill('SIGTERM');
  const code = await exited(s, 30000);
  if (code !== 0) console.log(s.output.join(''));
  expect(code).toBe(0);
  const r = await rows(
    `SELECT status, claim_id FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_sleep' AND args='["2"]' OR (hook='sidecar_test_sleep' AND args='[2]')`,
  );
  const statuses = r.map((x: any) => x.status).sort();
  expect(statuses.filter((x: string) => x === 'complete').length).toBe(1);
  expect(statuses.filter((x: string) => x === 'pending').length).toBe(3);
  expect(r.every((x: any) => Number(x.claim_id) === 0)).toBe(true);
  expect((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}sidecar_heartbeats`))[0].n).toBe(0);
  php(PREFIX, `as_unschedule_all_actions('sidecar_test_sleep');`);
});

test('kill -9 of the sidecar holding claims: a new sidecar finishes everything after the stale-claim reset', async () => {
  enqueue('sidecar_test_count', 200, '300000 + $i');
  const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=50']);
  await waitFor(
    async () =>
      Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n BETWEEN 300000 AND 399999`))[0].n) > 10,
    60000,
    5,
  );
  // The lane's one worker (the maintenance pass's own, while the start-up pass lasts, is not one of them).
  const workers = laneWorkerPids(s.pid!);
  s.kill('SIGKILL');
  await exited(s);
  expect(workers.length).toBe(1);
  // The orphaned PHP worker finishes the action it is running (its start is committed; killing it would be a crash
  // of its own), sees its stdin closed before the next one, puts back the start marks of its window and exits.
  await waitFor(async () => workers.every((pid) => !alive(pid)), 60000, 50);
  // Then the timeout period passes for the dead sidecar's claim (the cleaner resets claims older than 300 s). Not for
  // the rows that completed: aged past the retention period too, the cleaner would delete them.
  php(
    PREFIX,
    `global $wpdb; $wpdb->query("UPDATE {$wpdb->prefix}actionscheduler_actions SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE claim_id <> 0 AND status <> 'complete'"); for ($i = 0; $i < 10; $i++) { (new ActionScheduler_QueueCleaner())->clean(300); }`,
  );
  const again = startSidecar(PREFIX, ['--once', '--workers=2']);
  expect(await exited(again)).toBe(0);
  // Exactly once each: the action that was running when the sidecar died ran once, on its orphaned worker, and was
  // completed there; nothing ran twice, nothing failed, nothing is left.
  const [c] = await rows(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN 300000 AND 399999`,
  );
  expect([Number(c.n), Number(c.d)]).toEqual([200, 200]);
  const [st] = await rows(
    `SELECT SUM(status='complete' AND attempts=1) AS once, SUM(status<>'complete' OR attempts<>1) AS other FROM ${PREFIX}actionscheduler_actions WHERE hook='sidecar_test_count' AND CAST(TRIM(BOTH ']' FROM TRIM(BOTH '[' FROM args)) AS UNSIGNED) BETWEEN 300000 AND 399999`,
  );
  expect([Number(st.once), Number(st.other)]).toEqual([200, 0]);
});

/** Running (a zombie waiting for its reparented parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('refuses to start with a clear message when the tables are missing', async () => {
  const s = startSidecar('tnothere_', ['--once']);
  expect(await exited(s)).toBe(78);
  expect(s.output.join('')).toMatch(/table tnothere_actionscheduler_actions is missing/);
});

test('a worker that cannot start: exit 78 with its reason, and the workers that did start are stopped first', async () => {
  // A PHP wrapper: the first worker gets real PHP (and records its PID), every other one fails at once.
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-php-'));
  const wrapper = join(dir, 'php');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nif mkdir "${dir}/first" 2>/dev/null; then echo $$ > "${dir}/pid"; exec php "$@"; fi\necho "no PHP for this worker" >&2\nexit 3\n`,
    { mode: 0o755 },
  );
  const s = startSidecar(PREFIX, ['--once', '--workers=3', `--php-binary=${wrapper}`]);
  expect(await exited(s)).toBe(78);
  expect(s.output.join('')).toMatch(
    /"err":"worker exited \(code 3, signal null\); stderr: no PHP for this worker[^"]*","msg":"could not start PHP workers"/,
  );
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  expect(() => process.kill(pid, 0)).toThrow(); // the worker that started is gone, not left running
});

test('--help documents the options and exits 0', async () => {
  const s = startSidecar(PREFIX, ['--help']);
  expect(await exited(s)).toBe(0);
  expect(s.output.join('')).toMatch(/--action-timeout=<number>/);
});
