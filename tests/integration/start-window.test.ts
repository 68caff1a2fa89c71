// Start windows (StartWindow.php): a worker commits the starts of several fast actions at once. These tests put a
// crash, a stop and a cancel inside a window and check that every action still runs exactly once or not at all, and
// that rows and log lines end as the library leaves them. Each test first trains the lane with fast actions (the
// sidecar sizes windows from their run time), so the claim under test really runs in a window: they check that too.
import {
  php,
  phpJson,
  rows,
  startSidecar,
  exited,
  waitFor,
  eventually,
  OURS,
  BUNDLER_AFTER,
  laneWorkerPids,
} from '../helpers/stack';
import { countingSite } from '../helpers/sites';

// Both modes, with the same assertions: standalone, and companion beside the real library (bundled by a plugin loaded
// after ours, as WooCommerce does): the worker's windows run over whichever store and logger are loaded.
describe.each([
  ['standalone', 'tswin_', [OURS]],
  ['companion', 'tswic_', [OURS, BUNDLER_AFTER]],
] as const)('%s mode', (_mode, PREFIX, plugins) => {
  const A = (t: string) => `${PREFIX}actionscheduler_${t}`;
  const runsTable = `${PREFIX}sidecar_test_runs`;

  beforeAll(async () => {
    await countingSite(PREFIX, [...plugins]);
  });

  beforeEach(() => {
    php(
      PREFIX,
      `global $wpdb; foreach (array('actions', 'logs', 'claims') as $t) { $wpdb->query("DELETE FROM {$wpdb->prefix}actionscheduler_$t"); } $wpdb->query("DELETE FROM {$wpdb->prefix}sidecar_test_runs");`,
    );
  });

  /** Enqueues `code`'s actions after 20 fast ones at a higher priority: with --batch-size=20 the first claim trains the lane. */
  const enqueueAfterTraining = (code: string): Record<string, number[]> =>
    phpJson(
      PREFIX,
      `
  $ids = array('train' => array());
  for ($i = 0; $i < 20; $i++) { $ids['train'][] = as_enqueue_async_action('sidecar_test_count', array(9000000 + $i), 'win', false, 1); }
  ${code}
  echo json_encode($ids);`,
    );
  const statusOf = async (id: number) =>
    (await rows(`SELECT status FROM ${A('actions')} WHERE action_id = ?`, [id]))[0]?.status;
  const row = async (id: number) =>
    (await rows(`SELECT status, attempts, claim_id FROM ${A('actions')} WHERE action_id = ?`, [id]))[0];
  const logsOf = async (id: number) =>
    (await rows(`SELECT message FROM ${A('logs')} WHERE action_id = ? ORDER BY log_id`, [id])).map(
      (r: any) => r.message,
    );
  const runsOf = async (lo: number, hi: number) => {
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runsTable} WHERE n BETWEEN ? AND ?`, [
      lo,
      hi,
    ]);
    return [Number(c.n), Number(c.d)];
  };
  const workerOf = (sidecarPid: number) => laneWorkerPids(sidecarPid)[0];

  test('kill -9 of the worker inside a window: finished actions keep their outcome, the running one fails, the rest run once on a fresh worker', async () => {
    const ids = enqueueAfterTraining(`
    $ids['before'] = array(); $ids['after'] = array();
    for ($i = 0; $i < 5; $i++) { $ids['before'][] = as_enqueue_async_action('sidecar_test_count', array(9100000 + $i), 'win', false, 2); }
    $ids['sleeper'] = array(as_enqueue_async_action('sidecar_test_sleep', array(20), 'win', false, 3));
    for ($i = 0; $i < 5; $i++) { $ids['after'][] = as_enqueue_async_action('sidecar_test_count', array(9200000 + $i), 'win', false, 4); }`);
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=20', '--start-window-ms=1000']);
    try {
      await eventually(
        () => statusOf(ids.sleeper[0]),
        (st) => st === 'in-progress',
        60000,
        20,
      );
      // The window marked the actions after the sleeper too (the documented difference): this is the case under test.
      for (const id of ids.after) expect(await row(id)).toMatchObject({ status: 'in-progress', attempts: 1 });
      process.kill(workerOf(s.pid!), 'SIGKILL');
      await waitFor(async () => (await runsOf(9200000, 9200004))[0] === 5, 60000);
    } finally {
      s.kill('SIGTERM');
      expect(await exited(s, 30000)).toBe(0);
    }
    const ran = ['action created', 'action started via Sidecar', 'action complete via Sidecar'];
    for (const id of [...ids.before, ...ids.after]) {
      expect(await row(id)).toMatchObject({ status: 'complete', attempts: 1, claim_id: 0 });
      expect(await logsOf(id)).toEqual(ran); // one "started" line each: the undone mark's line is gone
    }
    expect(await runsOf(9100000, 9100004)).toEqual([5, 5]);
    expect(await runsOf(9200000, 9200004)).toEqual([5, 5]);
    expect(await statusOf(ids.sleeper[0])).toBe('failed');
    expect((await logsOf(ids.sleeper[0])).pop()).toMatch(
      /^action marked as failed after \d+ seconds\. Unknown error occurred\./,
    );
  });

  test('SIGTERM inside a window: the running action finishes; marked ones that never started go back to pending untouched', async () => {
    const ids = enqueueAfterTraining(`
    $ids['sleeper'] = array(as_enqueue_async_action('sidecar_test_sleep', array(2), 'win', false, 2));
    $ids['after'] = array();
    for ($i = 0; $i < 5; $i++) { $ids['after'][] = as_enqueue_async_action('sidecar_test_count', array(9300000 + $i), 'win', false, 3); }`);
    const s = startSidecar(PREFIX, [
      '--workers=1',
      '--batch-size=20',
      '--start-window-ms=1000',
      '--shutdown-timeout-ms=10000',
    ]);
    await eventually(
      () => statusOf(ids.sleeper[0]),
      (st) => st === 'in-progress',
      60000,
      20,
    );
    expect(await row(ids.after[0])).toMatchObject({ status: 'in-progress', attempts: 1 });
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
    expect(await row(ids.sleeper[0])).toMatchObject({ status: 'complete', attempts: 1, claim_id: 0 });
    for (const id of ids.after) {
      expect(await row(id)).toMatchObject({ status: 'pending', attempts: 0, claim_id: 0 });
      expect(await logsOf(id)).toEqual(['action created']);
    }
    expect(await runsOf(9300000, 9300004)).toEqual([0, 0]);
    const [l] = await rows(`SELECT last_attempt_gmt FROM ${A('actions')} WHERE action_id = ?`, [ids.after[0]]);
    expect(l.last_attempt_gmt).not.toBe('0000-00-00 00:00:00'); // the claim's time, as the library leaves a released action
  });

  test('kill -9 of the sidecar inside a window: its worker finishes the running action, undoes the other marks and exits', async () => {
    const ids = enqueueAfterTraining(`
    $ids['sleeper'] = array(as_enqueue_async_action('sidecar_test_sleep', array(2), 'win', false, 2));
    $ids['after'] = array();
    for ($i = 0; $i < 5; $i++) { $ids['after'][] = as_enqueue_async_action('sidecar_test_count', array(9400000 + $i), 'win', false, 3); }`);
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=20', '--start-window-ms=1000']);
    await eventually(
      () => statusOf(ids.sleeper[0]),
      (st) => st === 'in-progress',
      60000,
      20,
    );
    expect(await row(ids.after[0])).toMatchObject({ status: 'in-progress', attempts: 1 });
    const worker = workerOf(s.pid!);
    s.kill('SIGKILL');
    await exited(s);
    await waitFor(async () => {
      try {
        process.kill(worker, 0);
        return false;
      } catch {
        return true;
      }
    }, 30000); // it exits on its own
    expect(await row(ids.sleeper[0])).toMatchObject({ status: 'complete', attempts: 1 }); // its held completion was committed
    for (const id of ids.after) {
      expect(await row(id)).toMatchObject({ status: 'pending', attempts: 0 }); // still claimed by the dead sidecar
      expect(await logsOf(id)).toEqual(['action created']);
    }
    // After the timeout period the cleaner resets the dead sidecar's claim, and a new sidecar runs them once.
    php(
      PREFIX,
      `global $wpdb; $wpdb->query("UPDATE {$wpdb->prefix}actionscheduler_actions SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE claim_id <> 0 AND status = 'pending'"); (new ActionScheduler_QueueCleaner())->clean(300);`,
    );
    const again = startSidecar(PREFIX, ['--once', '--workers=1']);
    expect(await exited(again)).toBe(0);
    expect(await runsOf(9400000, 9400004)).toEqual([5, 5]);
  });

  test('a callback that unschedules a later action of its own window stops it, as with the library', async () => {
    const ids = enqueueAfterTraining(`
    $ids['canceller'] = array(as_enqueue_async_action('sidecar_test_unschedule', array('sidecar_test_count', array(9500000)), 'win', false, 2));
    $ids['target'] = array(as_enqueue_async_action('sidecar_test_count', array(9500000), 'win', false, 3));
    $ids['next'] = array(as_enqueue_async_action('sidecar_test_count', array(9500001), 'win', false, 4));`);
    const s = startSidecar(PREFIX, [
      '--once',
      '--workers=1',
      '--batch-size=20',
      '--start-window-ms=1000',
      '--log-level=debug',
    ]);
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toMatch(/"actions":3,"msg":"start window"/); // the three ran in one window
    expect(await row(ids.canceller[0])).toMatchObject({ status: 'complete' });
    expect(await row(ids.target[0])).toMatchObject({ status: 'canceled', attempts: 0 });
    expect(await logsOf(ids.target[0])).toEqual(['action created', 'action canceled', 'action ignored via Sidecar']);
    expect(await runsOf(9500000, 9500000)).toEqual([0, 0]);
    expect(await runsOf(9500001, 9500001)).toEqual([1, 1]);
  });
});
