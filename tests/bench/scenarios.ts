// The benchmark scenarios, each on its own table prefix of the native stack. Numbers are taken from the database
// and /proc, and every drain is checked for exactly-once execution in a table of its own (not our bookkeeping).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { installSite, php, dropPrefix, SOCKET, DB, DOCROOT, ROOT, PREFIX_SITE, exited, eventually, runsInFile, WP_BIN } from '../helpers/stack';
import { sample, Usage } from './sampler';
import { percentile, summarize, Summary } from './stats';
import { Claimer } from '../../src-worker/claim/claimer';
import { SiteTime } from '../../src-worker/db/site-time';
import { tableNames } from '../../src-worker/db/database';

export type Progress = (line: string) => void;

const NULL_SCHEDULE = 'O:28:"ActionScheduler_NullSchedule":0:{}';

export async function connect() {
  const c = await mysql.createConnection({ socketPath: SOCKET, user: 'root', database: DB, dateStrings: true, multipleStatements: true });
  await c.query("SET SESSION sql_mode = ''"); // zero dates, as WordPress itself runs
  return c;
}

export async function prepareSite(prefix: string) {
  await dropPrefix(prefix);
  installSite(prefix);
  php(prefix, `global $wpdb;
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_latency (id bigint unsigned auto_increment primary key, ms double)");
    as_enqueue_async_action('sidecar_test_noop', array(), 'bench');`);
}

async function resetQueue(c: mysql.Connection, prefix: string) {
  await c.query(`TRUNCATE ${prefix}actionscheduler_actions; TRUNCATE ${prefix}actionscheduler_logs; TRUNCATE ${prefix}actionscheduler_claims; TRUNCATE ${prefix}sidecar_test_runs; TRUNCATE ${prefix}sidecar_test_latency; TRUNCATE ${prefix}sidecar_stats; DELETE FROM ${prefix}sidecar_workers`);
}

async function groupId(c: mysql.Connection, prefix: string, slug: string): Promise<number> {
  const [r] = await c.query<mysql.RowDataPacket[]>(`SELECT group_id FROM ${prefix}actionscheduler_groups WHERE slug = ?`, [slug]);
  if (r.length) return Number(r[0].group_id);
  const [ins] = await c.query<mysql.ResultSetHeader>(`INSERT INTO ${prefix}actionscheduler_groups (slug) VALUES (?)`, [slug]);
  return ins.insertId;
}

/** N due async actions, written by SQL in the exact form PHP writes them (faster than 100k PHP calls). */
async function seedDue(c: mysql.Connection, prefix: string, n: number, hook = 'sidecar_test_count', offset = 0) {
  const gid = await groupId(c, prefix, 'bench');
  for (let start = 1; start <= n; start += 100000) {
    const end = Math.min(n, start + 99999);
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
       SELECT ?, 'pending', UTC_TIMESTAMP() - INTERVAL 1 SECOND, UTC_TIMESTAMP() - INTERVAL 1 SECOND, 10, CONCAT('[', seq + ?, ']'), ?, ?, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0
       FROM seq_${start}_to_${end}`, [hook, offset, NULL_SCHEDULE, gid]);
  }
}

async function dbCounters(c: mysql.Connection) {
  const [r] = await c.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Handler_write', 'Handler_update', 'Handler_delete', 'Handler_commit', 'Innodb_data_fsyncs')");
  return Object.fromEntries(r.map((x) => [x.Variable_name, Number(x.Value)]));
}

/** The sidecar started as the shipped Supervisor and systemd files start it (same V8 flags), on the stack's WordPress. */
const SIDECAR_COMMAND = ['--max-semi-space-size=2', '--optimize-for-size', `${ROOT}/dist/src-worker/bin.js`, `--path=${DOCROOT}`];

function sidecar(prefix: string, args: string[], env: Record<string, string> = {}) {
  return spawn('node', [...SIDECAR_COMMAND, '--http-port=0', '--nudge-port=0', '--log-level=warn', ...args], {
    env: { ...process.env, WP_TABLE_PREFIX: prefix, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Executions counted outside the scheduler: lines in a file (php channel) or rows in a table (rest channel, php-fpm). */
async function countRuns(c: mysql.Connection, prefix: string, file: string | undefined): Promise<{ n: number; d: number }> {
  if (file) {
    const lines = runsInFile(file);
    return { n: lines.length, d: new Set(lines).size };
  }
  const [[cnt]] = await c.query<mysql.RowDataPacket[][]>(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${prefix}sidecar_test_runs`) as any;
  return { n: Number(cnt.n), d: Number(cnt.d) };
}

// ---------------------------------------------------------------------------------------------------------------

export interface EnqueueResult { callsPerSec: Summary; queriesPerCall: Summary }

export async function enqueue(prefix: string, n: number, runs: number, progress: Progress): Promise<EnqueueResult> {
  const c = await connect();
  const rates: number[] = [];
  const queries: number[] = [];
  try {
    for (let r = 1; r <= runs; r++) {
      await resetQueue(c, prefix);
      const out = php(prefix, `global $wpdb; as_enqueue_async_action('warm', array(), 'bench'); $q = $wpdb->num_queries; $t = microtime(true);
        for ($i = 0; $i < ${n}; $i++) { as_enqueue_async_action('sidecar_test_noop', array($i), 'bench'); }
        echo json_encode(array('s' => microtime(true) - $t, 'q' => $wpdb->num_queries - $q));`);
      const { s, q } = JSON.parse(out.trim().split('\n').pop()!);
      rates.push(n / s);
      queries.push(q / n);
      progress(`enqueue run ${r}/${runs}: ${n} calls in ${s.toFixed(2)} s (${(n / s).toFixed(0)}/s, ${(q / n).toFixed(2)} queries/call)`);
    }
  } finally { await c.end(); }
  return { callsPerSec: summarize(rates), queriesPerCall: summarize(queries) };
}

export interface DrainResult {
  channel: string; workers: number; size: number; actionsPerSec: Summary; exactlyOnce: boolean;
  queriesPerAction: Summary; rowsWrittenPerAction: Summary; commitsPerAction: Summary; fsyncsPerAction: Summary; usage: Usage[];
}

export async function drain(prefix: string, n: number, channel: string, workers: number, runs: number, progress: Progress): Promise<DrainResult> {
  const c = await connect();
  const rates: number[] = []; const q: number[] = []; const w: number[] = []; const commits: number[] = []; const fsyncs: number[] = []; const usage: Usage[] = [];
  let exactlyOnce = true;
  try {
    for (let r = 1; r <= runs; r++) {
      await resetQueue(c, prefix);
      await seedDue(c, prefix, n);
      const before = await dbCounters(c);
      const extra = channel === 'rest' ? [`--url=${PREFIX_SITE}`, `--rest-headers=X-WP-Table-Prefix: ${prefix}`] : channel === 'wp-cli' ? [`--wp-binary=${WP_BIN}`] : [];
      const runsFile = channel === 'rest' ? undefined : join(tmpdir(), `sidecar-bench-runs-${process.pid}.txt`);
      if (runsFile) rmSync(runsFile, { force: true });
      const t0 = process.hrtime.bigint();
      const child = sidecar(prefix, ['--once', `--channel=${channel}`, `--workers=${workers}`, '--batch-size=100', '--max-jobs-per-worker=1000000', ...extra], runsFile ? { SIDECAR_TEST_RUNS_FILE: runsFile } : {});
      let stderr = '';
      child.stderr!.on('data', (d) => { stderr += d; });
      const sampler = sample(child.pid!);
      const code = await exited(child, 3600_000);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      usage.push(sampler.stop());
      if (code !== 0) throw new Error(`sidecar exited ${code}: ${stderr.slice(-2000)}`);
      const after = await dbCounters(c);
      const cnt = await countRuns(c, prefix, runsFile);
      const [[st]] = await c.query<mysql.RowDataPacket[][]>(`SELECT SUM(status = 'complete') AS done FROM ${prefix}actionscheduler_actions`) as any;
      const once = Number(cnt.n) === n && Number(cnt.d) === n && Number(st.done) === n;
      exactlyOnce &&= once;
      rates.push(n / secs);
      // With the rest channel the callback's own INSERT into the counting table is subtracted: it is the test's.
      const own = runsFile ? 0 : 1;
      q.push((after.Questions - before.Questions) / n - own);
      w.push((after.Handler_write + after.Handler_update + after.Handler_delete - before.Handler_write - before.Handler_update - before.Handler_delete) / n - own);
      commits.push((after.Handler_commit - before.Handler_commit) / n);
      fsyncs.push((after.Innodb_data_fsyncs - before.Innodb_data_fsyncs) / n);
      progress(`drain ${channel}×${workers} run ${r}/${runs}: ${n} in ${secs.toFixed(1)} s (${(n / secs).toFixed(0)}/s), exactly once: ${once ? 'yes' : 'NO'}, sidecar RSS max ${usage[usage.length - 1].sidecarRssMaxMb.toFixed(0)} MB`);
    }
  } finally { await c.end(); }
  return { channel, workers, size: n, actionsPerSec: summarize(rates), exactlyOnce, queriesPerAction: summarize(q), rowsWrittenPerAction: summarize(w), commitsPerAction: summarize(commits), fsyncsPerAction: summarize(fsyncs), usage };
}

export interface LatencyResult { count: number; p50: Summary; p95: Summary; p99: Summary }

/** Enqueue-to-start on an idle queue: one action at a time, each followed by the nudge PHP sends at shutdown. */
export async function latency(prefix: string, count: number, runs: number, progress: Progress): Promise<LatencyResult> {
  const c = await connect();
  const p50: number[] = []; const p95: number[] = []; const p99: number[] = [];
  const nudgePort = 18990;
  try {
    for (let r = 1; r <= runs; r++) {
      await resetQueue(c, prefix);
      const child = spawn('node', [...SIDECAR_COMMAND, '--http-port=18991', `--nudge-port=${nudgePort}`, '--workers=2', '--log-level=warn'], {
        env: { ...process.env, WP_TABLE_PREFIX: prefix }, stdio: 'ignore',
      });
      try {
        await eventually(async () => { try { return (await fetch('http://127.0.0.1:18991/healthz')).status; } catch { return 0; } }, (s) => s === 200, 30000);
        php(prefix, `for ($i = 0; $i < ${count}; $i++) { as_enqueue_async_action('sidecar_test_latency', array(microtime(true)), 'bench'); SidecarScheduler\\Runner\\Nudge::send(); usleep(40000); }`,
          { SIDECAR_NUDGE: `udp://127.0.0.1:${nudgePort}` });
        const ms = await eventually(async () => (await c.query<mysql.RowDataPacket[]>(`SELECT ms FROM ${prefix}sidecar_test_latency`))[0].map((x) => Number(x.ms)), (v) => v.length >= count, 60000);
        p50.push(percentile(ms, 0.5)); p95.push(percentile(ms, 0.95)); p99.push(percentile(ms, 0.99));
        progress(`latency run ${r}/${runs}: ${ms.length} actions, p50 ${percentile(ms, 0.5).toFixed(1)} ms, p95 ${percentile(ms, 0.95).toFixed(1)} ms, p99 ${percentile(ms, 0.99).toFixed(1)} ms`);
      } finally {
        child.kill('SIGTERM');
        await exited(child, 60000);
      }
    }
  } finally { await c.end(); }
  return { count, p50: summarize(p50), p95: summarize(p95), p99: summarize(p99) };
}

export interface BigTableResult {
  rows: number; due: number; logs: number; seedSeconds: number;
  /** Keyed by "<batch size>, successive|repeated". */
  claimMs: Record<string, { p50: Summary; p99: Summary }>;
  apiMs: Record<string, { p50: Summary; p99: Summary }>;
  restMs: Record<string, { p50: Summary; p99: Summary }>;
  drainPerSec: Summary;
}

/** 1M actions: `due` pending and due, the rest complete; three log rows per action (3M); 50 hooks, 5 groups. */
export async function bigTable(prefix: string, total: number, due: number, runs: number, progress: Progress): Promise<BigTableResult> {
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
                UTC_TIMESTAMP() - INTERVAL (seq % 86400) SECOND, UTC_TIMESTAMP(), 0 FROM seq_${start}_to_${end}`, [NULL_SCHEDULE, ...groups]);
      await c.query(
        `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
         SELECT s.seq, m.msg, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM seq_${start}_to_${end} s
         JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action started via Sidecar' UNION ALL SELECT 'action complete via Sidecar') m`);
      progress(`big table: ${end} of ${done} complete rows (+ ${end * 3} log rows)`);
    }
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
       SELECT CONCAT('bench_due_', seq % 50), 'pending', UTC_TIMESTAMP() - INTERVAL (seq % 3600) SECOND, UTC_TIMESTAMP(), 10, CONCAT('[', seq, ']'), ?, ELT(1 + seq % 5, ?, ?, ?, ?, ?), 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0
       FROM seq_1_to_${due}`, [NULL_SCHEDULE, ...groups]);
    // The due actions have their log rows too (created, plus two from earlier attempts), so the table holds 3 per action.
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
       SELECT a.action_id, m.msg, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM ${prefix}actionscheduler_actions a
       JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action reset' UNION ALL SELECT 'action reset') m WHERE a.status = 'pending'`);
    await c.query(`ANALYZE TABLE ${prefix}actionscheduler_actions, ${prefix}actionscheduler_logs`);
    const seedSeconds = (Date.now() - t0) / 1000;
    progress(`big table ready: ${total} actions (${due} due), ${total * 3} logs in ${seedSeconds.toFixed(0)} s`);

    // Claim time, measured on the sidecar's own claim code.
    const pool = mysql.createPool({ socketPath: SOCKET, user: 'root', database: DB, dateStrings: true, connectionLimit: 4, multipleStatements: true });
    pool.pool.on('connection', (conn) => { conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'); }); // as the sidecar's pool
    const t = tableNames(prefix);
    const claimer = new Claimer(pool, t, await SiteTime.load(pool, t.options), true, { groupIds: [], excludeGroupIds: [] });
    // Two patterns, at batch sizes 25 (the library web runner's), 50 and 100 (WP-CLI's and the sidecar's --batch-size default, the most a lane claims): "successive" claims take fresh rows each time
    // and those rows then leave the pending state, as while draining (the index then holds entries that InnoDB's
    // purge has not removed yet); "repeated" claims and releases the same rows (no such entries: the best case).
    const claimRuns: Record<string, { p50: number[]; p99: number[] }> = {};
    for (const batch of [25, 50, 100]) {
      for (const pattern of ['successive', 'repeated'] as const) {
        const key = `${batch}, ${pattern}`;
        claimRuns[key] = { p50: [], p99: [] };
        for (let r = 1; r <= runs; r++) {
          const times: number[] = [];
          const taken: number[] = [];
          for (let i = 0; i < 300; i++) {
            const s = process.hrtime.bigint();
            const claim = await claimer.claim(batch);
            times.push(Number(process.hrtime.bigint() - s) / 1e6);
            if (!claim) continue;
            const ids = claim.actions.map((a) => a.id);
            if (pattern === 'repeated') { await claimer.release(claim.claimId); continue; }
            taken.push(...ids);
            await pool.query(`UPDATE ${t.actions} SET status = 'complete', claim_id = 0 WHERE action_id IN (${ids.join(',')})`);
            await pool.query(`DELETE FROM ${t.claims} WHERE claim_id = ?`, [claim.claimId]);
          }
          for (let i = 0; i < taken.length; i += 5000) await pool.query(`UPDATE ${t.actions} SET status = 'pending' WHERE action_id IN (${taken.slice(i, i + 5000).join(',')})`);
          claimRuns[key].p50.push(percentile(times, 0.5)); claimRuns[key].p99.push(percentile(times, 0.99));
          progress(`claim of ${key} on ${total} rows run ${r}/${runs}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms`);
        }
      }
    }
    await pool.end();

    // PHP API calls that plugins make on every page.
    const apiRuns: Record<string, { p50: number[]; p99: number[] }> = { as_next_scheduled_action: { p50: [], p99: [] }, as_has_scheduled_action: { p50: [], p99: [] }, as_get_scheduled_actions: { p50: [], p99: [] } };
    for (let r = 1; r <= runs; r++) {
      const out = JSON.parse(php(prefix, `$res = array();
        foreach (array('as_next_scheduled_action', 'as_has_scheduled_action') as $fn) { $t = array();
          for ($i = 0; $i < 200; $i++) { $h = ($i % 2 ? 'bench_due_' : 'bench_done_') . ($i % 50); $s = microtime(true); $fn($h); $t[] = (microtime(true) - $s) * 1000; }
          sort($t); $res[$fn] = array($t[99], $t[197]); }
        $t = array(); for ($i = 0; $i < 50; $i++) { $s = microtime(true); as_get_scheduled_actions(array('hook' => 'bench_due_' . $i, 'status' => 'pending', 'per_page' => 10), 'ids'); $t[] = (microtime(true) - $s) * 1000; }
        sort($t); $res['as_get_scheduled_actions'] = array($t[24], $t[48]);
        echo json_encode($res);`).trim().split('\n').pop()!);
      for (const k of Object.keys(apiRuns)) { apiRuns[k].p50.push(out[k][0]); apiRuns[k].p99.push(out[k][1]); }
      progress(`PHP API on ${total} rows run ${r}/${runs}: ${Object.entries(out).map(([k, v]: any) => `${k} p50 ${v[0].toFixed(2)} ms`).join(', ')}`);
    }

    // Admin REST timings over HTTP (php-fpm + nginx), as the admin screen calls them.
    const auth = 'Basic ' + Buffer.from(`admin:${php(prefix, `$u = get_user_by('login', 'admin'); list($p) = WP_Application_Passwords::create_new_application_password($u->ID, array('name' => 'bench')); echo $p;`).trim()}`).toString('base64');
    const routes: Record<string, string> = {
      overview: '/overview', groups: '/groups', 'actions (page 1)': '/actions?per_page=20',
      'actions (failed)': '/actions?status=failed&per_page=20', 'actions (past-due)': '/actions?status=past-due&per_page=20',
      'actions (search)': '/actions?search=bench_due_7&per_page=20', 'actions (group)': '/actions?group=emails&per_page=20',
    };
    const restRuns: Record<string, { p50: number[]; p99: number[] }> = {};
    for (let r = 1; r <= runs; r++) {
      for (const [name, path] of Object.entries(routes)) {
        const times: number[] = [];
        for (let i = 0; i < 10; i++) {
          const s = process.hrtime.bigint();
          const res = await fetch(`${PREFIX_SITE}/wp-json/sidecar-scheduler/v1${path}`, { headers: { authorization: auth, 'X-WP-Table-Prefix': prefix } });
          await res.text();
          if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
          times.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
        restRuns[name] ??= { p50: [], p99: [] };
        restRuns[name].p50.push(percentile(times, 0.5)); restRuns[name].p99.push(percentile(times, 0.99));
      }
      progress(`admin REST on ${total} rows run ${r}/${runs}: ${Object.entries(restRuns).map(([k, v]) => `${k} ${v.p50[v.p50.length - 1].toFixed(0)} ms`).join(', ')}`);
    }

    // Drain rate while the table is big: the sidecar runs for 20 s against the 200k due (no-op callbacks via the noop hook).
    await c.query(`UPDATE ${prefix}actionscheduler_actions SET hook = 'sidecar_test_noop' WHERE status = 'pending'`);
    const drainRates: number[] = [];
    for (let r = 1; r <= runs; r++) {
      const [[b]] = await c.query<mysql.RowDataPacket[][]>(`SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE status = 'complete'`) as any;
      const child = sidecar(prefix, ['--workers=2', '--batch-size=100']);
      await new Promise((res) => setTimeout(res, 20000));
      child.kill('SIGTERM');
      await exited(child, 60000);
      const [[a]] = await c.query<mysql.RowDataPacket[][]>(`SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_actions WHERE status = 'complete'`) as any;
      drainRates.push((Number(a.n) - Number(b.n)) / 20);
      progress(`drain on ${total} rows run ${r}/${runs}: ${((Number(a.n) - Number(b.n)) / 20).toFixed(0)}/s`);
    }
    const s2 = (o: { p50: number[]; p99: number[] }) => ({ p50: summarize(o.p50), p99: summarize(o.p99) });
    return {
      rows: total, due, logs: total * 3, seedSeconds,
      claimMs: Object.fromEntries(Object.entries(claimRuns).map(([k, v]) => [k, s2(v)])),
      apiMs: Object.fromEntries(Object.entries(apiRuns).map(([k, v]) => [k, s2(v)])),
      restMs: Object.fromEntries(Object.entries(restRuns).map(([k, v]) => [k, s2(v)])),
      drainPerSec: summarize(drainRates),
    };
  } finally { await c.end(); }
}
