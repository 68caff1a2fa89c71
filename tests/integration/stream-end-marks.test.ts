// A stream that ends early (a "stop" after its first action) reports its start window's marks, as a stream that
// ends with the worker's death does: the lane sees which actions were marked, and the worker has put back those it
// did not run (issue 13). The real PHP worker through the sidecar's ProcessExecutor.
import { join } from 'node:path';
import pino from 'pino';
import { ProcessExecutor } from '../../src-worker/execute/process-executor';
import type { RunResult, StreamEnd } from '../../src-worker/execute/executor';
import { installSite, php, rows, db, dropPrefix, DOCROOT, ROOT } from '../helpers/stack';

const PREFIX = `h1m_${process.pid % 1000}_`;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});
afterAll(async () => {
  await rows(`DROP TRIGGER IF EXISTS ${PREFIX}refuse_unmark`);
  await dropPrefix(PREFIX);
});

/**
 * One sleep action (1 s) and five no-ops, claimed; a stream of them on a real worker, stopped while the first runs
 * (the worker finishes it and starts nothing more). `onFirstDone` runs when the first action's result comes.
 */
async function stoppedStream(args: number, onFirstDone: () => void = () => undefined) {
  const [ids, claim] = JSON.parse(
    php(
      PREFIX,
      `$ids = array(as_enqueue_async_action('sidecar_test_sleep', array(1))); for ($i = 0; $i < 5; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array(${args} + $i)); } $c = ActionScheduler::store()->stake_claim(10); echo json_encode(array($ids, (int) $c->get_id()));`,
    ).trim(),
  ) as [number[], number];
  const executor = new ProcessExecutor(
    {
      command: 'php',
      args: [join(ROOT, 'plugin/bin/worker.php'), `--path=${DOCROOT}`],
      env: { ...process.env, WP_TABLE_PREFIX: PREFIX },
      label: 'h1m',
    },
    pino({ level: 'silent' }),
    () => 60,
  );
  await executor.start();
  try {
    const done: RunResult[] = [];
    const ending: Promise<StreamEnd> = executor.runStream(
      ids,
      claim,
      Date.now(),
      { max: 0, maxMemBytes: 0, window: 25 },
      (r) => {
        done.push(r);
        onFirstDone();
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    executor.requestStop();
    const end = await ending;
    const states = await rows(
      `SELECT action_id, status, attempts FROM ${PREFIX}actionscheduler_actions WHERE action_id IN (?) ORDER BY action_id`,
      [ids],
    );
    return {
      ids,
      end,
      done: done.map((r) => `${r.id - ids[0]} ${r.status}`),
      states: states.map((a) => `${a.action_id - ids[0]} ${a.status} ${a.attempts}`),
    };
  } finally {
    await executor.stop();
  }
}

/** The first action ran; the other five, marked by the window, are pending again with no attempt. */
const ONLY_FIRST_RAN = ['0 complete 1', '1 pending 0', '2 pending 0', '3 pending 0', '4 pending 0', '5 pending 0'];

test('a stopped stream reports its window marks, and the unrun ones are pending again', async () => {
  const { ids, end, done, states } = await stoppedStream(0);
  expect(end.reason).toBe('stopped');
  expect(done).toEqual(['0 complete']);
  expect(end.notStarted).toEqual(ids.slice(1));
  expect(end.marks?.ids).toEqual(ids);
  expect(states).toEqual(ONLY_FIRST_RAN);
});

test('marks the database refuses to undo for a moment (a deadlock, a lock wait) are undone by a retry, not left to the cleaner', async () => {
  // While the test's connection holds this lock, putting a started row back to pending is refused (a lock is not
  // transactional: the worker's retries see it go at once).
  const lockName = `${PREFIX}refuse_unmark`;
  await rows(
    `CREATE TRIGGER ${PREFIX}refuse_unmark BEFORE UPDATE ON ${PREFIX}actionscheduler_actions FOR EACH ROW
     BEGIN IF OLD.status = 'in-progress' AND NEW.status = 'pending' AND IS_USED_LOCK('${lockName}') IS NOT NULL THEN
     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`,
  );
  const holder = await db();
  try {
    await holder.query('SELECT GET_LOCK(?, 0)', [lockName]);
    // The worker undoes the other marks right after the first action: refused until the lock goes, 0.3 s later.
    const { end, done, states } = await stoppedStream(100, () => {
      setTimeout(() => void holder.query('SELECT RELEASE_LOCK(?)', [lockName]), 300);
    });
    expect(end.reason).toBe('stopped');
    expect(done).toEqual(['0 complete']);
    expect(states).toEqual(ONLY_FIRST_RAN);
  } finally {
    await holder.end();
  }
});
