// A stream that ends early (a "stop" after its first action) reports its start window's marks, as a stream that
// ends with the worker's death does: the lane sees which actions were marked, and the worker has put back those it
// did not run (issue 13). The real PHP worker through the sidecar's ProcessExecutor.
import type { RunResult, StreamEnd } from '../../src-worker/execute/executor';
import type { ProcessExecutor } from '../../src-worker/execute/process-executor';
import { installSite, php, rows, db, dropPrefix } from '../helpers/stack';
import { phpWorker } from '../helpers/php-worker';

const PREFIX = `h1m_${process.pid % 1000}_`;

// While the test's connection holds this lock, putting a started row back to pending is refused (a lock is not
// transactional: the worker's retries see it go at once).
const LOCK = `${PREFIX}refuse_unmark`;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  await rows(
    `CREATE TRIGGER ${PREFIX}refuse_unmark BEFORE UPDATE ON ${PREFIX}actionscheduler_actions FOR EACH ROW
     BEGIN IF OLD.status = 'in-progress' AND NEW.status = 'pending' AND IS_USED_LOCK('${LOCK}') IS NOT NULL THEN
     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`,
  );
});
afterAll(async () => {
  await rows(`DROP TRIGGER IF EXISTS ${PREFIX}refuse_unmark`);
  await dropPrefix(PREFIX);
});

/**
 * One sleep action (1 s) and five no-ops, claimed; a stream of them on a real worker, stopped while the first runs
 * (the worker finishes it and starts nothing more). `onFirstDone` runs when the first action's result comes;
 * `afterEnd` on the same worker once the stream ended (the states returned are read after it).
 */
async function stoppedStream(
  args: number,
  onFirstDone: () => void = () => undefined,
  afterEnd: (executor: ProcessExecutor, claim: number, end: StreamEnd) => Promise<void> = async () => undefined,
) {
  const [ids, claim] = JSON.parse(
    php(
      PREFIX,
      `$ids = array(as_enqueue_async_action('sidecar_test_sleep', array(1))); for ($i = 0; $i < 5; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array(${args} + $i)); } $c = ActionScheduler::store()->stake_claim(10); echo json_encode(array($ids, (int) $c->get_id()));`,
    ).trim(),
  ) as [number[], number];
  const executor = phpWorker(PREFIX, 'h1m');
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
    await afterEnd(executor, claim, end);
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
  expect(end.unreleased).toBeUndefined();
  expect(states).toEqual(ONLY_FIRST_RAN);
});

test('marks the database refuses to undo for a moment (a deadlock, a lock wait) are undone by a retry, not left to the cleaner', async () => {
  const holder = await db();
  try {
    await holder.query('SELECT GET_LOCK(?, 0)', [LOCK]);
    // The worker undoes the other marks right after the first action: refused until the lock goes, 0.3 s later.
    const { end, done, states } = await stoppedStream(100, () => {
      setTimeout(() => void holder.query('SELECT RELEASE_LOCK(?)', [LOCK]), 300);
    });
    expect(end.reason).toBe('stopped');
    expect(done).toEqual(['0 complete']);
    expect(end.unreleased).toBeUndefined();
    expect(states).toEqual(ONLY_FIRST_RAN);
  } finally {
    await holder.end();
  }
});

test('marks still refused after the retries are reported at the stream end, and the settle request undoes them once the database lets it', async () => {
  const holder = await db();
  try {
    await holder.query('SELECT GET_LOCK(?, 0)', [LOCK]);
    let whileRefused: string[] = [];
    let refusedSettle = '';
    const { ids, end, done, states } = await stoppedStream(200, undefined, async (executor, claim, ended) => {
      const unrun = `SELECT action_id, status, attempts FROM ${PREFIX}actionscheduler_actions WHERE action_id IN (?) ORDER BY action_id`;
      whileRefused = (await rows(unrun, [ended.notStarted])).map((a) => `${a.status} ${a.attempts}`);
      // The sidecar sends them on (CrashRecovery.undoMarks()): still refused, the reply is an error, not "done".
      const settle = () => executor.settle({ claim, finalise: [], unstart: ended.unreleased });
      refusedSettle = await settle().then(
        () => 'written',
        (e: Error) => e.message,
      );
      await holder.query('SELECT RELEASE_LOCK(?)', [LOCK]);
      await settle();
    });
    expect(end.reason).toBe('stopped');
    expect(done).toEqual(['0 complete']);
    // The five never-run actions, with what undoing their marks needs (the window's time and line, the old attempts).
    expect(end.unreleased?.ids).toEqual(ids.slice(1));
    expect(end.unreleased?.gmt).toBe(end.marks?.gmt);
    expect(end.unreleased?.message).toBe(end.marks?.message);
    expect(Object.keys(end.unreleased?.prev ?? {}).map(Number)).toEqual(ids.slice(1));
    expect(whileRefused).toEqual(Array(5).fill('in-progress 1'));
    expect(refusedSettle).toMatch(/could not settle: 5 writes failed: refused by the test/);
    expect(states).toEqual(ONLY_FIRST_RAN);
    const lines = await rows(
      `SELECT action_id, message FROM ${PREFIX}actionscheduler_logs WHERE action_id IN (?) ORDER BY log_id`,
      [ids.slice(1)],
    );
    expect(lines.map((l) => l.message)).toEqual(Array(5).fill('action created')); // the window's "started" lines gone
  } finally {
    await holder.end();
  }
});
