// The cleanup scenario (issue 13, item 6): a 1M-row table with 600k finished rows older than the retention period is
// cleaned by the sidecar's own maintenance passes while it drains new work; the claim is timed throughout, with and
// without cleanup running, in the same run.
import mysql from 'mysql2/promise';
import { DB, exited, eventually } from '../helpers/stack';
import { pairedShift, percentile, summarize, Summary, WindowPair } from './stats';
import { tableNames } from '../../src-worker/db/database';
import {
  connect,
  sidecar,
  collectOutput,
  resetQueue,
  groupId,
  seedDue,
  probeClaimer,
  completeClaim,
  Progress,
  NULL_SCHEDULE,
} from './scenarios';

export interface CleanupResult {
  rows: number;
  expired: number;
  /** PHP workers of the draining sidecar. */
  workers: number;
  pending: number;
  logs: number;
  seedSeconds: number;
  /** Rows the passes deleted, the time the passes were allowed to run until none was left, and their rate. */
  deleted: number;
  /** Expired rows still there when the run stopped at its time limit (0: it ran until none was left). */
  left: number;
  cleanSeconds: number;
  rowsPerSec: number;
  elapsedSeconds: number;
  /** The probe's claims of 100: during windows with the maintenance lock held by the bench (no cleanup) and without. */
  claimMs: { without: { p50: number; p99: number; n: number }; with: { p50: number; p99: number; n: number } };
  /** p99 with minus p99 without, and the same per pair of adjacent windows (without, then with). */
  p99DiffMs: number;
  windowP99DiffMs: Summary;
  /** 95 % interval of the p99 shift, from resampling pairs of adjacent windows (what one run can tell). */
  p99ShiftIntervalMs: { low: number; high: number };
  drainPerSec: { without: number; with: number };
  /** Due rows added while it ran (when fewer than 15 % of the first due rows were left), a quarter of those each time. */
  topUps: number;
  topUpRows: number;
  windows: number;
}

const DAY = 86400;
const WINDOW_MS = 15000;

/** Seeds the table: `expired` complete rows 40 days old (3 log rows each), the rest pending and due (1 log row each). */
async function seed(c: mysql.Connection, prefix: string, total: number, expired: number, progress: Progress) {
  await resetQueue(c, prefix);
  const gid = await groupId(c, prefix, 'bench');
  for (let start = 1; start <= expired; start += 200000) {
    const end = Math.min(expired, start + 199999);
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_actions (action_id, hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
       SELECT seq, CONCAT('bench_old_', seq % 50), 'complete', UTC_TIMESTAMP() - INTERVAL ${40 * DAY} + (seq % ${DAY}) SECOND, UTC_TIMESTAMP() - INTERVAL ${40 * DAY} SECOND, 10, CONCAT('[', seq, ']'), ?, ?, 1,
              UTC_TIMESTAMP() - INTERVAL ${40 * DAY} + (seq % ${DAY}) SECOND, UTC_TIMESTAMP() - INTERVAL ${40 * DAY} SECOND, 0 FROM seq_${start}_to_${end}`,
      [NULL_SCHEDULE, gid],
    );
    await c.query(
      `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
       SELECT s.seq, m.msg, UTC_TIMESTAMP() - INTERVAL ${40 * DAY} SECOND, UTC_TIMESTAMP() - INTERVAL ${40 * DAY} SECOND FROM seq_${start}_to_${end} s
       JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action started via Sidecar' UNION ALL SELECT 'action complete via Sidecar') m`,
    );
    progress(`cleanup: ${end} of ${expired} expired rows (+ ${end * 3} log rows)`);
  }
  await addPending(c, prefix, total - expired);
  await c.query(`ANALYZE TABLE ${prefix}actionscheduler_actions, ${prefix}actionscheduler_logs`);
}

/** `n` due no-op actions with their "action created" line (new work, as the site enqueues it). */
async function addPending(c: mysql.Connection, prefix: string, n: number) {
  const [[last]] = (await c.query<mysql.RowDataPacket[][]>(
    `SELECT COALESCE(MAX(action_id), 0) AS id FROM ${prefix}actionscheduler_actions`,
  )) as any;
  await seedDue(c, prefix, n, 'sidecar_test_noop');
  await c.query(
    `INSERT INTO ${prefix}actionscheduler_logs (action_id, message, log_date_gmt, log_date_local)
     SELECT action_id, 'action created', UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM ${prefix}actionscheduler_actions WHERE action_id > ?`,
    [Number(last.id)],
  );
}

/**
 * Windows of 15 s, alternating: the bench holds the site's maintenance lock (the sidecar's passes then skip: no
 * cleanup), then releases it (the sidecar's passes run back to back, each within its 10 s budget) and takes it back
 * (waiting for the pass in flight), until no expired row is left. A probe claims 100 due actions with the sidecar's
 * own claim code all along, about 8 times a second, and completes them, beside the sidecar's drain (2 php workers
 * unless told).
 * Alternating windows, rather than one phase of each, keeps a shared machine's load swings out of the comparison.
 */
export async function cleanup(
  prefix: string,
  total: number,
  expired: number,
  workers: number,
  progress: Progress,
  /** Stop after a window with cleanup once this long has passed (0: until every expired row is gone). */
  maxMs = 0,
): Promise<CleanupResult> {
  const c = await connect();
  const t0 = Date.now();
  await seed(c, prefix, total, expired, progress);
  const seedSeconds = (Date.now() - t0) / 1000;
  progress(
    `cleanup table ready: ${total} actions (${expired} expired, ${total - expired} due) in ${seedSeconds.toFixed(0)} s`,
  );
  const t = tableNames(prefix);
  const lockName = `${DB}.${prefix}sidecar_maintenance`.slice(0, 64);
  const lock = await connect();
  const take = async () => {
    const [[r]] = (await lock.query<mysql.RowDataPacket[][]>('SELECT GET_LOCK(?, 120) AS ok', [lockName])) as any;
    if (Number(r.ok) !== 1) throw new Error('cleanup: the maintenance lock was not given back in 120 s');
  };
  await take(); // before the sidecar starts: its first pass (at start) skips
  const { pool, claimer } = await probeClaimer(prefix);
  const child = sidecar(prefix, [`--workers=${workers}`, '--batch-size=100', '--channel=php', '--maintenance-ms=1000']);
  const out = collectOutput(child);
  const cutoff = new Date(Date.now() - 31 * DAY * 1000).toISOString().slice(0, 19).replace('T', ' ');
  // Expired rows left: a last attempt before the cut-off (the due rows' zero dates are not in the range).
  const left = async () =>
    Number(
      (
        (
          await c.query<mysql.RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM ${t.actions} WHERE last_attempt_gmt BETWEEN '1000-01-01' AND ?`,
            [cutoff],
          )
        )[0][0] as any
      ).n,
    );
  const pendingNow = async () =>
    Number(
      (
        (
          await c.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t.actions} WHERE status = 'pending'`)
        )[0][0] as any
      ).n,
    );
  const complete = async () =>
    Number(
      (
        (
          await c.query<mysql.RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM ${t.actions} WHERE status = 'complete' AND hook = 'sidecar_test_noop'`,
          )
        )[0][0] as any
      ).n,
    );
  const times = { without: [] as number[], with: [] as number[] };
  const pairs: WindowPair[] = []; // the claim times of each "without" window and the "with" window after it
  const drained = { without: { n: 0, ms: 0 }, with: { n: 0, ms: 0 } };
  let cleanMs = 0;
  let topUps = 0;
  let windows = 0;
  let probed = 0; // actions the probe claimed and completed (not the sidecar's drain)
  try {
    const p0 = await pendingNow();
    const topUp = Math.round((total - expired) / 4);
    const started = await eventually(pendingNow, (n) => n < p0, 120000, 200);
    if (started >= p0) throw new Error(`cleanup: the sidecar ran nothing in 120 s: ${out().slice(-1000)}`);
    const tStart = Date.now();
    let remaining = await left();
    let pairWithout: number[] = [];
    for (let w = 0; remaining > 0; w++) {
      const phase = w % 2 === 0 ? 'without' : 'with';
      // New work keeps coming: the drain must never run dry (a top-up is one INSERT … SELECT, in whichever window).
      if ((await pendingNow()) < 0.15 * (total - expired)) {
        await addPending(c, prefix, topUp);
        topUps++;
      }
      const before = (await complete()) - probed;
      const ws = Date.now();
      if (phase === 'with') await lock.query('SELECT RELEASE_LOCK(?)', [lockName]);
      const mine: number[] = [];
      const probe = async (until: number) => {
        while (Date.now() < until) {
          const s = process.hrtime.bigint();
          const claim = await claimer.claim(100);
          mine.push(Number(process.hrtime.bigint() - s) / 1e6);
          if (claim) {
            probed += claim.actions.length;
            await completeClaim(pool, t, claim);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await probe(ws + WINDOW_MS);
      if (phase === 'with') {
        // The pass in flight finishes (within its budget) before the lock comes back: that time is cleanup time too.
        const back = take();
        let settled = false;
        void back.finally(() => {
          settled = true;
        });
        while (!settled) await probe(Date.now() + 200);
        await back;
      }
      const ms = Date.now() - ws;
      if (phase === 'with') cleanMs += ms;
      drained[phase].n += (await complete()) - probed - before;
      drained[phase].ms += ms;
      times[phase].push(...mine);
      windows++;
      const p99 = percentile(mine, 0.99);
      if (phase === 'without') pairWithout = mine;
      else pairs.push({ without: pairWithout, with: mine });
      remaining = phase === 'with' ? await left() : remaining;
      const stop = phase === 'with' && maxMs > 0 && Date.now() - tStart >= maxMs;
      progress(
        `cleanup window ${w + 1} (${phase} cleanup, ${(ms / 1000).toFixed(1)} s): ${mine.length} claims, p50 ${percentile(mine, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; ${remaining} expired rows left`,
      );
      if (stop) break;
    }
    const elapsedSeconds = (Date.now() - tStart) / 1000;
    const deleted = expired - remaining;
    const stat = (v: number[]) => ({ p50: percentile(v, 0.5), p99: percentile(v, 0.99), n: v.length });
    const claimMs = { without: stat(times.without), with: stat(times.with) };
    const shift = pairedShift(pairs, 0.99);
    return {
      rows: total,
      expired,
      workers,
      pending: total - expired,
      logs: expired * 3 + (total - expired),
      seedSeconds,
      deleted,
      left: remaining,
      cleanSeconds: cleanMs / 1000,
      rowsPerSec: deleted / (cleanMs / 1000),
      elapsedSeconds,
      claimMs,
      p99DiffMs: claimMs.with.p99 - claimMs.without.p99,
      windowP99DiffMs: summarize(pairs.map((p) => percentile(p.with, 0.99) - percentile(p.without, 0.99))),
      p99ShiftIntervalMs: { low: shift.low, high: shift.high },
      drainPerSec: {
        without: (drained.without.n * 1000) / drained.without.ms,
        with: (drained.with.n * 1000) / drained.with.ms,
      },
      topUps,
      topUpRows: topUp,
      windows,
    };
  } finally {
    child.kill('SIGTERM');
    await exited(child, 60000);
    await pool.end();
    await lock.end();
    await c.end();
  }
}
