// The benchmark scenarios on the native stack, each site on its own table prefix (tests/bench/sites.ts). Every drain
// is checked for exactly-once execution outside the scheduler's bookkeeping (a file or a table of its own), and the
// library's own runner is measured beside ours in the same run.
import { spawn, ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { php, SOCKET, DB, DOCROOT, ROOT, PREFIX_SITE, exited, eventually, runsInFile, WP_BIN } from '../helpers/stack';
import { sample, Usage } from './sampler';
import { percentile, summarize, Summary } from './stats';
import { queriesFile, readQueries } from './queries';
import { PHP_ENV } from './sites';
import { Claimer, ClaimFilter } from '../../src-worker/claim/claimer';
import type { Controls } from '../../src-worker/claim/controls';
import { ensureRateTable } from '../../src-worker/db/claims/claim-with-limits';
import { SiteTime } from '../../src-worker/db/site-time';
import { tableNames } from '../../src-worker/db/database';

export type Progress = (line: string) => void;

export const NULL_SCHEDULE = 'O:28:"ActionScheduler_NullSchedule":0:{}';

export async function connect() {
  const c = await mysql.createConnection({
    socketPath: SOCKET,
    user: 'root',
    database: DB,
    dateStrings: true,
    multipleStatements: true,
  });
  await c.query("SET SESSION sql_mode = ''"); // zero dates, as WordPress itself runs
  return c;
}

/** Empties the queue and the counting tables of a site (the library's site has no tables of ours). */
export async function resetQueue(c: mysql.Connection, prefix: string) {
  const [t] = await c.query<mysql.RowDataPacket[]>('SHOW TABLES LIKE ?', [prefix.replace(/_/g, '\\_') + '%']);
  const present = new Set(t.map((r) => String(Object.values(r)[0])));
  const truncate = [
    'actionscheduler_actions',
    'actionscheduler_logs',
    'actionscheduler_claims',
    'sidecar_test_runs',
    'sidecar_test_latency',
    'sidecar_stats',
  ]
    .map((x) => prefix + x)
    .filter((x) => present.has(x));
  await c.query(truncate.map((x) => `TRUNCATE ${x}`).join('; '));
  if (present.has(`${prefix}sidecar_workers`)) await c.query(`DELETE FROM ${prefix}sidecar_workers`);
}

export async function groupId(c: mysql.Connection, prefix: string, slug: string): Promise<number> {
  const [r] = await c.query<mysql.RowDataPacket[]>(
    `SELECT group_id FROM ${prefix}actionscheduler_groups WHERE slug = ?`,
    [slug],
  );
  if (r.length) return Number(r[0].group_id);
  const [ins] = await c.query<mysql.ResultSetHeader>(`INSERT INTO ${prefix}actionscheduler_groups (slug) VALUES (?)`, [
    slug,
  ]);
  return ins.insertId;
}

/** N due async actions, written by SQL in the exact form PHP writes them (faster than 100k PHP calls). */
export async function seedDue(c: mysql.Connection, prefix: string, n: number, hook: string) {
  const gid = await groupId(c, prefix, 'bench');
  for (let start = 1; start <= n; start += 100000) {
    const end = Math.min(n, start + 99999);
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
       SELECT ?, 'pending', UTC_TIMESTAMP() - INTERVAL 1 SECOND, UTC_TIMESTAMP() - INTERVAL 1 SECOND, 10, CONCAT('[', seq, ']'), ?, ?, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0
       FROM seq_${start}_to_${end}`,
      [hook, NULL_SCHEDULE, gid],
    );
  }
}

/** The server's global counters: on this shared machine they include other work, so the table does not use them. */
async function dbCounters(c: mysql.Connection) {
  const [r] = await c.query<mysql.RowDataPacket[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Handler_commit', 'Innodb_data_fsyncs')",
  );
  return Object.fromEntries(r.map((x) => [x.Variable_name, Number(x.Value)]));
}

/** The sidecar started as the shipped Supervisor and systemd files start it (same V8 flags), on the stack's WordPress. */
const SIDECAR_COMMAND = [
  '--max-semi-space-size=2',
  '--optimize-for-size',
  `${ROOT}/dist/src-worker/bin.js`,
  `--path=${DOCROOT}`,
];
/** Preloaded only when the bench counts queries: it counts the sidecar's statements (count-queries.ts). */
const COUNT_QUERIES = ['-r', join(__dirname, 'count-queries.js')];

export function sidecar(prefix: string, args: string[], env: Record<string, string> = {}) {
  const count = env.SIDECAR_BENCH_QUERIES_FILE ? COUNT_QUERIES : [];
  return spawn('node', [...count, ...SIDECAR_COMMAND, '--http-port=0', '--nudge-port=0', '--log-level=warn', ...args], {
    env: { ...process.env, ...PHP_ENV, WP_TABLE_PREFIX: prefix, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The last lines a child wrote (the sidecar logs JSON lines on stdout, PHP errors go to stderr). */
export function collectOutput(child: ChildProcess): () => string {
  let out = '';
  const add = (d: Buffer) => {
    out += d;
    if (out.length > 20000) out = out.slice(-10000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

// ---------------------------------------------------------------------------------------------------------------

export interface EnqueueResult {
  callsPerSec: Summary;
  queriesPerCall: Summary;
}

/** as_enqueue_async_action() in one PHP process, queries counted by $wpdb itself (not the server's global counter). */
export async function enqueueOnce(prefix: string, n: number): Promise<{ perSec: number; queriesPerCall: number }> {
  const c = await connect();
  try {
    await resetQueue(c, prefix);
  } finally {
    await c.end();
  }
  const out = php(
    prefix,
    `global $wpdb; as_enqueue_async_action('warm', array(), 'bench'); $q = $wpdb->num_queries; $t = microtime(true);
    for ($i = 0; $i < ${n}; $i++) { as_enqueue_async_action('sidecar_test_noop', array($i), 'bench'); }
    echo json_encode(array('s' => microtime(true) - $t, 'q' => $wpdb->num_queries - $q));`,
    PHP_ENV,
  );
  const { s, q } = JSON.parse(out.trim().split('\n').pop()!);
  return { perSec: n / s, queriesPerCall: q / n };
}

// --- drains -------------------------------------------------------------------------------------------------------

/** no-op: counted in a file (no database write of its own); write: one INSERT per action (real actions write). */
export type Kind = 'noop' | 'write';
export const KIND_HOOK: Record<Kind, string> = { noop: 'sidecar_test_count', write: 'sidecar_test_write' };

/** Who drains: the library's `wp action-scheduler run` in N processes, or our sidecar with N workers. */
export interface Drainer {
  label: string;
  prefix: string;
  runner: 'library' | 'sidecar';
  processes: number;
  channel?: string;
}

export interface DrainRun {
  secs: number;
  perSec: number;
  exactlyOnce: boolean;
  onceDetail: string;
  executingProcesses?: number;
  runnerErrors: string[];
  queriesPerAction: number;
  queries: ReturnType<typeof readQueries>;
  globalQuestionsPerAction: number;
  usage?: Usage;
}

/** `wp action-scheduler run` as a site owner runs it from cron: the library's default batch of 100, until nothing is due. */
function libraryRunner(prefix: string, env: Record<string, string>) {
  return spawn(WP_BIN, ['action-scheduler', 'run', '--batch-size=100'], {
    env: { ...process.env, ...PHP_ENV, WP_TABLE_PREFIX: prefix, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export async function drainOnce(d: Drainer, kind: Kind, n: number): Promise<DrainRun> {
  const c = await connect();
  try {
    await resetQueue(c, d.prefix);
    await seedDue(c, d.prefix, n, KIND_HOOK[kind]);
    const runsFile = kind === 'noop' ? join(tmpdir(), `tb-bench-runs-${process.pid}.txt`) : undefined;
    if (runsFile) rmSync(runsFile, { force: true });
    const qFile = queriesFile(`${d.prefix}${kind}`);
    const env: Record<string, string> = {
      SIDECAR_BENCH_QUERIES_FILE: qFile,
      ...(runsFile ? { SIDECAR_TEST_RUNS_FILE: runsFile } : {}),
    };
    const before = await dbCounters(c);
    const t0 = process.hrtime.bigint();
    let usage: Usage | undefined;
    const runnerErrors: string[] = [];
    if (d.runner === 'library') {
      const children = Array.from({ length: d.processes }, () => libraryRunner(d.prefix, env));
      const errs = children.map(collectOutput);
      const codes = await Promise.all(children.map((ch) => exited(ch, 3600_000)));
      // A process of the library that exits non-zero is reported with its "Error:" lines (its stderr is otherwise
      // full of "Attempting to reduce used memory" warnings); the run counts if its actions still ran exactly once.
      codes.forEach((code, i) => {
        if (code !== 0) {
          runnerErrors.push(
            `exit ${code}: ${
              errs[i]()
                .split('\n')
                .filter((l) => /error|fatal/i.test(l))
                .join(' ')
                .slice(0, 300) || errs[i]().slice(-300)
            }`,
          );
        }
      });
    } else {
      const extra =
        d.channel === 'wp-cli'
          ? [`--wp-binary=${WP_BIN}`]
          : d.channel === 'rest'
            ? [`--url=${PREFIX_SITE}`, `--rest-headers=X-WP-Table-Prefix: ${d.prefix}`]
            : [];
      const child = sidecar(
        d.prefix,
        [
          '--once',
          `--channel=${d.channel ?? 'wp-cli'}`,
          `--workers=${d.processes}`,
          '--batch-size=100',
          '--max-jobs-per-worker=1000000',
          ...extra,
        ],
        env,
      );
      const err = collectOutput(child);
      const sampler = sample(child.pid!);
      const code = await exited(child, 3600_000);
      usage = sampler.stop();
      if (code !== 0) throw new Error(`sidecar exited ${code}: ${err().slice(-2000)}`);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = await dbCounters(c);
    let counted: { n: number; d: number };
    let executingProcesses: number | undefined;
    if (runsFile) {
      const lines = runsInFile(runsFile);
      counted = { n: lines.length, d: new Set(lines).size };
    } else {
      const [[cnt]] = (await c.query<mysql.RowDataPacket[][]>(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d, COUNT(DISTINCT pid) AS p FROM ${d.prefix}sidecar_test_runs`,
      )) as any;
      counted = { n: Number(cnt.n), d: Number(cnt.d) };
      executingProcesses = Number(cnt.p); // both of two processes (or workers) really ran actions
    }
    // Only the seeded hook: a site may have scheduled its own actions meanwhile (action_scheduler_ensure_recurring_actions).
    const [[st]] = (await c.query<mysql.RowDataPacket[][]>(
      `SELECT SUM(status = 'complete') AS done, COUNT(*) AS total FROM ${d.prefix}actionscheduler_actions WHERE hook = ?`,
      [KIND_HOOK[kind]],
    )) as any;
    const exactlyOnce = counted.n === n && counted.d === n && Number(st.done) === n && Number(st.total) === n;
    if (runnerErrors.length && !exactlyOnce) {
      throw new Error(`wp action-scheduler run failed: ${runnerErrors.join('; ')}`);
    }
    const onceDetail = `${counted.n} runs counted (${counted.d} distinct), ${Number(st.done)} of ${Number(st.total)} actions complete`;
    const queries = readQueries(qFile);
    // The write kind's own INSERT is the action's work, not the runner's: subtracted.
    const own = kind === 'write' ? 1 : 0;
    const complete = queries.phpProcesses >= d.processes && (d.runner === 'library' || queries.nodeProcesses === 1);
    return {
      secs,
      perSec: n / secs,
      exactlyOnce,
      onceDetail,
      queries,
      usage,
      executingProcesses,
      runnerErrors,
      queriesPerAction: complete ? queries.total / n - own : NaN,
      globalQuestionsPerAction: (after.Questions - before.Questions) / n - own,
    };
  } finally {
    await c.end();
  }
}

// --- latency -----------------------------------------------------------------------------------------------------

export interface LatencyResult {
  count: number;
  p50: Summary;
  p95: Summary;
  p99: Summary;
}

/**
 * Enqueue-to-start on an idle queue, with a live sidecar (2 wp-cli workers): each action is enqueued by a front-end
 * request of its own (php-fpm, through tests/fixtures/bench-mu.php), so whatever the plugin does at the end of a
 * request (a nudge at shutdown) happens as on a real site; the bench never nudges by itself. Requests are ~50 ms
 * apart; the callback stores its start time minus the enqueue time.
 */
export async function latencyOnce(
  prefix: string,
  count: number,
  port: number,
): Promise<{ p50: number; p95: number; p99: number; n: number }> {
  const c = await connect();
  try {
    await resetQueue(c, prefix);
    php(
      prefix,
      `update_option('tb_bench_http_enqueue', 1); update_option('tb_bench_nudge_address', 'udp://127.0.0.1:${port}');`,
      PHP_ENV,
    );
    const child = spawn(
      'node',
      [
        ...SIDECAR_COMMAND,
        `--http-port=${port + 1}`,
        `--nudge-port=${port}`,
        '--channel=wp-cli',
        `--wp-binary=${WP_BIN}`,
        '--workers=2',
        '--log-level=warn',
      ],
      {
        env: { ...process.env, ...PHP_ENV, WP_TABLE_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const err = collectOutput(child);
    try {
      const health = await eventually(
        async () => {
          try {
            return (await fetch(`http://127.0.0.1:${port + 1}/healthz`)).status;
          } catch {
            return 0;
          }
        },
        (s) => s === 200,
        60000,
      );
      if (health !== 200) throw new Error(`sidecar not healthy: ${err().slice(-2000)}`);
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${PREFIX_SITE}/?tb_bench_enqueue=1`, { headers: { 'X-WP-Table-Prefix': prefix } });
        await res.text();
        if (res.status !== 200) throw new Error(`enqueue request: HTTP ${res.status}`);
        await new Promise((r) => setTimeout(r, 30 + Math.random() * 40));
      }
      const ms = await eventually(
        async () =>
          (await c.query<mysql.RowDataPacket[]>(`SELECT ms FROM ${prefix}sidecar_test_latency`))[0].map((x) =>
            Number(x.ms),
          ),
        (v) => v.length >= count,
        60000,
      );
      if (ms.length !== count) throw new Error(`latency: ${ms.length} of ${count} actions started`);
      return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), p99: percentile(ms, 0.99), n: ms.length };
    } finally {
      child.kill('SIGTERM');
      await exited(child, 60000);
      php(prefix, "delete_option('tb_bench_http_enqueue'); delete_option('tb_bench_nudge_address');", PHP_ENV);
    }
  } finally {
    await c.end();
  }
}

// --- the 1M-row table ----------------------------------------------------------------------------------------------

export interface BigTableResult {
  rows: number;
  due: number;
  logs: number;
  seedSeconds: number;
  /** Keyed by "<batch size>, successive|repeated". */
  claimMs: Record<string, { p50: Summary; p99: Summary }>;
  apiMs: Record<string, { p50: Summary; p99: Summary }>;
  restMs: Record<string, { p50: Summary; p99: Summary }>;
  drainPerSec: Summary;
  /** The library's own claim (its store's stake_claim) on the same rows, on its own schema; keyed by batch size. */
  libraryClaimMs: Record<string, { p50: Summary; max: Summary }>;
  libraryClaims: number;
}

/** The sidecar's own claim code on a pool of its own, set up as the sidecar's (READ COMMITTED, multi-statements). */
export async function probeClaimer(prefix: string) {
  const pool = mysql.createPool({
    socketPath: SOCKET,
    user: 'root',
    database: DB,
    dateStrings: true,
    connectionLimit: 4,
    multipleStatements: true,
  });
  pool.pool.on('connection', (conn) => {
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  }); // as the sidecar's pool
  const t = tableNames(prefix);
  const claimer = new Claimer(pool, t, await SiteTime.load(pool, t.options), true, {
    groupIds: [],
    excludeGroupIds: [],
  });
  return { pool, claimer, t };
}

/** A claimed batch leaves the pending state as a drain's does: complete, unclaimed, its claims row gone. */
export async function completeClaim(
  pool: mysql.Pool,
  t: ReturnType<typeof tableNames>,
  claim: { claimId: number; actions: { id: number }[] },
) {
  await pool.query(
    `UPDATE ${t.actions} SET status = 'complete', claim_id = 0, last_attempt_gmt = UTC_TIMESTAMP() WHERE action_id IN (${claim.actions.map((a) => a.id).join(',')})`,
  );
  await pool.query(`DELETE FROM ${t.claims} WHERE claim_id = ?`, [claim.claimId]);
}

/** 1M actions: `due` pending and due, the rest complete; three log rows per action (3M); 50 hooks, 5 groups. */
export async function bigTable(
  prefix: string,
  libraryPrefix: string,
  total: number,
  due: number,
  runs: number,
  libraryClaims: number,
  progress: Progress,
): Promise<BigTableResult> {
  const c = await connect();
  try {
    const t0 = Date.now();
    await resetQueue(c, prefix);
    const groups = [];
    for (const g of ['bench', 'emails', 'webhooks', 'imports', 'payments']) groups.push(await groupId(c, prefix, g));
    const done = total - due;
    for (let start = 1; start <= done; start += 200000) {
      const end = Math.min(done, start + 199999);
      await c.query(
        `INSERT INTO ${prefix}actionscheduler_actions (action_id, hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
         SELECT seq, CONCAT('bench_done_', seq % 50), 'complete', UTC_TIMESTAMP() - INTERVAL (seq % 86400) SECOND, UTC_TIMESTAMP(), 10, CONCAT('[', seq, ']'), ?, ELT(1 + seq % 5, ?, ?, ?, ?, ?), 1,
                UTC_TIMESTAMP() - INTERVAL (seq % 86400) SECOND, UTC_TIMESTAMP(), 0 FROM seq_${start}_to_${end}`,
        [NULL_SCHEDULE, ...groups],
      );
      await c.query(
        `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
         SELECT s.seq, m.msg, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM seq_${start}_to_${end} s
         JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action started via Sidecar' UNION ALL SELECT 'action complete via Sidecar') m`,
      );
      progress(`big table: ${end} of ${done} complete rows (+ ${end * 3} log rows)`);
    }
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
       SELECT CONCAT('bench_due_', seq % 50), 'pending', UTC_TIMESTAMP() - INTERVAL (seq % 3600) SECOND, UTC_TIMESTAMP(), 10, CONCAT('[', seq, ']'), ?, ELT(1 + seq % 5, ?, ?, ?, ?, ?), 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0
       FROM seq_1_to_${due}`,
      [NULL_SCHEDULE, ...groups],
    );
    // The due actions have their log rows too (created, plus two from earlier attempts), so the table holds 3 per action.
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
       SELECT a.action_id, m.msg, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM ${prefix}actionscheduler_actions a
       JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action reset' UNION ALL SELECT 'action reset') m WHERE a.status = 'pending'`,
    );
    await c.query(`ANALYZE TABLE ${prefix}actionscheduler_actions, ${prefix}actionscheduler_logs`);
    const seedSeconds = (Date.now() - t0) / 1000;
    progress(`big table ready: ${total} actions (${due} due), ${total * 3} logs in ${seedSeconds.toFixed(0)} s`);

    // Claim time, measured on the sidecar's own claim code.
    const { pool, claimer, t } = await probeClaimer(prefix);
    // Two patterns, 200 claims each, at batch sizes 25 (the library web runner's) and 100 (WP-CLI's and the sidecar's --batch-size default, the most a lane claims): "successive" claims take fresh rows each time
    // and those rows then leave the pending state, as while draining (the index then holds entries that InnoDB's
    // purge has not removed yet); "repeated" claims and releases the same rows (no such entries: the best case).
    const claimRuns: Record<string, { p50: number[]; p99: number[] }> = {};
    for (const batch of [25, 100]) {
      for (const pattern of ['successive', 'repeated'] as const) {
        const key = `${batch}, ${pattern}`;
        claimRuns[key] = { p50: [], p99: [] };
        for (let r = 1; r <= runs; r++) {
          const times: number[] = [];
          const taken: number[] = [];
          for (let i = 0; i < 200; i++) {
            const s = process.hrtime.bigint();
            const claim = await claimer.claim(batch);
            times.push(Number(process.hrtime.bigint() - s) / 1e6);
            if (!claim) continue;
            const ids = claim.actions.map((a) => a.id);
            if (pattern === 'repeated') {
              await claimer.release(claim.claimId);
              continue;
            }
            taken.push(...ids);
            await completeClaim(pool, t, claim);
          }
          for (let i = 0; i < taken.length; i += 5000) {
            await pool.query(
              `UPDATE ${t.actions} SET status = 'pending' WHERE action_id IN (${taken.slice(i, i + 5000).join(',')})`,
            );
          }
          claimRuns[key].p50.push(percentile(times, 0.5));
          claimRuns[key].p99.push(percentile(times, 0.99));
          progress(
            `claim of ${key} on ${total} rows run ${r}/${runs}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms`,
          );
        }
      }
    }
    // The same successive claims of 100 while group policies limit two of the five groups (a concurrency and a rate
    // limit, both too high to hold anything back): the cost of the limited claim itself (claim-with-limits.ts).
    {
      const limited = [
        { id: groups[1], concurrency: 1_000_000 },
        { id: groups[2], rate: { limit: 1_000_000, perMs: 1000 } },
      ];
      await ensureRateTable(pool, t);
      const controls = { limited, narrow: (f: ClaimFilter) => f, noteTrials: () => undefined } as unknown as Controls;
      const withLimits = new Claimer(
        pool,
        t,
        await SiteTime.load(pool, t.options),
        true,
        { groupIds: [], excludeGroupIds: [] },
        controls,
      );
      const key = '100, successive, with a concurrency and a rate limit on 2 of the 5 groups';
      claimRuns[key] = { p50: [], p99: [] };
      for (let r = 1; r <= runs; r++) {
        const times: number[] = [];
        const taken: number[] = [];
        for (let i = 0; i < 200; i++) {
          const s = process.hrtime.bigint();
          const claim = await withLimits.claim(100);
          times.push(Number(process.hrtime.bigint() - s) / 1e6);
          if (!claim) continue;
          taken.push(...claim.actions.map((a) => a.id));
          await completeClaim(pool, t, claim);
        }
        for (let i = 0; i < taken.length; i += 5000) {
          await pool.query(
            `UPDATE ${t.actions} SET status = 'pending' WHERE action_id IN (${taken.slice(i, i + 5000).join(',')})`,
          );
        }
        claimRuns[key].p50.push(percentile(times, 0.5));
        claimRuns[key].p99.push(percentile(times, 0.99));
        progress(
          `claim of ${key} on ${total} rows run ${r}/${runs}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms`,
        );
      }
    }
    await pool.end();

    // PHP API calls that plugins make on every page.
    const apiRuns: Record<string, { p50: number[]; p99: number[] }> = {
      as_next_scheduled_action: { p50: [], p99: [] },
      as_has_scheduled_action: { p50: [], p99: [] },
      as_get_scheduled_actions: { p50: [], p99: [] },
    };
    for (let r = 1; r <= runs; r++) {
      const out = JSON.parse(
        php(
          prefix,
          `$res = array();
        foreach (array('as_next_scheduled_action', 'as_has_scheduled_action') as $fn) { $t = array();
          for ($i = 0; $i < 200; $i++) { $h = ($i % 2 ? 'bench_due_' : 'bench_done_') . ($i % 50); $s = microtime(true); $fn($h); $t[] = (microtime(true) - $s) * 1000; }
          sort($t); $res[$fn] = array($t[99], $t[197]); }
        $t = array(); for ($i = 0; $i < 50; $i++) { $s = microtime(true); as_get_scheduled_actions(array('hook' => 'bench_due_' . $i, 'status' => 'pending', 'per_page' => 10), 'ids'); $t[] = (microtime(true) - $s) * 1000; }
        sort($t); $res['as_get_scheduled_actions'] = array($t[24], $t[48]);
        echo json_encode($res);`,
        )
          .trim()
          .split('\n')
          .pop()!,
      );
      for (const k of Object.keys(apiRuns)) {
        apiRuns[k].p50.push(out[k][0]);
        apiRuns[k].p99.push(out[k][1]);
      }
      progress(
        `PHP API on ${total} rows run ${r}/${runs}: ${Object.entries(out)
          .map(([k, v]: any) => `${k} p50 ${v[0].toFixed(2)} ms`)
          .join(', ')}`,
      );
    }

    // Admin REST timings over HTTP (php-fpm + nginx), as the admin screen calls them.
    const auth =
      'Basic ' +
      Buffer.from(
        `admin:${php(prefix, `$u = get_user_by('login', 'admin'); list($p) = WP_Application_Passwords::create_new_application_password($u->ID, array('name' => 'bench')); echo $p;`).trim()}`,
      ).toString('base64');
    const routes: Record<string, string> = {
      overview: '/overview',
      groups: '/groups',
      'actions (page 1)': '/actions?per_page=20',
      'actions (failed)': '/actions?status=failed&per_page=20',
      'actions (past-due)': '/actions?status=past-due&per_page=20',
      'actions (search)': '/actions?search=bench_due_7&per_page=20',
      'actions (group)': '/actions?group=emails&per_page=20',
    };
    const restRuns: Record<string, { p50: number[]; p99: number[] }> = {};
    for (let r = 1; r <= runs; r++) {
      for (const [name, path] of Object.entries(routes)) {
        const times: number[] = [];
        for (let i = 0; i < 6; i++) {
          const s = process.hrtime.bigint();
          const res = await fetch(`${PREFIX_SITE}/wp-json/sidecar-scheduler/v1${path}`, {
            headers: { authorization: auth, 'X-WP-Table-Prefix': prefix },
          });
          await res.text();
          if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
          times.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
        restRuns[name] ??= { p50: [], p99: [] };
        restRuns[name].p50.push(percentile(times, 0.5));
        restRuns[name].p99.push(percentile(times, 0.99));
      }
      progress(
        `admin REST on ${total} rows run ${r}/${runs}: ${Object.entries(restRuns)
          .map(([k, v]) => `${k} ${v.p50[v.p50.length - 1].toFixed(0)} ms`)
          .join(', ')}`,
      );
    }

    // Drain rate while the table is big: the sidecar's steady rate against the 200k due (no-op callbacks via the noop
    // hook), timed over 15 s from its first finished action (so its start-up, slow on a busy machine, is not in it).
    await c.query(`UPDATE ${prefix}actionscheduler_actions SET hook = 'sidecar_test_noop' WHERE status = 'pending'`);
    const pending = async () =>
      Number(
        (
          (
            await c.query<mysql.RowDataPacket[]>(
              `SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE status = 'pending'`,
            )
          )[0][0] as any
        ).n,
      );
    const drainRates: number[] = [];
    for (let r = 1; r <= runs; r++) {
      const p0 = await pending();
      const child = sidecar(prefix, ['--workers=2', '--batch-size=100', '--channel=php']);
      const out = collectOutput(child); // read, so a full pipe never blocks it
      try {
        const first = await eventually(pending, (n) => n < p0, 60000, 100);
        if (first >= p0) throw new Error(`drain on ${total} rows: nothing ran in 60 s: ${out().slice(-1000)}`);
        const since = process.hrtime.bigint();
        await new Promise((res) => setTimeout(res, 15000));
        const last = await pending();
        const rate = (first - last) / (Number(process.hrtime.bigint() - since) / 1e9);
        drainRates.push(rate);
        progress(`drain on ${total} rows run ${r}/${runs}: ${rate.toFixed(0)}/s`);
      } finally {
        child.kill('SIGTERM');
        await exited(child, 60000);
      }
    }
    const libraryClaimMs = await libraryClaim(c, prefix, libraryPrefix, runs, libraryClaims, progress);
    const s2 = (o: { p50: number[]; p99: number[] }) => ({ p50: summarize(o.p50), p99: summarize(o.p99) });
    return {
      rows: total,
      due,
      logs: total * 3,
      seedSeconds,
      claimMs: Object.fromEntries(Object.entries(claimRuns).map(([k, v]) => [k, s2(v)])),
      apiMs: Object.fromEntries(Object.entries(apiRuns).map(([k, v]) => [k, s2(v)])),
      restMs: Object.fromEntries(Object.entries(restRuns).map(([k, v]) => [k, s2(v)])),
      drainPerSec: summarize(drainRates),
      libraryClaimMs,
      libraryClaims,
    };
  } finally {
    await c.end();
  }
}

/**
 * The library's claim on the same 1M rows: the drain's actions are put back as they were, the four tables move to the
 * library's site (RENAME, instant) and lose the indexes our schema adds (the library's site does not have them, and
 * its claim would use them), and the library's store claims `batch` actions at a time, as its runners do; each claim's
 * rows then leave the pending state, as while draining. Timed: stake_claim() alone.
 */
async function libraryClaim(
  c: mysql.Connection,
  prefix: string,
  libraryPrefix: string,
  runs: number,
  claims: number,
  progress: Progress,
) {
  await c.query(
    `UPDATE ${prefix}actionscheduler_actions SET status = 'pending', claim_id = 0, attempts = 0 WHERE hook = 'sidecar_test_noop' AND status <> 'pending'; DELETE FROM ${prefix}actionscheduler_claims`,
  );
  const tables = ['actions', 'claims', 'groups', 'logs'].map((t) => `actionscheduler_${t}`);
  await c.query(tables.map((t) => `DROP TABLE IF EXISTS ${libraryPrefix}${t}`).join('; '));
  await c.query(`RENAME TABLE ${tables.map((t) => `${prefix}${t} TO ${libraryPrefix}${t}`).join(', ')}`);
  const [idx] = await c.query<mysql.RowDataPacket[]>(
    `SHOW INDEX FROM ${libraryPrefix}actionscheduler_actions WHERE Key_name LIKE 'sidecar\\_%'`,
  );
  const ours = [...new Set(idx.map((r) => String(r.Key_name)))];
  if (ours.length) {
    await c.query(
      `ALTER TABLE ${libraryPrefix}actionscheduler_actions ${ours.map((k) => `DROP INDEX ${k}`).join(', ')}`,
    );
  }
  await c.query(`ANALYZE TABLE ${libraryPrefix}actionscheduler_actions`);
  const [[due]] = (await c.query<mysql.RowDataPacket[][]>(
    `SELECT COUNT(*) AS n FROM ${libraryPrefix}actionscheduler_actions WHERE status = 'pending'`,
  )) as any;
  progress(
    `library claim: tables moved to ${libraryPrefix} (${due.n} due), indexes of ours dropped: ${ours.join(', ') || 'none'}`,
  );
  const out: Record<string, { p50: number[]; max: number[] }> = {};
  for (const batch of [25, 100]) {
    out[batch] = { p50: [], max: [] };
    for (let r = 1; r <= runs; r++) {
      const res = JSON.parse(
        php(
          libraryPrefix,
          `global $wpdb; $store = ActionScheduler::store(); $t = array(); $taken = array();
        for ($i = 0; $i < ${claims}; $i++) {
          $s = microtime(true); $claim = $store->stake_claim(${batch}); $t[] = (microtime(true) - $s) * 1000;
          $ids = array_map('intval', $claim->get_actions()); $taken = array_merge($taken, $ids);
          if ($ids) { $wpdb->query("UPDATE {$wpdb->prefix}actionscheduler_actions SET status = 'complete', claim_id = 0 WHERE action_id IN (" . implode(',', $ids) . ")"); }
          $wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->prefix}actionscheduler_claims WHERE claim_id = %d", $claim->get_id()));
        }
        foreach (array_chunk($taken, 5000) as $chunk) { $wpdb->query("UPDATE {$wpdb->prefix}actionscheduler_actions SET status = 'pending' WHERE action_id IN (" . implode(',', $chunk) . ")"); }
        echo json_encode(array('store' => get_class($store), 'ms' => $t, 'n' => count($taken)));`,
          PHP_ENV,
        )
          .trim()
          .split('\n')
          .pop()!,
      );
      if (res.store !== 'ActionScheduler_DBStore') {
        throw new Error(`library claim: the library site runs on ${res.store}, not the library's table store`);
      }
      if (res.n !== claims * batch) {
        throw new Error(`library claim: ${res.n} actions claimed, expected ${claims * batch}`);
      }
      const sorted = [...res.ms].sort((a: number, b: number) => a - b);
      out[batch].p50.push(percentile(sorted, 0.5));
      out[batch].max.push(sorted[sorted.length - 1]);
      progress(
        `library claim of ${batch} on the big table run ${r}/${runs}: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms (${claims} claims)`,
      );
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { p50: summarize(v.p50), max: summarize(v.max) }]));
}
