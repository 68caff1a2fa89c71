// The sidecar's maintenance pass (the worker's "clean" request) at scale: 20,000 expired rows with their logs go in one
// or a few passes (the library's cleaner takes 20 per status per minute: ~17 h), 200 stuck in-progress rows are failed
// and 150 stale claims reset in one pass, with the library's filters, hooks and log lines; a pass whose connection is
// lost between locking a chunk and writing it changes no row that changed meanwhile.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installSite,
  php,
  rows,
  dropPrefix,
  DOCROOT,
  ROOT,
  startSidecar,
  exited,
  eventually,
  laneWorkerPids,
} from '../helpers/stack';

// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const PREFIX = `h2m${process.pid % 1000}_`;
const A = `${PREFIX}actionscheduler_actions`;
const L = `${PREFIX}actionscheduler_logs`;
const dir = mkdtempSync(join(tmpdir(), 'tf-maint-'));

/** One "clean" request to a real worker process (the php channel's), as the sidecar sends it; returns its answer. */
function clean(
  env: Record<string, string> = {},
  phpArgs: string[] = [],
): { deleted: number; reset: number; failed: number; more: boolean; rested_ms: number; chunk: number } {
  const r = spawnSync('php', [...phpArgs, join(ROOT, 'plugin/bin/worker.php'), `--path=${DOCROOT}`], {
    input: '{"op":"clean"}\n',
    env: { ...process.env, WP_TABLE_PREFIX: PREFIX, ...env },
    encoding: 'utf8',
    timeout: 120000,
  });
  const answer = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((m) => m.op === 'cleaned');
  if (!answer) throw new Error(`no answer: ${r.stdout} ${r.stderr}`);
  return answer;
}

/** `count` rows cloned from one real row, each with three log lines, by SQL (20,000 PHP calls would take minutes). */
async function addRows(count: number, status: string, lastAttempt: string, claimed = false, seqFrom = 1) {
  const [{ id }] = await rows(`SELECT MIN(action_id) AS id FROM ${A} WHERE hook = 'tf_template'`);
  await rows(
    `INSERT INTO ${A} (hook, status, scheduled_date_gmt, scheduled_date_local, priority, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id)
    SELECT CONCAT('tf_', ?), ?, scheduled_date_gmt, scheduled_date_local, priority, CONCAT('[', seq, ']'), schedule, group_id, 1, ?, ?, ? FROM ${A}, seq_${seqFrom}_to_${seqFrom + count - 1} WHERE action_id = ?`,
    [status.replace('-', '_'), status, lastAttempt, lastAttempt, claimed ? 424242 : 0, id],
  );
  await rows(
    `INSERT INTO ${L} (action_id, message, log_date_gmt, log_date_local) SELECT action_id, m.msg, ?, ? FROM ${A} JOIN (SELECT 'action created' AS msg UNION ALL SELECT 'action started via Sidecar' UNION ALL SELECT 'action complete via Sidecar') m WHERE hook = CONCAT('tf_', ?) AND last_attempt_gmt = ?`,
    [lastAttempt, lastAttempt, status.replace('-', '_'), lastAttempt],
  );
}
const count = async (where: string) => Number((await rows(`SELECT COUNT(*) AS n FROM ${A} WHERE ${where}`))[0].n);
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().slice(0, 19).replace('T', ' ');

afterAll(async () => {
  await dropPrefix(PREFIX);
});

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  php(PREFIX, `as_schedule_single_action(time() + 86400, 'tf_template', array(), 'maint');`);
});

test('20,000 expired rows and their logs in one or a few passes; newer, failed and pending rows stay; a hook per deleted action', async () => {
  const old = ago(40 * 86400);
  await addRows(20000, 'complete', old);
  await addRows(500, 'canceled', ago(35 * 86400));
  await addRows(300, 'complete', ago(20 * 86400), false, 100000); // inside the retention period
  await addRows(200, 'failed', old, false, 200000); // not a status the cleaner deletes by default
  const hookLog = join(dir, 'hooks-1.txt');
  const before = await rows(
    `SELECT action_id FROM ${A} WHERE hook IN ('tf_complete', 'tf_canceled') AND last_attempt_gmt < ?`,
    [ago(31 * 86400)],
  );
  let passes = 0;
  let answer;
  do {
    answer = clean({ SIDECAR_TEST_HOOK_LOG: hookLog });
    passes++;
  } while (answer.more && passes < 10);
  expect(passes).toBeLessThanOrEqual(5); // the library's cleaner: 20,500 / (20 per status per minute) ≈ 17 hours of passes
  expect(await count(`hook IN ('tf_complete', 'tf_canceled') AND last_attempt_gmt < '${ago(31 * 86400)}'`)).toBe(0);
  expect(await count(`hook = 'tf_complete'`)).toBe(300);
  expect(await count(`hook = 'tf_failed'`)).toBe(200);
  expect(await count(`hook = 'tf_template'`)).toBe(1);
  // Their logs went with them (set-based), the others' stayed.
  expect(
    Number(
      (await rows(`SELECT COUNT(*) AS n FROM ${L} l LEFT JOIN ${A} a USING (action_id) WHERE a.action_id IS NULL`))[0]
        .n,
    ),
  ).toBe(0);
  expect(
    Number(
      (
        await rows(
          `SELECT COUNT(*) AS n FROM ${L} l JOIN ${A} a USING (action_id) WHERE a.hook IN ('tf_complete', 'tf_failed')`,
        )
      )[0].n,
    ),
  ).toBe(1500);
  // action_scheduler_deleted_action once per deleted action, as the library's cleaner fires it.
  const fired = readFileSync(hookLog, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('action_scheduler_deleted_action '))
    .map((l) => Number(l.split(' ')[1]));
  expect(fired.length).toBe(20500);
  expect(new Set(fired)).toEqual(new Set(before.map((r: any) => Number(r.action_id))));
}, 300000);

test("the library's retention and status filters keep their meaning", async () => {
  await addRows(100, 'failed', ago(3 * 86400), false, 300000);
  // Retention of 2 days and failed rows as a cleaner status: the 200 old failed rows and these 100 go, the 300
  // complete rows of 20 days go too (older than 2 days); the template (pending) stays.
  const answer = clean({ SIDECAR_TEST_RETENTION: String(2 * 86400), SIDECAR_TEST_CLEANER_STATUSES: 'failed,complete' });
  expect(answer.deleted).toBe(600);
  expect(await count(`hook LIKE 'tf\\_%' AND hook <> 'tf_template'`)).toBe(0);
});

test("200 actions stuck in progress are failed, and 150 stale claims reset, in one pass, with the library's log lines", async () => {
  await addRows(200, 'in-progress', ago(600), false, 400000);
  await addRows(150, 'pending', ago(600), true, 500000); // claimed 10 minutes ago by a runner that died
  await addRows(50, 'pending', ago(10), true, 600000); // claimed just now: not stale
  const hookLog = join(dir, 'hooks-3.txt');
  const answer = clean({ SIDECAR_TEST_HOOK_LOG: hookLog });
  expect({ failed: answer.failed, reset: answer.reset, more: answer.more }).toEqual({
    failed: 200,
    reset: 150,
    more: false,
  });
  expect(await count(`hook = 'tf_in_progress' AND status = 'failed'`)).toBe(200);
  expect(await count(`hook = 'tf_pending' AND claim_id = 0`)).toBe(150);
  expect(await count(`hook = 'tf_pending' AND claim_id = 424242`)).toBe(50);
  const [failedLines] = await rows(
    `SELECT COUNT(*) AS n FROM ${L} l JOIN ${A} a USING (action_id) WHERE a.hook = 'tf_in_progress' AND l.message = 'action marked as failed after 300 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.'`,
  );
  expect(Number(failedLines.n)).toBe(200);
  const [resetLines] = await rows(
    `SELECT COUNT(*) AS n FROM ${L} l JOIN ${A} a USING (action_id) WHERE a.hook = 'tf_pending' AND l.message = 'action reset'`,
  );
  expect(Number(resetLines.n)).toBe(150);
  const hooks = existsSync(hookLog) ? readFileSync(hookLog, 'utf8').split('\n').filter(Boolean) : [];
  expect(hooks.filter((h) => h.startsWith('action_scheduler_failed_action ')).length).toBe(200);
  expect(hooks.filter((h) => h.startsWith('action_scheduler_reset_action ')).length).toBe(150);
}, 120000);

test('the pass rests after each full chunk as long as the chunk took (rest ratio 1 by default), and not at all with ratio 0', async () => {
  const old = ago(40 * 86400);
  // 3,000 rows: six full chunks of 500 (and a seventh, empty, that ends the step), each full one followed by a rest.
  await addRows(3000, 'complete', old, false, 700000);
  const t0 = Date.now();
  const paced = clean();
  const wall = Date.now() - t0;
  expect(paced.deleted).toBe(3000);
  expect(paced.more).toBe(false);
  expect(paced.chunk).toBe(500);
  expect(paced.rested_ms).toBeGreaterThan(0);
  // It rests as long as its chunks took: at most half of the pass (which includes booting WordPress).
  expect(paced.rested_ms).toBeLessThan(wall / 2);
  await addRows(3000, 'complete', old, false, 710000);
  const unpaced = clean({ SIDECAR_TEST_REST_RATIO: '0' });
  expect(unpaced.deleted).toBe(3000);
  expect(unpaced.rested_ms).toBe(0);
  expect(await count(`hook = 'tf_complete' AND last_attempt_gmt = '${old}'`)).toBe(0);
}, 120000);

test('while actions are due and waiting (the sidecar drains), the pass rests thirty times as long as its chunks took', async () => {
  const old = ago(40 * 86400);
  // Two full chunks (then an empty one): at 30 times their time the rests fit the pass's budget on a slow machine.
  await addRows(1000, 'complete', old, false, 720000);
  const due = Number(php(PREFIX, `echo as_enqueue_async_action('tf_due_waiting', array(), 'maint');`).trim());
  try {
    const t0 = Date.now();
    const busy = clean();
    const wall = Date.now() - t0;
    expect(busy.deleted).toBe(1000);
    expect(busy.more).toBe(false);
    expect(busy.chunk).toBe(500);
    // Thirty times the chunks' time: most of the whole pass, WordPress's boot included (at the idle ratio of 1 the
    // rests are less than half of it, at the old busy ratio of 6 about 45 %).
    expect(busy.rested_ms).toBeGreaterThan(wall * 0.6);
    // The library's cleanup batch size sets the smallest chunk: above 500 it is the chunk.
    await addRows(1000, 'complete', old, false, 740000);
    const raised = clean({ SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({ action_scheduler_cleanup_batch_size: 800 }) });
    expect({ deleted: raised.deleted, chunk: raised.chunk }).toEqual({ deleted: 1000, chunk: 800 });
  } finally {
    await rows(`DELETE FROM ${A} WHERE action_id = ?`, [due]);
  }
}, 120000);

/**
 * Loaded before WordPress in the worker (php -d auto_prepend_file): the first query that contains
 * SIDECAR_TEST_INTERLEAVE_MATCH is held while a second connection kills the worker's connection (as a server restart
 * or a network cut would) and runs SIDECAR_TEST_INTERLEAVE_SQL (another process changing a row meanwhile); then the
 * query goes on, wpdb finds the server gone, reconnects by itself and sends it again on the fresh connection. The
 * held query is written to SIDECAR_TEST_INTERLEAVE_SEEN, so the test knows the interleaving happened, and where.
 */
const interleave = join(dir, 'interleave.php');
writeFileSync(
  interleave,
  `<?php
$GLOBALS['wp_filter']['query'][10][] = array(
	'accepted_args' => 1,
	'function'      => function ( $query ) {
		static $done = false;
		if ( $done || false === strpos( $query, (string) getenv( 'SIDECAR_TEST_INTERLEAVE_MATCH' ) ) ) {
			return $query;
		}
		$done  = true;
		$other = new wpdb( DB_USER, DB_PASSWORD, DB_NAME, DB_HOST );
		$other->query( 'KILL CONNECTION ' . mysqli_thread_id( $GLOBALS['wpdb']->dbh ) );
		$other->query( str_replace( '{actions}', $GLOBALS['wpdb']->actionscheduler_actions, getenv( 'SIDECAR_TEST_INTERLEAVE_SQL' ) ) );
		file_put_contents( getenv( 'SIDECAR_TEST_INTERLEAVE_SEEN' ), $query . "\\n" . $other->rows_affected );
		$other->close();
		return $query;
	},
);
`,
);

/** A pass whose connection is killed at the first statement matching `match`, while `sql` changes a row meanwhile. */
function cleanInterleaved(match: string, sql: string, hookLog: string) {
  const seen = join(dir, `seen-${Date.now()}.txt`);
  const answer = clean(
    {
      SIDECAR_TEST_HOOK_LOG: hookLog,
      SIDECAR_TEST_INTERLEAVE_MATCH: match,
      SIDECAR_TEST_INTERLEAVE_SQL: sql,
      SIDECAR_TEST_INTERLEAVE_SEEN: seen,
    },
    ['-d', `auto_prepend_file=${interleave}`],
  );
  const [query, changed] = readFileSync(seen, 'utf8').split('\n');
  return { answer, query, changed: Number(changed) };
}
const hooksIn = (file: string, hook: string) =>
  (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [])
    .filter((l) => l.startsWith(`${hook} `))
    .map((l) => Number(l.split(' ')[1]));
const idsOf = async (seqFrom: number, n: number) =>
  (
    await rows(`SELECT action_id FROM ${A} WHERE args IN (?) ORDER BY action_id`, [
      Array.from({ length: n }, (_, i) => `[${seqFrom + i}]`),
    ])
  ).map((r: any) => Number(r.action_id));

test("an action that completes while the pass's connection is lost between locking and failing it stays complete, with no failed hook", async () => {
  await addRows(3, 'in-progress', ago(600), false, 700000);
  const ids = await idsOf(700000, 3);
  const hookLog = join(dir, 'hooks-5.txt');
  // The worker that ran ids[1] (it was only slow) completes it the moment the pass's locks are gone.
  const { answer, query, changed } = cleanInterleaved(
    "SET status = 'failed' WHERE action_id IN",
    `UPDATE {actions} SET status = 'complete', last_attempt_gmt = UTC_TIMESTAMP() WHERE action_id = ${ids[1]}`,
    hookLog,
  );
  expect(query).toContain(String(ids[1])); // the statement held was the one failing it
  expect(changed).toBe(1);
  // Nothing was failed by the write resent on the fresh connection (it had lost the locks); the next pass does it.
  expect(answer.failed).toBe(0);
  expect(
    (await rows(`SELECT action_id, status FROM ${A} WHERE action_id IN (?) ORDER BY action_id`, [ids])).map(
      (r: any) => r.status,
    ),
  ).toEqual(['in-progress', 'complete', 'in-progress']);
  expect(clean({ SIDECAR_TEST_HOOK_LOG: hookLog }).failed).toBe(2);
  expect(
    (await rows(`SELECT status FROM ${A} WHERE action_id IN (?) ORDER BY action_id`, [ids])).map((r: any) => r.status),
  ).toEqual(['failed', 'complete', 'failed']);
  expect(hooksIn(hookLog, 'action_scheduler_failed_action').sort((a, b) => a - b)).toEqual([ids[0], ids[2]]);
  const [lines] = await rows(
    `SELECT COUNT(*) AS n FROM ${L} WHERE action_id = ? AND message LIKE 'action marked as failed%'`,
    [ids[1]],
  );
  expect(Number(lines.n)).toBe(0);
}, 120000);

test("a stale claim taken anew while the pass's connection is lost between locking and resetting it keeps its new claim", async () => {
  await addRows(3, 'pending', ago(600), true, 800000);
  const ids = await idsOf(800000, 3);
  const hookLog = join(dir, 'hooks-6.txt');
  // A claimer takes ids[2] (a claim sets the claim ID and the last attempt) the moment the pass's locks are gone.
  const { answer, query, changed } = cleanInterleaved(
    'SET claim_id = 0 WHERE action_id IN',
    `UPDATE {actions} SET claim_id = 515151, last_attempt_gmt = UTC_TIMESTAMP() WHERE action_id = ${ids[2]}`,
    hookLog,
  );
  expect(query).toContain(String(ids[2]));
  expect(changed).toBe(1);
  expect(answer.reset).toBe(0);
  expect(clean({ SIDECAR_TEST_HOOK_LOG: hookLog }).reset).toBe(2);
  expect(
    (await rows(`SELECT claim_id FROM ${A} WHERE action_id IN (?) ORDER BY action_id`, [ids])).map((r: any) =>
      Number(r.claim_id),
    ),
  ).toEqual([0, 0, 515151]);
  expect(hooksIn(hookLog, 'action_scheduler_reset_action').sort((a, b) => a - b)).toEqual([ids[0], ids[1]]);
}, 120000);

test("a slow maintenance pass runs on a worker of its own: it never counts against an action's time limit, nor holds the lane", async () => {
  // One lane, a pass of 8 s (its budget filter sleeps) and an action limit of 2 s. On the lane's worker the pass
  // held the action back until it was over; on a worker of its own the action runs while the pass is in flight.
  const s = startSidecar(PREFIX, ['--workers=1', '--action-timeout=2', '--log-level=debug'], {
    SIDECAR_TEST_SLOW_CLEAN: '8',
  });
  try {
    const started = await eventually(
      async () => /maintenance pass started/.test(s.output.join('')),
      (v) => v,
      60000,
      100,
    );
    expect(started).toBe(true);
    const line = s.output
      .join('')
      .split('\n')
      .find((l) => l.includes('maintenance pass started'))!;
    const passPid = JSON.parse(line).pid as number;
    // It names itself for `ps`, and is not one of the lane's workers.
    expect(spawnSync('ps', ['-o', 'args=', '-p', String(passPid)], { encoding: 'utf8' }).stdout).toMatch(
      /--role=maintenance/,
    );
    expect(laneWorkerPids(s.pid!)).toHaveLength(1);
    expect(laneWorkerPids(s.pid!)).not.toContain(passPid);
    const id = Number(
      php(PREFIX, `echo as_enqueue_async_action('sidecar_test_noop', array('slow-clean'), 'maint');`).trim(),
    );
    // Its outcome, not the moment it is in progress (a poll can land while it runs: seen in CI).
    const status = await eventually(
      async () => (await rows(`SELECT status FROM ${A} WHERE action_id = ?`, [id]))[0].status,
      (v) => v !== 'pending' && v !== 'in-progress',
      60000,
      100,
    );
    expect(status).toBe('complete');
    // Complete while the pass's worker is still asleep in it: the lane did not wait.
    expect(s.output.join('')).not.toMatch(/maintenance pass done/);
    expect(() => process.kill(passPid, 0)).not.toThrow();
    await eventually(
      async () => /maintenance pass done/.test(s.output.join('')),
      (v) => v,
      60000,
      100,
    );
    // The pass's worker is stopped after its pass.
    await eventually(
      async () => {
        try {
          process.kill(passPid, 0);
          return false;
        } catch {
          return true;
        }
      },
      (gone) => gone,
      10000,
      100,
    );
    const [row] = await rows(`SELECT attempts FROM ${A} WHERE action_id = ?`, [id]);
    expect(row.attempts).toBe(1);
    expect(s.output.join('')).not.toMatch(/did not finish/);
  } finally {
    s.kill('SIGTERM');
    await exited(s, 60000);
  }
}, 120000);

test('on a backlog the passes follow each other on one kept worker, which is stopped once the backlog is gone', async () => {
  await addRows(6000, 'complete', ago(40 * 86400), false, 730000);
  // A budget of 0.2 s: a few chunks a pass, so the backlog takes several passes, 2 s apart.
  const s = startSidecar(PREFIX, ['--workers=1', '--log-level=debug'], { SIDECAR_TEST_MAINTENANCE_SECONDS: '0.2' });
  try {
    await eventually(
      () => count(`hook = 'tf_complete' AND last_attempt_gmt < '${ago(31 * 86400)}'`),
      (n) => n === 0,
      120000,
      200,
    );
    await eventually(
      async () =>
        s.output
          .join('')
          .split('\n')
          .filter((l) => l.includes('maintenance pass done')).length,
      (n) => n >= 2,
      30000,
      100,
    );
    const pids = s.output
      .join('')
      .split('\n')
      .filter((l) => l.includes('maintenance pass started'))
      .map((l) => JSON.parse(l).pid as number);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    // One worker for the whole backlog (each pass but the last said there was more).
    expect(new Set(pids).size).toBe(1);
    // The last pass found nothing more: its worker was stopped.
    let gone = false;
    await eventually(
      async () => {
        try {
          process.kill(pids[0], 0);
          return false;
        } catch {
          return true;
        }
      },
      (v) => v,
      15000,
      100,
    ).then((v) => (gone = v));
    expect(gone).toBe(true);
  } finally {
    s.kill('SIGTERM');
    await exited(s, 60000);
  }
}, 180000);

test('SIGTERM during a maintenance pass: the sidecar exits within its shutdown timeout and stops the pass worker', async () => {
  const s = startSidecar(PREFIX, ['--workers=1', '--log-level=debug', '--shutdown-timeout-ms=3000'], {
    SIDECAR_TEST_SLOW_CLEAN: '30',
  });
  let passPid = 0;
  try {
    await eventually(
      async () => /maintenance pass started/.test(s.output.join('')),
      (v) => v,
      60000,
      100,
    );
    const line = s.output
      .join('')
      .split('\n')
      .find((l) => l.includes('maintenance pass started'))!;
    passPid = JSON.parse(line).pid as number;
  } finally {
    const t0 = Date.now();
    s.kill('SIGTERM');
    expect(await exited(s, 60000)).toBe(0);
    // 3 s for the pass to finish, then the worker's own stop (stdin closed, SIGKILL after 5 s): well inside 35 s.
    expect(Date.now() - t0).toBeLessThan(12000);
  }
  expect(passPid).toBeGreaterThan(0);
  let gone = false;
  try {
    process.kill(passPid, 0);
  } catch {
    gone = true;
  }
  expect(gone).toBe(true);
}, 120000);
