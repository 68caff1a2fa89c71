// The SKIP LOCKED claim (Claimer.claimSkipLocked) against real MariaDB: it never waits for rows another transaction
// holds, it never takes rows another claimer committed between its two round trips, it keeps the library's order,
// and it leaves no empty claims row behind.
import mysql from 'mysql2/promise';
import { installSite, php, rows, dropPrefix, poolWithQueryHook, SOCKET, DB } from '../helpers/stack';
import { Claimer } from '../../src-worker/claim/claimer';
import { SiteTime } from '../../src-worker/db/site-time';
import { tableNames } from '../../src-worker/db/database';

const PREFIX = 'tclsk_';
const t = tableNames(PREFIX);
let pool: mysql.Pool;
let other: mysql.Connection;
let ids: number[]; // the due actions, in the library's claim order

const newClaimer = async (p: mysql.Pool = pool) =>
  new Claimer(p, t, await SiteTime.load(pool, t.options), true, { groupIds: [], excludeGroupIds: [] });

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  pool = mysql.createPool({
    socketPath: SOCKET,
    user: 'root',
    database: DB,
    dateStrings: true,
    connectionLimit: 3,
    multipleStatements: true,
  });
  pool.pool.on('connection', (conn) => {
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  other = await mysql.createConnection({ socketPath: SOCKET, user: 'root', database: DB, dateStrings: true });
  await other.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
});

afterAll(async () => {
  await other.end();
  await pool.end();
});

beforeEach(async () => {
  await rows(`DELETE FROM ${t.actions}`);
  await rows(`DELETE FROM ${t.claims}`);
  // Ten due actions whose IDs run against the claim order: priority first, then scheduled date.
  php(
    PREFIX,
    `for ($i = 0; $i < 10; $i++) { as_schedule_single_action(time() - 60 + $i, 'sidecar_test_noop', array($i), 'skiplock', false, 10 + (9 - $i) % 3); }`,
  );
  ids = (
    await rows(
      `SELECT action_id FROM ${t.actions} WHERE status = 'pending' ORDER BY priority, attempts, scheduled_date_gmt, action_id`,
    )
  ).map((r) => Number(r.action_id));
  expect(ids).toHaveLength(10);
});

afterEach(async () => {
  await other.query('ROLLBACK');
});

const claimRows = async () => Number((await rows(`SELECT COUNT(*) AS n FROM ${t.claims}`))[0].n);

/** Another transaction holds the first `n` rows of the claim order (by primary key: on 10 rows the optimiser would pick an index scan and lock them all). */
const holdFirst = async (n: number) => {
  await other.query('START TRANSACTION');
  await other.query(
    `SELECT action_id FROM ${t.actions} FORCE INDEX (PRIMARY) WHERE action_id IN (${ids.slice(0, n).join(',')}) FOR UPDATE`,
  );
};

/** A claim of `limit` while rows are held: it must come back at once (a wait would last innodb_lock_wait_timeout, 50 s). */
const claimWithoutWaiting = async (limit: number) => {
  const started = Date.now();
  const claim = await (await newClaimer()).claim(limit);
  expect(Date.now() - started).toBeLessThan(3000);
  return claim;
};

test('claims in the library order: priority, attempts, scheduled date, ID', async () => {
  const claim = await (await newClaimer()).claim(10);
  expect(claim?.actions.map((a) => a.id)).toEqual(ids);
  const stamped = await rows(
    `SELECT DISTINCT claim_id, last_attempt_gmt <> '0000-00-00 00:00:00' AS stamped FROM ${t.actions}`,
  );
  expect(stamped.map((r) => [Number(r.claim_id), Number(r.stamped)])).toEqual([[claim!.claimId, 1]]);
});

test('skips rows another transaction holds, without waiting for them', async () => {
  await holdFirst(3);
  const claim = await claimWithoutWaiting(5);
  expect(claim?.actions.map((a) => a.id)).toEqual(ids.slice(3, 5)); // the rest of the five it saw: a smaller claim, at once
  expect(await claimRows()).toBe(1);
});

test('on a table of thousands of rows it still skips held rows without waiting for them', async () => {
  // With thousands of rows the stamp's primary-key IN list is read by unique lookups, where InnoDB does not use
  // semi-consistent reads: an UPDATE over the picked list with a guard waited for the held rows (and two claimers that
  // picked the same rows deadlocked). On ten rows the optimiser scans instead, which hid it from the test above.
  await rows(
    `INSERT INTO ${t.actions} (hook, status, scheduled_date_gmt, scheduled_date_local, args, schedule, group_id, attempts, last_attempt_gmt, last_attempt_local, claim_id, priority)
     SELECT 'sidecar_test_noop', 'complete', UTC_TIMESTAMP(), UTC_TIMESTAMP(), CONCAT('[', seq, ']'), 'O:28:"ActionScheduler_NullSchedule":0:{}', 0, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, 10 FROM seq_1_to_5000`,
  );
  await rows(`ANALYZE TABLE ${t.actions}`);
  await holdFirst(3);
  const claim = await claimWithoutWaiting(5);
  expect(claim?.actions.map((a) => a.id)).toEqual(ids.slice(3, 5));
  const stamped = await rows(`SELECT action_id FROM ${t.actions} WHERE claim_id = ? ORDER BY action_id`, [
    claim!.claimId,
  ]);
  expect(stamped.map((r) => Number(r.action_id))).toEqual([...ids.slice(3, 5)].sort((a, b) => a - b));
  expect(await claimRows()).toBe(1);
}, 60000);

test('when every row it saw is taken, it claims the next ones and leaves no empty claims row', async () => {
  await holdFirst(4);
  const claim = await (await newClaimer()).claim(4); // its plain read sees exactly the four held rows
  expect(claim?.actions.map((a) => a.id)).toEqual(ids.slice(4, 8));
  expect(await claimRows()).toBe(1);
  expect(Number((await rows(`SELECT claim_id FROM ${t.claims}`))[0].claim_id)).toBe(claim!.claimId);
});

test('rows another claimer committed between its two round trips are not claimed twice', async () => {
  // Between the plain read and the locking read, another sidecar claims (and commits) the first three rows.
  let intercepted = false;
  const racing = poolWithQueryHook(pool, async (sql) => {
    if (intercepted || !/START TRANSACTION/.test(sql)) return;
    intercepted = true;
    await other.query(`INSERT INTO ${t.claims} (date_created_gmt) VALUES (UTC_TIMESTAMP())`);
    await other.query(
      `UPDATE ${t.actions} SET claim_id = LAST_INSERT_ID() WHERE action_id IN (${ids.slice(0, 3).join(',')})`,
    );
  });
  const claim = await (await newClaimer(racing)).claim(5);
  expect(intercepted).toBe(true);
  expect(claim?.actions.map((a) => a.id)).toEqual(ids.slice(3, 5)); // what was left of the five it saw
  const byClaim = await rows(
    `SELECT claim_id, COUNT(*) AS n FROM ${t.actions} WHERE claim_id <> 0 GROUP BY claim_id ORDER BY claim_id`,
  );
  expect(byClaim.map((r) => [Number(r.claim_id) === claim!.claimId, Number(r.n)])).toEqual([
    [true, 2],
    [false, 3],
  ]); // ours was opened first
});

test('nothing due: no claim, and no claims row', async () => {
  await rows(`UPDATE ${t.actions} SET scheduled_date_gmt = UTC_TIMESTAMP() + INTERVAL 1 HOUR`);
  expect(await (await newClaimer()).claim(5)).toBeNull();
  expect(await claimRows()).toBe(0);
});

test('refuses a pool that cannot send several statements at once', async () => {
  const single = mysql.createPool({ socketPath: SOCKET, user: 'root', database: DB, connectionLimit: 1 });
  try {
    await expect(newClaimer(single)).rejects.toThrow(/multipleStatements/);
  } finally {
    await single.end();
  }
});
