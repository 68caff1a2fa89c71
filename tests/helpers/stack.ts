// Test helpers for the native stack: one WordPress site per table prefix (so test files run in parallel), PHP snippets, SQL.
import { execFileSync, spawn, spawnSync, ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { existsSync, readFileSync, lstatSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import mysql from 'mysql2/promise';

/** The repository root, from the TypeScript sources (tests/helpers) or from their build (dist/tests/helpers). */
function findRoot(dir: string): string {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'plugin'))) return d;
  }
  throw new Error(`cannot find the repository root above ${dir}`);
}
export const ROOT = findRoot(__dirname);
export const STACK = process.env.SIDECAR_STACK_DIR ?? join(ROOT, '.stack');
export const DOCROOT = join(STACK, 'wordpress');
export const SOCKET = join(STACK, 'run', 'mysqld.sock');
export const SITE = `http://127.0.0.1:${process.env.SIDECAR_STACK_HTTP_PORT ?? 8889}`;
/** Loopback-only test server of the dev stack: the X-WP-Table-Prefix header selects the site. */
export const PREFIX_SITE = `http://127.0.0.1:${Number(process.env.SIDECAR_STACK_HTTP_PORT ?? 8889) + 3}`;
export const DB = process.env.SIDECAR_STACK_DB_NAME ?? 'sidecar_wp';
/** The stack's WP-CLI launcher (scripts/stack.sh installs WP-CLI from Packagist into .stack/wp-cli). */
export const WP_BIN = join(STACK, 'bin', 'wp');

/** Runs `wp <args>` for the site of `prefix`; never throws, so tests can assert on failing commands too. */
export function wp(
  prefix: string,
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(WP_BIN, args, {
    env: { ...process.env, WP_TABLE_PREFIX: prefix, ...env },
    encoding: 'utf8',
    timeout: 120000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Executions the test mu-plugin recorded in SIDECAR_TEST_RUNS_FILE (one argument per line), outside any database. */
export function runsInFile(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Plugin files of the real Action Scheduler (copied in by scripts/stack.sh) and of the fixtures that bundle it. */
export const LIBRARY = 'action-scheduler/action-scheduler.php';
export const OURS = 'sidecar-scheduler/sidecar-scheduler.php';
/** A plugin that bundles the library and loads before ours (its folder sorts first) / after ours (as WooCommerce's). */
export const BUNDLER_BEFORE = 'aa-as-bundler/aa-as-bundler.php';
export const BUNDLER_AFTER = 'zz-as-bundler/zz-as-bundler.php';

/**
 * The differential and companion tests' fixtures in the stack's WordPress (scripts/test-all.sh links them too; a test
 * file run alone links them itself): the observer mu-plugin, inert unless SIDECAR_TEST_OBSERVE_FILE is set, and a
 * theme that bundles the real library.
 */
export function linkTestFixtures() {
  linkIntoDocroot('tests/fixtures/observer.php', 'wp-content/mu-plugins/sidecar-test-observer.php');
  linkIntoDocroot('tests/fixtures/themes/td-as-theme', 'wp-content/themes/td-as-theme');
}

/**
 * Links `target` (relative to the repo) to `link` (relative to the docroot) unless something is there already. Test
 * files run in parallel and may link the same fixture at once: the one that loses the race sees EEXIST, which is fine.
 */
export function linkIntoDocroot(target: string, link: string) {
  const path = join(DOCROOT, link);
  try {
    lstatSync(path);
  } catch {
    try {
      symlinkSync(join(ROOT, target), path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** The policy tests' mu-plugin (inert on sites whose prefix does not start with "h7"). */
export const linkPolicyFixture = () =>
  linkIntoDocroot('tests/fixtures/policy-tests-mu.php', 'wp-content/mu-plugins/sidecar-test-policies.php');

/** A TCP port free on 127.0.0.1 at the moment of asking (for a test sidecar's HTTP server). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * Installs WordPress under this prefix (idempotent) with `plugins` active: by default only ours. The reference site of
 * the differential tests is `[LIBRARY]` (the real library alone); companion sites add ours beside it.
 */
export function installSite(prefix: string, plugins: string[] = [OURS]) {
  execFileSync('php', [join(ROOT, 'scripts/wp-install.php'), DOCROOT, SITE, 'admin', 'admin'], {
    env: { ...process.env, WP_TABLE_PREFIX: prefix, SIDECAR_INSTALL_PLUGINS: plugins.join(',') },
    stdio: 'pipe',
  });
}

/** Runs PHP code inside WordPress for `prefix` and returns its stdout. The code may `echo json_encode(...)`. */
export function php(prefix: string, code: string, extraEnv: Record<string, string> = {}, beforeLoad = ''): string {
  const script = `<?php $_SERVER['HTTP_HOST'] = '127.0.0.1'; ${beforeLoad} require ${JSON.stringify(join(DOCROOT, 'wp-load.php'))}; ${code}`;
  return execFileSync('php', ['-d', 'display_errors=stderr', '-r', script.replace(/^<\?php/, '')], {
    env: { ...process.env, WP_TABLE_PREFIX: prefix, ...extraEnv },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function phpJson<T = any>(prefix: string, code: string): T {
  const out = php(prefix, code);
  try {
    return JSON.parse(out.trim().split('\n').pop() as string);
  } catch {
    throw new Error(`not JSON: ${out.slice(0, 2000)}`);
  }
}

export async function db() {
  return mysql.createConnection({ socketPath: SOCKET, user: 'root', database: DB, dateStrings: true });
}

export async function rows<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = await db();
  try {
    const [r] = await c.query(sql, params);
    return r as T[];
  } finally {
    await c.end();
  }
}

/**
 * `pool` with one change: on each connection it hands out, `after(sql)` runs once a query has run on the server and
 * before its answer is returned, so a test can lose that answer (throw) or act in between (race another session).
 */
export function poolWithQueryHook(pool: mysql.Pool, after: (sql: string) => Promise<void>): mysql.Pool {
  return {
    query: pool.query.bind(pool),
    pool: pool.pool,
    getConnection: async () => {
      const conn = await pool.getConnection();
      const query = conn.query.bind(conn) as (sql: string, values?: unknown) => Promise<unknown>;
      (conn as unknown as { query: typeof query }).query = async (sql: string, values?: unknown) => {
        const result = await query(sql, values);
        await after(sql);
        return result;
      };
      return conn;
    },
  } as unknown as mysql.Pool;
}

/** Sidecars started by this test file that have not exited yet (see stopLeftoverSidecars()). */
const liveSidecars = new Set<ChildProcess>();

/**
 * After each integration test file (tests/helpers/integration-setup.ts): a sidecar the file started and never saw
 * exit (a test that failed or timed out before its `finally`) is stopped, SIGTERM then SIGKILL, by its PID, so none
 * keeps running against a prefix the file dropped. Returns how many there were.
 */
export async function stopLeftoverSidecars(): Promise<number> {
  const left = [...liveSidecars];
  await Promise.all(
    left.map(async (child) => {
      child.kill('SIGTERM');
      await exited(child, 15000).catch(() => child.kill('SIGKILL'));
    }),
  );
  liveSidecars.clear();
  return left.length;
}

export function startSidecar(
  prefix: string,
  args: string[] = [],
  env: Record<string, string> = {},
): ChildProcess & { output: string[] } {
  const child = spawn(
    'node',
    [
      join(ROOT, 'dist/src-worker/bin.js'),
      `--path=${DOCROOT}`,
      '--channel=php',
      '--http-port=0',
      '--nudge-port=0',
      '--poll-ms=200',
      '--heartbeat-ms=500',
      ...args,
    ],
    {
      env: { ...process.env, WP_TABLE_PREFIX: prefix, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ) as ChildProcess & { output: string[] };
  child.output = [];
  liveSidecars.add(child);
  child.once('exit', () => liveSidecars.delete(child));
  child.stdout!.on('data', (d) => child.output.push(String(d)));
  child.stderr!.on('data', (d) => child.output.push(String(d)));
  return child;
}

export function exited(child: ChildProcess, timeoutMs = 120000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => reject(new Error('process did not exit in time')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 60000, stepMs = 100) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error('condition not met in time');
}

/** Drops every table of a prefix (tests start from a clean site). */
export async function dropPrefix(prefix: string) {
  const c = await db();
  try {
    const [t] = await c.query('SHOW TABLES LIKE ?', [prefix.replace(/_/g, '\\_') + '%']);
    for (const r of t as any[]) await c.query(`DROP TABLE \`${Object.values(r)[0]}\``);
  } finally {
    await c.end();
  }
}

/** Polls `get` until `ok(value)` or the timeout, and returns the last value (assert on it afterwards). */
export async function eventually<T>(
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 15000,
  stepMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await get();
  while (!ok(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, stepMs));
    value = await get();
  }
  return value;
}

/**
 * The PIDs of a sidecar's lane workers (its child processes, oldest first), without the maintenance pass's own worker
 * (`--role=maintenance` on its command line), which lives only while a pass runs.
 */
export function laneWorkerPids(sidecarPid: number): number[] {
  return spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(sidecarPid), '--sort=start_time'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('--role=maintenance'))
    .map((l) => Number(l.split(/\s+/)[0]))
    .filter((n) => n > 0);
}
