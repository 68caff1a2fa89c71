// `npm run bench`: Sidecar Scheduler measured on the native stack; prints a table and writes the full results as JSON.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, DOCROOT } from '../helpers/stack';
import { connect, prepareSite, enqueue, drain, latency, bigTable, EnqueueResult, DrainResult, LatencyResult, BigTableResult } from './scenarios';
import { fmt, fmtSummary } from './stats';

const HELP = `Usage: npm run bench -- [options]
  --scenarios=enqueue,drain,latency,bigtable   which to run (default: all)
  --size=10000            actions for enqueue and for each drain
  --large-size=100000     the large drain (wp-cli channel, 2 workers; also the memory check); 0 skips it
  --rest-size=2000        actions per rest-channel drain (one WordPress boot per action: far slower than pipes)
  --channels=wp-cli,php,rest  drain channels (wp-cli: the stack's WP-CLI from Packagist, wp sidecar-scheduler work)
  --workers=1,2,4         drain worker counts
  --runs=3                repetitions; every number is the median with min and max
  --latency-count=500     actions in each latency run
  --big-rows=1000000      rows in the big-table scenario (--big-due=200000 of them due)
  --quick                 small sizes for a smoke run (2,000 / 0 / 100 / 100,000 rows)`;

const { values: o } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'enqueue,drain,latency,bigtable' }, size: { type: 'string', default: '10000' },
    'large-size': { type: 'string', default: '100000' }, 'rest-size': { type: 'string', default: '2000' }, channels: { type: 'string', default: 'wp-cli,php,rest' }, workers: { type: 'string', default: '1,2,4' },
    runs: { type: 'string', default: '3' }, 'latency-count': { type: 'string', default: '500' }, 'big-rows': { type: 'string', default: '1000000' },
    'big-due': { type: 'string', default: '200000' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  },
});
if (o.help) { console.log(HELP); process.exit(0); }
const quick = o.quick;
const num = (v: string | undefined, q: number) => (quick ? q : Number(v));
const scenarios = new Set(String(o.scenarios).split(','));
const size = num(o.size, 2000);
const largeSize = num(o['large-size'], 0);
const restSize = num(o['rest-size'], 500);
const runs = Math.max(1, Number(o.runs));
const channels = String(o.channels).split(',').filter(Boolean);
const workerCounts = String(o.workers).split(',').map(Number).filter((n) => n > 0);
const latencyCount = num(o['latency-count'], 100);
const bigRows = num(o['big-rows'], 100000);
const bigDue = quick ? 20000 : Number(o['big-due']);

const started = Date.now();
const progress = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

async function machine() {
  const c = await connect();
  const [[v]] = await c.query('SELECT VERSION() AS v') as any;
  const [[flush]] = await c.query("SHOW VARIABLES LIKE 'innodb_flush_log_at_trx_commit'") as any;
  await c.end();
  const wp = /\$wp_version = '([^']+)'/.exec(readFileSync(join(DOCROOT, 'wp-includes/version.php'), 'utf8'))?.[1];
  let commit = '';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  return {
    date: new Date().toISOString(), commit, cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30),
    mariadb: String(v.v), innodbFlushLogAtTrxCommit: String(flush.Value), php: execFileSync('php', ['-r', 'echo PHP_VERSION;'], { encoding: 'utf8' }), wordpress: wp, node: process.version,
  };
}

const LIBRARY = 'The real Action Scheduler is not served by any registry reachable here (Packagist mirror, npm, Debian), so its runner could not run in the same benchmark. Reference numbers measured earlier on this machine class (../shared/reference/native-stack-notes.md): enqueue ~400-830 calls/s at 3 queries per call; WP-CLI runner ~140-200 actions/s with 1 process, ~230-380/s with 2; claim 1.5-1.9 s on 1M rows with 200k due.';

async function main() {
  execFileSync('bash', [join(ROOT, 'scripts/build-if-stale.sh')], { stdio: 'inherit' });
  execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'sidecar-stop'], { stdio: 'inherit' }); // a dev sidecar would compete for CPU
  execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'up'], { stdio: 'ignore', env: { ...process.env, SIDECAR_STACK_START_SIDECAR: '0' } });
  execFileSync('ln', ['-sfn', join(ROOT, 'tests/fixtures/sidecar-test-hooks.php'), join(DOCROOT, 'wp-content/mu-plugins/sidecar-test-hooks.php')]);
  const facts = await machine();
  progress(`machine: ${facts.cores} cores, MariaDB ${facts.mariadb}, PHP ${facts.php}, WordPress ${facts.wordpress}, Node ${facts.node}`);
  const results: { enqueue?: EnqueueResult; drain: DrainResult[]; latency?: LatencyResult; bigTable?: BigTableResult; library: string } = { drain: [], library: LIBRARY };
  const prefix = 'bench_';
  await prepareSite(prefix);

  if (scenarios.has('enqueue')) results.enqueue = await enqueue(prefix, size, runs, progress);
  if (scenarios.has('drain')) {
    for (const channel of channels) for (const w of workerCounts) results.drain.push(await drain(prefix, channel === 'rest' ? restSize : size, channel, w, runs, progress));
    if (largeSize > 0) results.drain.push(await drain(prefix, largeSize, 'wp-cli', 2, runs, progress));
  }
  if (scenarios.has('latency')) results.latency = await latency(prefix, latencyCount, runs, progress);
  if (scenarios.has('bigtable')) {
    const big = 'benchbig_';
    await prepareSite(big);
    results.bigTable = await bigTable(big, bigRows, bigDue, runs, progress);
  }

  // --- the table ---------------------------------------------------------------------------------------------
  const lines: string[] = [];
  const row = (a: string, b: string, c = '') => lines.push(`| ${a} | ${b} | ${c} |`);
  lines.push(`Sidecar Scheduler benchmark, ${facts.date} (commit ${facts.commit}), ${facts.cores} cores, MariaDB ${facts.mariadb}, PHP ${facts.php}, WordPress ${facts.wordpress}. Median (min–max) of ${runs} runs.`, '');
  lines.push('| scenario | result | target |', '| --- | --- | --- |');
  if (results.enqueue) {
    row(`enqueue ${size} × as_enqueue_async_action, one PHP process`, `${fmtSummary(results.enqueue.callsPerSec, 0)} calls/s; ${fmtSummary(results.enqueue.queriesPerCall, 2)} queries/call`, '≤ 2 queries/call; ≥ 3× the library');
  }
  for (const d of results.drain) {
    const rss = Math.max(...d.usage.map((u) => u.sidecarRssMaxMb));
    const wrss = Math.max(...d.usage.map((u) => u.workerRssMaxMb));
    const cpuPerK = d.usage.map((u) => (u.sidecarCpuSec / d.size) * 1000);
    row(`drain ${d.size} no-op, ${d.channel} channel, ${d.workers} worker${d.workers > 1 ? 's' : ''}`,
      `${fmtSummary(d.actionsPerSec, 0)} actions/s; exactly once: ${d.exactlyOnce ? 'yes' : 'NO'}; ${fmt(d.queriesPerAction.median, 1)} queries, ${fmt(d.rowsWrittenPerAction.median, 1)} rows written, ${fmt(d.commitsPerAction.median, 1)} commits, ${fmt(d.fsyncsPerAction.median, 1)} fsyncs per action; sidecar RSS ≤ ${fmt(rss, 0)} MB, CPU ${fmt(cpuPerK.sort()[Math.floor(cpuPerK.length / 2)], 2)} s per 1000; PHP worker RSS ≤ ${fmt(wrss, 0)} MB`,
      d.channel === 'wp-cli' && d.workers === 2 ? '≥ 2,000/s; ≥ 10× the library with 2 processes' + (d.size >= 100000 ? '; sidecar RSS < 100 MB' : '') : '');
  }
  if (results.latency) {
    const l = results.latency;
    row(`enqueue-to-start latency, idle queue, ${l.count} actions`, `p50 ${fmtSummary(l.p50)} ms, p95 ${fmtSummary(l.p95)} ms, p99 ${fmtSummary(l.p99)} ms`, 'p50 < 25 ms, p99 < 150 ms');
  }
  if (results.bigTable) {
    const b = results.bigTable;
    for (const [k, v] of Object.entries(b.claimMs)) row(`claim of ${k}, on ${b.rows} rows (${b.due} due, ${b.logs} log rows)`, `p50 ${fmtSummary(v.p50, 2)} ms, p99 ${fmtSummary(v.p99, 2)} ms`, 'p99 < 5 ms');
    for (const [k, v] of Object.entries(b.apiMs)) row(`${k}() on ${b.rows} rows`, `p50 ${fmtSummary(v.p50, 2)} ms, p99 ${fmtSummary(v.p99, 2)} ms`, k === 'as_get_scheduled_actions' ? '' : '< 5 ms');
    for (const [k, v] of Object.entries(b.restMs)) row(`admin REST ${k} on ${b.rows} rows`, `p50 ${fmtSummary(v.p50, 0)} ms, p99 ${fmtSummary(v.p99, 0)} ms`, '< 300 ms');
    row(`drain on ${b.rows} rows, php channel, 2 workers`, `${fmtSummary(b.drainPerSec, 0)} actions/s`, '');
  }
  lines.push('', results.library);
  const table = lines.join('\n');
  console.log('\n' + table + '\n');
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${facts.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: facts, options: { size, largeSize, restSize, runs, channels, workerCounts, latencyCount, bigRows, bigDue }, results, table }, null, 2));
  writeFileSync(join(dir, 'latest.md'), table + '\n');
  console.log(`results written to ${file}`);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
