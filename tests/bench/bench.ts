// `npm run bench`: Sidecar Scheduler and the real Action Scheduler's own runner measured side by side on the native
// stack, in one run; prints one table with our figures as ratios to the library's, and writes the results as JSON.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, DOCROOT } from '../helpers/stack';
import {
  connect,
  enqueueOnce,
  drainOnce,
  latencyOnce,
  bigTable,
  Drainer,
  DrainRun,
  Kind,
  BigTableResult,
} from './scenarios';
import { cleanup, CleanupResult } from './cleanup';
import { SITES, Mode, linkMuPlugins, prepareSite, storeClass } from './sites';
import { fmt, fmtSummary, summarize, Summary } from './stats';

const HELP = `Usage: npm run bench -- [options]
  --scenarios=enqueue,drain,latency,bigtable,cleanup   which to run (default: all; --scenarios=cleanup runs that row alone)
  --size=10000            actions in each drain
  --enqueue-size=5000     as_enqueue_async_action calls in each enqueue run
  --kinds=noop,write      drained actions: a no-op counted in a file, and one that writes one row
  --runs=3                repetitions, interleaved (every drainer once per run); medians with min and max
  --latency-count=200     actions in each latency run (one front-end request each)
  --big-rows=1000000      rows in the big-table scenario (--big-due=200000 of them due)
  --library-claims=4      claims per run of the library's claim on the big table (each takes seconds)
  --cleanup-rows=1000000  rows in the cleanup scenario (--cleanup-expired=600000 of them past the retention period)
  --cleanup-workers=2     php workers of the sidecar that drains during the cleanup (2 keep both cores busy here)
  --cleanup-minutes=0     stop the cleanup scenario after this many minutes of windows (0: until every expired row
                          is gone; at the busy pace of 300 rows/s here the 1M-row scenario takes about 70 minutes)
  --large-size=100000     a long standalone drain (2 wp-cli workers, one run): sustained rate and memory; 0 skips it
  --extra=                more standalone no-op drains, channel:workers (e.g. php:2,rest:2,wp-cli:4)
  --quick                 every row with small counts, one run (500 / 40 / 100,000 rows / 3 claims / no large drain /
                          cleanup of 60,000 of 100,000 rows, stopped after 2 minutes)`;

const { values: o } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'enqueue,drain,latency,bigtable,cleanup' },
    size: { type: 'string', default: '10000' },
    kinds: { type: 'string', default: 'noop,write' },
    runs: { type: 'string' },
    'latency-count': { type: 'string', default: '200' },
    'enqueue-size': { type: 'string', default: '5000' },
    'big-rows': { type: 'string', default: '1000000' },
    'big-due': { type: 'string', default: '200000' },
    'library-claims': { type: 'string', default: '4' },
    'cleanup-rows': { type: 'string', default: '1000000' },
    'cleanup-expired': { type: 'string', default: '600000' },
    'cleanup-workers': { type: 'string', default: '2' },
    'cleanup-minutes': { type: 'string', default: '0' },
    'large-size': { type: 'string', default: '100000' },
    extra: { type: 'string', default: '' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  console.log(HELP);
  process.exit(0);
}
const quick = o.quick;
const num = (v: string | undefined, q: number) => (quick ? q : Number(v));
const scenarios = new Set(String(o.scenarios).split(','));
const size = num(o.size, 500);
const enqueueSize = num(o['enqueue-size'], 500);
const kinds = String(o.kinds).split(',').filter(Boolean) as Kind[];
const runs = Math.max(1, Number(o.runs ?? (quick ? 1 : 3)));
const latencyCount = num(o['latency-count'], 40);
const bigRows = num(o['big-rows'], 100000);
const bigDue = quick ? 20000 : Number(o['big-due']);
const libraryClaims = num(o['library-claims'], 3);
const largeSize = num(o['large-size'], 0);
const cleanupRows = num(o['cleanup-rows'], 100000);
const cleanupExpired = num(o['cleanup-expired'], 60000);
const cleanupWorkers = Number(o['cleanup-workers']);
const cleanupMinutes = quick ? 2 : Number(o['cleanup-minutes']);
for (const s of scenarios) {
  if (!['enqueue', 'drain', 'latency', 'bigtable', 'cleanup'].includes(s)) {
    console.error(`unknown scenario: ${s}\n${HELP}`);
    process.exit(64);
  }
}
if (!(cleanupExpired > 0 && cleanupExpired < cleanupRows)) {
  console.error('--cleanup-expired must be above 0 and below --cleanup-rows');
  process.exit(64);
}
if (!(cleanupMinutes >= 0 && cleanupMinutes <= 1440)) {
  console.error('--cleanup-minutes must be a number from 0 to 1440');
  process.exit(64);
}
if (!(Number.isInteger(cleanupWorkers) && cleanupWorkers >= 1 && cleanupWorkers <= 16)) {
  console.error('--cleanup-workers must be a whole number from 1 to 16');
  process.exit(64);
}
const extra = String(o.extra)
  .split(',')
  .filter(Boolean)
  .map((x) => {
    const [channel, w] = x.split(':');
    return { channel, workers: Number(w) };
  });

const started = Date.now();
const progress = (line: string) =>
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

async function machine() {
  const c = await connect();
  const [[v]] = (await c.query('SELECT VERSION() AS v')) as any;
  const [[flush]] = (await c.query("SHOW VARIABLES LIKE 'innodb_flush_log_at_trx_commit'")) as any;
  await c.end();
  const wp = /\$wp_version = '([^']+)'/.exec(readFileSync(join(DOCROOT, 'wp-includes/version.php'), 'utf8'))?.[1];
  const library = /^\s*\*\s*Version:\s*(\S+)/m.exec(
    readFileSync(join(DOCROOT, 'wp-content/plugins/action-scheduler/action-scheduler.php'), 'utf8'),
  )?.[1];
  let commit = '';
  let dirty = 0;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean).length;
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    commit,
    uncommittedFiles: dirty,
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim(),
    mariadb: String(v.v),
    innodbFlushLogAtTrxCommit: String(flush.Value),
    php: execFileSync('php', ['-r', 'echo PHP_VERSION;'], { encoding: 'utf8' }),
    wordpress: wp,
    actionScheduler: library,
    node: process.version,
  };
}

const DRAINERS: Drainer[] = [
  {
    label: "the library's `wp action-scheduler run`, 1 process",
    prefix: SITES.library.prefix,
    runner: 'library',
    processes: 1,
  },
  {
    label: "the library's `wp action-scheduler run`, 2 processes",
    prefix: SITES.library.prefix,
    runner: 'library',
    processes: 2,
  },
  {
    label: 'sidecar, 2 wp-cli workers, companion mode',
    prefix: SITES.companion.prefix,
    runner: 'sidecar',
    processes: 2,
    channel: 'wp-cli',
  },
  {
    label: 'sidecar, 2 wp-cli workers, standalone',
    prefix: SITES.standalone.prefix,
    runner: 'sidecar',
    processes: 2,
    channel: 'wp-cli',
  },
];
const [LIB1, LIB2, COMP, STD] = DRAINERS;

/** Ratios taken run by run (the drainers of one run ran minutes apart at most), then summarized. */
const ratios = (a: number[], b: number[]) => summarize(a.map((x, i) => x / b[i]));
const digits = (x: number) => (x < 10 ? 2 : x < 100 ? 1 : 0);
const times = (s: Summary) =>
  `${fmt(s.median, digits(s.median))}× (${fmt(s.min, digits(s.min))}–${fmt(s.max, digits(s.max))})`;
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
/**
 * A shift's target judged by what the run can tell: met when the whole 95 % interval is within it, not met when the
 * whole interval is beyond it, and otherwise not shown either way (the noise of one run is wider than the target);
 * a run of fewer than ten pairs of windows shows nothing.
 */
const shiftVerdict = (interval: { low: number; high: number }, limit: number, pairs: number) => {
  // Below about ten pairs a bootstrap interval is too narrow to trust (one pair gives a single point).
  if (pairs < 10) return `**not shown** (${pairs} pairs of windows: too few to tell)`;
  if (interval.high <= limit) return 'met';
  if (interval.low > limit) return '**not met**';
  return `**not shown** (the interval holds ${limit} ms)`;
};

/**
 * Other work changes the tree while the bench runs: a scenario that fails (a half-saved file, a sidecar that cannot
 * start its workers) is retried twice after a pause, then the bench goes on without that run (its cells say n/a).
 */
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  for (let i = 1; i <= 3; i++) {
    try {
      return await fn();
    } catch (e) {
      progress(`${what} failed (attempt ${i} of 3): ${String((e as Error).message ?? e).slice(0, 600)}`);
      failures.push(
        `${what}: ${String((e as Error).message ?? e)
          .replace(/\s+/g, ' ')
          .slice(0, 300)}`,
      );
      if (i < 3) await new Promise((r) => setTimeout(r, 20000));
    }
  }
  return undefined;
}
const failures: string[] = [];

async function main() {
  // Starts the stack only when its database does not answer (never stops anything: the stack is shared); the bench
  // starts its own sidecars.
  if (
    !(await connect().then(
      (c) => c.end().then(() => true),
      () => false,
    ))
  ) {
    execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'up'], {
      stdio: 'ignore',
      env: { ...process.env, SIDECAR_STACK_START_SIDECAR: '0' },
    });
  }
  linkMuPlugins();
  const facts = await machine();
  progress(
    `machine: ${facts.cores} cores, load ${facts.loadAverage}, MariaDB ${facts.mariadb}, PHP ${facts.php}, WordPress ${facts.wordpress}, Action Scheduler ${facts.actionScheduler}, Node ${facts.node}, commit ${facts.commit}${facts.uncommittedFiles ? ` + ${facts.uncommittedFiles} uncommitted files` : ''}`,
  );
  // The three sites serve enqueue, drain and latency; the big-table and cleanup scenarios make sites of their own.
  const shared = ['enqueue', 'drain', 'latency'].some((x) => scenarios.has(x));
  if (shared) for (const mode of Object.keys(SITES) as Mode[]) await prepareSite(SITES[mode].prefix, mode);
  const stores = shared
    ? Object.fromEntries((Object.keys(SITES) as Mode[]).map((m) => [m, storeClass(SITES[m].prefix)]))
    : {};
  if (shared) {
    progress(
      `sites: ${(Object.keys(SITES) as Mode[]).map((m) => `${m} ${SITES[m].prefix} (store in a PHP request: ${stores[m]})`).join(', ')}`,
    );
  }

  const enqueue: Partial<Record<Mode, { perSec: number[]; queriesPerCall: number[] }>> = {};
  const drains = new Map<string, (DrainRun | undefined)[]>(); // `${kind}|${label}`
  const extraDrains: { label: string; runs: DrainRun[] }[] = [];
  const latency: Partial<Record<Mode, { p50: number[]; p95: number[]; p99: number[] }>> = {};
  let big: BigTableResult | undefined;
  let clean: CleanupResult | undefined;

  if (scenarios.has('enqueue')) {
    for (let r = 1; r <= runs; r++) {
      for (const mode of ['library', 'standalone', 'companion'] as Mode[]) {
        const e = await attempt(`enqueue ${mode}`, () => enqueueOnce(SITES[mode].prefix, enqueueSize));
        const acc = (enqueue[mode] ??= { perSec: [], queriesPerCall: [] });
        acc.perSec.push(e?.perSec ?? NaN);
        acc.queriesPerCall.push(e?.queriesPerCall ?? NaN);
        if (!e) continue;
        progress(
          `enqueue ${mode} run ${r}/${runs}: ${enqueueSize} calls, ${e.perSec.toFixed(0)}/s, ${e.queriesPerCall.toFixed(2)} queries/call`,
        );
      }
    }
  }
  if (scenarios.has('drain')) {
    for (let r = 1; r <= runs; r++) {
      for (const kind of kinds) {
        for (const d of DRAINERS) {
          const run = await attempt(`drain ${kind} ${d.label}`, () => drainOnce(d, kind, size));
          const key = `${kind}|${d.label}`;
          drains.set(key, [...(drains.get(key) ?? []), run]); // by run, so ratios pair runs of the same round
          if (!run) continue;
          progress(
            `drain ${kind} ${d.label} run ${r}/${runs}: ${size} in ${run.secs.toFixed(1)} s (${run.perSec.toFixed(0)}/s), exactly once: ${run.exactlyOnce ? 'yes' : `NO (${run.onceDetail})`}, ${fmt(run.queriesPerAction, 2)} queries/action (${run.queries.phpProcesses} PHP processes: ${run.queries.php}, sidecar: ${run.queries.node})${run.executingProcesses !== undefined ? `, ${run.executingProcesses} processes ran actions` : ''}${run.runnerErrors.length ? `; the library's runner: ${run.runnerErrors.join('; ')}` : ''}`,
          );
        }
      }
    }
    for (const x of [...extra, ...(largeSize > 0 ? [{ channel: 'wp-cli', workers: 2, size: largeSize }] : [])]) {
      const n = 'size' in x ? x.size : size;
      const d: Drainer = {
        label: `sidecar, ${x.workers} ${x.channel} worker${x.workers > 1 ? 's' : ''}, standalone, ${n} no-op`,
        prefix: SITES.standalone.prefix,
        runner: 'sidecar',
        processes: x.workers,
        channel: x.channel,
      };
      const rr: DrainRun[] = [];
      for (let r = 1; r <= ('size' in x ? 1 : runs); r++) {
        const run = await attempt(`drain ${d.label}`, () => drainOnce(d, 'noop', n));
        if (!run) continue;
        rr.push(run);
        progress(
          `drain ${d.label} run ${r}: ${n} in ${run.secs.toFixed(1)} s (${run.perSec.toFixed(0)}/s), exactly once: ${run.exactlyOnce ? 'yes' : `NO (${run.onceDetail})`}, sidecar RSS max ${fmt(run.usage?.sidecarRssMaxMb ?? NaN, 0)} MB`,
        );
      }
      extraDrains.push({ label: d.label, runs: rr });
    }
  }
  if (scenarios.has('latency')) {
    for (let r = 1; r <= runs; r++) {
      for (const [mode, port] of [
        ['companion', 28710],
        ['standalone', 28712],
      ] as [Mode, number][]) {
        const l = await attempt(`latency ${mode}`, () => latencyOnce(SITES[mode].prefix, latencyCount, port));
        const acc = (latency[mode] ??= { p50: [], p95: [], p99: [] });
        acc.p50.push(l?.p50 ?? NaN);
        acc.p95.push(l?.p95 ?? NaN);
        acc.p99.push(l?.p99 ?? NaN);
        if (!l) continue;
        progress(
          `latency ${mode} run ${r}/${runs}: ${l.n} actions, p50 ${l.p50.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`,
        );
      }
    }
  }
  if (scenarios.has('bigtable')) {
    big = await attempt('big table', async () => {
      await prepareSite('tbbig_', 'standalone');
      await prepareSite('tblbig_', 'library');
      return bigTable('tbbig_', 'tblbig_', bigRows, bigDue, runs, libraryClaims, progress);
    });
  }

  if (scenarios.has('cleanup')) {
    clean = await attempt('cleanup', async () => {
      await prepareSite('tbclean_', 'standalone');
      return cleanup('tbclean_', cleanupRows, cleanupExpired, cleanupWorkers, progress, cleanupMinutes * 60_000);
    });
  }

  // --- the table ---------------------------------------------------------------------------------------------
  const lines: string[] = [];
  const row = (...cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  lines.push(
    `Sidecar Scheduler beside Action Scheduler ${facts.actionScheduler}, ${facts.date} (commit ${facts.commit}${facts.uncommittedFiles ? `, ${facts.uncommittedFiles} files with uncommitted changes` : ''}), ${facts.cores} cores (load at start ${facts.loadAverage.split(' ').slice(0, 3).join(' ')}), MariaDB ${facts.mariadb}, PHP ${facts.php}, WordPress ${facts.wordpress}. Median (min–max) of ${runs} run${runs > 1 ? 's' : ''}; ratios are taken run by run.`,
    '',
  );
  row('scenario', 'result', 'ratio to the library', 'target');
  row('---', '---', '---', '---');
  if (enqueue.library) {
    const lib = enqueue.library;
    row(
      `enqueue ${enqueueSize} × as_enqueue_async_action, one PHP process: the library`,
      `${fmtSummary(summarize(lib.perSec), 0)} calls/s; ${fmtSummary(summarize(lib.queriesPerCall), 2)} queries/call`,
      '1',
      '',
    );
    for (const mode of ['standalone', 'companion'] as Mode[]) {
      const e = enqueue[mode]!;
      row(
        `enqueue, ours ${mode}${mode === 'companion' ? " (the library's as_* functions, with ours loaded)" : ''}`,
        `${fmtSummary(summarize(e.perSec), 0)} calls/s; ${fmtSummary(summarize(e.queriesPerCall), 2)} queries/call`,
        `${times(ratios(e.perSec, lib.perSec))} calls/s; ${times(ratios(e.queriesPerCall, lib.queriesPerCall))} queries`,
        mode === 'standalone'
          ? `≥ 3× the library: ${verdict(ratios(e.perSec, lib.perSec).median >= 3)}; ≤ 2 queries/call: ${verdict(summarize(e.queriesPerCall).median <= 2)}`
          : '',
      );
    }
  }
  for (const kind of kinds) {
    const get = (d: Drainer) => drains.get(`${kind}|${d.label}`);
    if (!get(LIB2) && !get(STD)) continue;
    const rate = (d: Drainer) => (get(d) ?? []).map((x) => x?.perSec ?? NaN);
    const q = (d: Drainer) => (get(d) ?? []).map((x) => x?.queriesPerAction ?? NaN);
    const what = kind === 'noop' ? 'no-op (counted in a file)' : 'writing one row';
    for (const d of DRAINERS) {
      const rr = get(d) ?? [];
      const done = rr.filter((x): x is DrainRun => !!x);
      const once = done.length > 0 && done.every((x) => x.exactlyOnce);
      const result = `${fmtSummary(summarize(rate(d)), 0)} actions/s; ${fmtSummary(summarize(q(d)), 1)} queries/action${kind === 'write' ? ' besides its INSERT' : ''}; exactly once: ${once ? `yes (${done.length} run${done.length > 1 ? 's' : ''})` : done.length ? '**NO**' : 'n/a'}`;
      let ratio = '1 (reference)';
      let target = '';
      if (d === LIB1) ratio = `${times(ratios(rate(LIB1), rate(LIB2)))} the 2-process runner`;
      if (d.runner === 'sidecar') {
        const vs2 = ratios(rate(d), rate(LIB2));
        ratio = `${times(vs2)} actions/s (${times(ratios(rate(d), rate(LIB1)))} the 1-process runner); ${times(ratios(q(d), q(LIB2)))} queries`;
        target = `≥ 10× the library's 2 processes: ${verdict(vs2.median >= 10)}`;
        if (d === COMP) {
          const share = ratios(rate(COMP), rate(STD));
          target += `; ≥ 90 % of standalone: ${fmt(share.median * 100, 0)} % (${fmt(share.min * 100, 0)}–${fmt(share.max * 100, 0)}), ${verdict(share.median >= 0.9)}`;
        }
      }
      const errored = done.filter((x) => x.runnerErrors.length);
      row(
        `drain ${size} ${what}: ${d.label}`,
        result +
          (errored.length
            ? `; in ${errored.length} run${errored.length > 1 ? 's' : ''} a process exited non-zero after all actions ran (${errored[0].runnerErrors[0]})`
            : ''),
        ratio,
        target,
      );
    }
  }
  for (const x of extraDrains) {
    const rss = Math.max(...x.runs.map((r) => r.usage?.sidecarRssMaxMb ?? NaN));
    const large = x.label.includes(String(largeSize)) && largeSize > 0;
    row(
      `drain: ${x.label}`,
      `${fmtSummary(summarize(x.runs.map((r) => r.perSec)), 0)} actions/s; ${fmtSummary(summarize(x.runs.map((r) => r.queriesPerAction)), 1)} queries/action; exactly once: ${x.runs.every((r) => r.exactlyOnce) ? 'yes' : '**NO**'}; sidecar RSS ≤ ${fmt(rss, 0)} MB`,
      '',
      large
        ? `≥ 2,000/s: ${verdict(summarize(x.runs.map((r) => r.perSec)).median >= 2000)}; sidecar RSS < 100 MB: ${verdict(rss < 100)}`
        : '',
    );
  }
  for (const mode of ['companion', 'standalone'] as Mode[]) {
    const l = latency[mode];
    if (!l) continue;
    const p50 = summarize(l.p50);
    const p99 = summarize(l.p99);
    row(
      `enqueue → start, idle queue, ${latencyCount} actions (one request each), sidecar with 2 wp-cli workers, ${mode}`,
      `p50 ${fmtSummary(p50)} ms, p95 ${fmtSummary(summarize(l.p95))} ms, p99 ${fmtSummary(p99)} ms`,
      '',
      `p50 < 25 ms: ${verdict(p50.median < 25)}; p99 < 150 ms: ${verdict(p99.median < 150)}`,
    );
  }
  if (big) {
    const b = big;
    const on = `on ${b.rows} rows (${b.due} due, ${b.logs} log rows)`;
    for (const batch of ['25', '100']) {
      const lib = b.libraryClaimMs[batch];
      if (!lib) continue;
      row(
        `claim of ${batch} ${on}: the library's store (stake_claim), its own schema`,
        `p50 ${fmtSummary(lib.p50, 0)} ms, max ${fmtSummary(lib.max, 0)} ms (${b.libraryClaims} claims a run)`,
        '1',
        '',
      );
      const ours = b.claimMs[`${batch}, successive`];
      row(
        `claim of ${batch} ${on}: ours (the sidecar's claimer), fresh rows each time`,
        `p50 ${fmtSummary(ours.p50, 2)} ms, p99 ${fmtSummary(ours.p99, 2)} ms`,
        `p50 ${times(ratios(lib.p50.runs, ours.p50.runs))} faster`,
        `p99 < 5 ms: ${verdict(ours.p99.median < 5)}`,
      );
    }
    for (const [k, v] of Object.entries(b.claimMs)) {
      if (!/^(25|100), successive$/.test(k)) {
        row(
          `claim of ${k} ${on}: ours`,
          `p50 ${fmtSummary(v.p50, 2)} ms, p99 ${fmtSummary(v.p99, 2)} ms`,
          '',
          `p99 < 5 ms: ${verdict(v.p99.median < 5)}`,
        );
      }
    }
    for (const [k, v] of Object.entries(b.apiMs)) {
      row(
        `${k}() on ${b.rows} rows, ours`,
        `p50 ${fmtSummary(v.p50, 2)} ms, p99 ${fmtSummary(v.p99, 2)} ms`,
        '',
        k === 'as_get_scheduled_actions' ? '' : `p99 < 5 ms: ${verdict(v.p99.median < 5)}`,
      );
    }
    for (const [k, v] of Object.entries(b.restMs)) {
      row(
        `admin REST ${k} on ${b.rows} rows`,
        `p50 ${fmtSummary(v.p50, 0)} ms, p99 ${fmtSummary(v.p99, 0)} ms`,
        '',
        `p99 < 300 ms: ${verdict(v.p99.median < 300)}`,
      );
    }
    row(
      `drain on ${b.rows} rows, standalone, php channel, 2 workers (15 s from its first finished action)`,
      `${fmtSummary(b.drainPerSec, 0)} actions/s`,
      '',
      '',
    );
  }
  if (clean) {
    const x = clean;
    const p = (v: { p50: number; p99: number; n: number }) =>
      `p50 ${fmt(v.p50, 2)} ms, p99 ${fmt(v.p99, 2)} ms (${v.n} claims)`;
    row(
      `cleanup of ${x.expired} expired rows (${x.logs} log rows in all) in a ${x.rows}-row table, by the sidecar's maintenance passes while it drains (${x.workers} php worker${x.workers === 1 ? '' : 's'}), ${x.windows} alternating 15 s windows`,
      `${fmt(x.rowsPerSec, 0)} rows/s, ${fmt(x.cleanSeconds, 0)} s of passes to clean (${fmt(x.elapsedSeconds, 0)} s with the windows without); drain ${fmt(x.drainPerSec.without, 0)}/s without, ${fmt(x.drainPerSec.with, 0)}/s with${x.topUps ? `; ${x.topUps} top-ups of ${x.topUpRows} due rows` : ''}${x.left ? `; stopped at --cleanup-minutes with ${x.left} expired rows left` : ''}`,
      '',
      '',
    );
    row(
      `claim of 100 (the sidecar's claimer) during that drain: without cleanup / with cleanup running`,
      `${p(x.claimMs.without)} / ${p(x.claimMs.with)}`,
      `p99 with − without: ${fmt(x.p99DiffMs, 2)} ms (95 % interval ${fmt(x.p99ShiftIntervalMs.low, 2)} to ${fmt(x.p99ShiftIntervalMs.high, 2)}; per pair of windows: ${fmtSummary(x.windowP99DiffMs, 2)}); p99 ${fmt(x.claimMs.with.p99 / x.claimMs.without.p99, 2)}×`,
      `p99 moves ≤ 2 ms: ${shiftVerdict(x.p99ShiftIntervalMs, 2, x.windowP99DiffMs.runs.length)}`,
    );
  }
  if (failures.length) {
    lines.push(
      '',
      `Failed attempts (retried; a run that failed three times is missing above): ${failures.join(' / ')}`,
    );
  }
  const table = lines.join('\n');
  console.log('\n' + table + '\n');
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${facts.date.replace(/[:.]/g, '-')}.json`);
  const drainJson = Object.fromEntries([...drains.entries()]);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: facts,
        stores,
        options: {
          size,
          enqueueSize,
          kinds,
          runs,
          latencyCount,
          bigRows,
          bigDue,
          libraryClaims,
          largeSize,
          extra,
          cleanupRows,
          cleanupExpired,
          cleanupWorkers,
        },
        results: { enqueue, drains: drainJson, extraDrains, latency, bigTable: big, cleanup: clean },
        table,
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'latest.md'), table + '\n');
  console.log(`results written to ${file} (${((Date.now() - started) / 60000).toFixed(1)} min)`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
