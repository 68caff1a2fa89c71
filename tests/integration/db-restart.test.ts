// MariaDB restarted under load, on a server of this test's own (the shared one serves the other test files): the
// sidecar and its PHP workers ride it out; afterwards every action ran exactly once and is complete: none failed (no
// callback here fails), none ran twice, none is stuck.
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { ROOT, DOCROOT, SITE, startSidecar, exited, eventually, runsInFile } from '../helpers/stack';

const dir = mkdtempSync(join(tmpdir(), 'sidecar-dbrestart-'));
const socket = join(dir, 'mysqld.sock');
const PREFIX = 'trst_';
const TOTAL = 15000;
const env = { WP_DB_HOST: `localhost:${socket}`, WP_DB_NAME: 'restart_wp', WP_TABLE_PREFIX: PREFIX };
// Executions are counted in a file, outside the database being restarted: a count kept in a table could itself be
// written twice (wpdb re-sends a statement after "server has gone away") and look like a double run.
const runsFile = join(dir, 'runs.txt');
const runs = () => runsInFile(runsFile);
let server: ChildProcess | undefined;

function startServer(): ChildProcess {
  const child = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--socket=${socket}`,
      '--skip-networking',
      `--pid-file=${dir}/mysqld.pid`,
      `--log-error=${dir}/err.log`,
      '--innodb-buffer-pool-size=64M',
      `--user=${userInfo().username}`,
    ],
    { stdio: 'ignore' },
  );
  return child;
}
const q = async (sql: string, params: unknown[] = []) => {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root', database: 'restart_wp' });
  try {
    const [r] = await c.query(sql, params);
    return r as any[];
  } finally {
    await c.end();
  }
};
const ready = () =>
  eventually(
    async () => {
      try {
        await q('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    (v) => v,
    60000,
    200,
  );
const php = (code: string) =>
  execFileSync(
    'php',
    [
      '-d',
      'display_errors=stderr',
      '-r',
      `$_SERVER['HTTP_HOST']='127.0.0.1'; require ${JSON.stringify(DOCROOT + '/wp-load.php')}; ${code}`,
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );

beforeAll(async () => {
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--user=${userInfo().username}`,
      '--auth-root-authentication-method=socket',
    ],
    { stdio: 'ignore' },
  );
  server = startServer();
  const c = await eventually(
    async () => {
      try {
        return await mysql.createConnection({ socketPath: socket, user: 'root' });
      } catch {
        return undefined;
      }
    },
    (v) => !!v,
    60000,
    200,
  );
  for (const stmt of [
    'CREATE DATABASE restart_wp',
    "CREATE USER 'sidecar'@'localhost' IDENTIFIED BY 'sidecar'",
    "GRANT ALL ON *.* TO 'sidecar'@'localhost'",
  ]) {
    await c!.query(stmt);
  }
  await c!.end();
  execFileSync('php', [join(ROOT, 'scripts/wp-install.php'), DOCROOT, SITE, 'admin', 'admin'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  php(`as_enqueue_async_action('sidecar_test_count', array(0));`);
  // The rest of the load in the exact form PHP writes it, by SQL (15,000 PHP calls would take longer than the test).
  await q(`INSERT INTO ${PREFIX}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
    SELECT hook, status, scheduled_date_gmt, scheduled_date_local, priority, CONCAT('[', seq, ']'), schedule, group_id, 0, last_attempt_gmt, last_attempt_local, 0
    FROM ${PREFIX}actionscheduler_actions, seq_1_to_${TOTAL - 1} WHERE hook = 'sidecar_test_count'`);
}, 120000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await exited(server, 60000).catch(() => undefined);
  }
});

test('restart under load: every action complete, run exactly once; nothing failed, lost or stuck', async () => {
  const sidecar = startSidecar(PREFIX, ['--workers=2', '--batch-size=25'], {
    ...env,
    SIDECAR_TEST_RUNS_FILE: runsFile,
  });
  await eventually(
    async () => runs().length,
    (n) => n > 500,
    60000,
    20,
  );
  server!.kill('SIGTERM'); // a clean MariaDB shutdown, as `systemctl restart mariadb` does
  await exited(server!, 60000);
  await new Promise((r) => setTimeout(r, 2000));
  server = startServer();
  await ready();
  // The sidecar carries on by itself once the server is back.
  await eventually(
    async () =>
      Number(
        (
          await q(
            `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND status IN ('pending', 'in-progress')`,
          )
        )[0].n,
      ),
    (n) => n === 0,
    120000,
    500,
  );
  sidecar.kill('SIGTERM');
  expect(await exited(sidecar, 60000)).toBe(0);
  expect(sidecar.output.join('')).toMatch(/heartbeat failed|database (unavailable|error); retrying/); // the outage was seen
  // Exactly what ran: every action ran once (its callback never fails) and is complete, with one attempt; nothing is
  // failed, pending or left in progress, without any help from the cleaner. A completion the outage interrupted is
  // written by the sidecar (the worker reported it), and a start whose commit was lost was undone, not failed.
  const statuses = await q(
    `SELECT status, attempts, COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' GROUP BY status, attempts`,
  );
  const by = statuses.map((r) => [r.status, Number(r.attempts), Number(r.n)]);
  if (by.length !== 1 || by[0][0] !== 'complete') {
    console.log(
      'unexpected rows',
      by,
      await q(
        `SELECT a.action_id, a.args, a.status, a.attempts, a.claim_id, GROUP_CONCAT(l.message ORDER BY l.log_id SEPARATOR ' | ') AS log FROM ${PREFIX}actionscheduler_actions a LEFT JOIN ${PREFIX}actionscheduler_logs l USING (action_id) WHERE a.hook = 'sidecar_test_count' AND a.status <> 'complete' GROUP BY a.action_id LIMIT 20`,
      ),
    );
  }
  expect(by).toEqual([['complete', 1, TOTAL]]);
  const ran = runs();
  const seen = new Set<string>();
  const twice = ran.filter((n) => seen.has(n) || !seen.add(n));
  expect(twice).toEqual([]); // none ran twice
  expect(seen.size).toBe(TOTAL); // and every one ran
  const [failedLogs] = await q(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs WHERE message LIKE 'action marked as failed%' OR message LIKE 'action failed%' OR message LIKE 'unexpected shutdown%'`,
  );
  expect(Number(failedLogs.n)).toBe(0); // no "failed" for an action that did not fail
  const [complete] = await q(
    `SELECT COUNT(DISTINCT l.action_id) AS n FROM ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) WHERE a.hook = 'sidecar_test_count' AND l.message = 'action complete via Sidecar'`,
  );
  expect(Number(complete.n)).toBe(TOTAL);
}, 300000);
