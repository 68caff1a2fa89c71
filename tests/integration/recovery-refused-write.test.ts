// After a worker died, its replacement fails the action that was running and settles the ones it reported. When the
// database refuses those writes, the reply says so and the sidecar's ProcessExecutor throws, so CrashRecovery sends
// them again on a fresh worker (before, the reply read "not changed" and the sidecar counted them as written: the row
// stayed in progress for the cleaner to fail after the failure period). A trigger stands in for the refusal (a
// deadlock, a lock wait timeout, a read-only replica after a failover). The real PHP worker, the real MariaDB.
import { installSite, php, rows, dropPrefix } from '../helpers/stack';
import { phpWorker } from '../helpers/php-worker';

const PREFIX = `h1r_${process.pid % 1000}_`;
const TRIGGER = `${PREFIX}refuse_outcomes`;
const CLAIM = 77;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});
afterAll(async () => {
  await rows(`DROP TRIGGER IF EXISTS ${TRIGGER}`);
  await dropPrefix(PREFIX);
});

const refuse = () =>
  rows(
    `CREATE TRIGGER ${TRIGGER} BEFORE UPDATE ON ${PREFIX}actionscheduler_actions FOR EACH ROW
     BEGIN IF NEW.status IN ('failed', 'complete') THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`,
  );

test('a refused fail or settle is an error the sidecar retries, not "nothing to change"; once allowed, each is written once', async () => {
  // Two actions in progress under a dead worker's claim: one was running (to fail), one it reported complete.
  const ids = JSON.parse(
    php(
      PREFIX,
      `echo json_encode(array(as_enqueue_async_action('sidecar_test_noop', array(1)), as_enqueue_async_action('sidecar_test_noop', array(2))));`,
    ).trim(),
  ) as number[];
  await rows(
    `UPDATE ${PREFIX}actionscheduler_actions SET status = 'in-progress', claim_id = ?, attempts = 1 WHERE action_id IN (?)`,
    [CLAIM, ids],
  );
  const executor = phpWorker(PREFIX, 'h1r');
  const fail = { id: ids[0], claim: CLAIM, reason: 'timeout' as const, seconds: 60 };
  const gmt = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const settle = {
    claim: CLAIM,
    finalise: [{ id: ids[1], status: 'complete' as const, ms: 3, at: [gmt, gmt] as [string, string] }],
  };
  const state = async () =>
    (
      await rows(`SELECT status FROM ${PREFIX}actionscheduler_actions WHERE action_id IN (?) ORDER BY action_id`, [ids])
    ).map((r) => r.status);
  const logs = async (id: number) =>
    (await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id])).map(
      (r) => r.message,
    );
  await executor.start();
  try {
    await refuse();
    await expect(executor.fail(fail)).rejects.toThrow(`could not fail action ${ids[0]}: refused by the test`);
    await expect(executor.settle(settle)).rejects.toThrow(/could not settle: 1 writes failed: refused by the test/);
    expect(await state()).toEqual(['in-progress', 'in-progress']);
    // No log line for a write that did not happen.
    expect((await logs(ids[0])).filter((m) => /failed/.test(m))).toEqual([]);
    expect((await logs(ids[1])).filter((m) => /complete/.test(m))).toEqual([]);

    await rows(`DROP TRIGGER ${TRIGGER}`);
    await executor.fail(fail);
    await executor.settle(settle);
    expect(await state()).toEqual(['failed', 'complete']);
    // Sent once more (a retry after a reply that was lost): nothing changes, and no error.
    await executor.fail(fail);
    await executor.settle(settle);
    expect(await state()).toEqual(['failed', 'complete']);
    expect((await logs(ids[0])).filter((m) => /failed/.test(m))).toEqual([
      'action marked as failed after 60 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.',
    ]);
    expect((await logs(ids[1])).filter((m) => /complete/.test(m))).toEqual(['action complete via Sidecar']);
  } finally {
    await executor.stop();
  }
});
