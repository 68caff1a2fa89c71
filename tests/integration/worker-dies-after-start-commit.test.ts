// A worker that dies after an action's start was committed but before its callback ran (the moment a SIGKILL lands
// while the worker waits for the start's COMMIT answer; tests/integration/random-kill.test.ts hit it at random, about
// every second run): the action never ran, so it must not be failed. The sidecar hears "started" before the
// commit and "running" after it; a death in between undoes the start through a fresh worker (pending again, attempt
// and "started" line taken back), and the action then runs once. Before "running" existed it was failed, unrun.
// Made deterministic by tests/fixtures/die-after-start-commit.php (windows off: each start commits on its own).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { installSite, php, rows, startSidecar, exited, dropPrefix, waitFor, linkIntoDocroot } from '../helpers/stack';

jest.setTimeout(300_000);

const PREFIX = `f3a_${process.pid % 1000}_`;
const MARKER = `/tmp/f3a-die-after-start-${process.pid}`;

beforeAll(async () => {
  linkIntoDocroot(
    'tests/fixtures/die-after-start-commit.php',
    'wp-content/mu-plugins/sidecar-test-die-after-start.php',
  );
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  php(
    PREFIX,
    `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
  );
});
afterAll(async () => {
  rmSync(MARKER, { force: true });
  await dropPrefix(PREFIX);
});

test('killed between its start commit and its callback: not failed, runs once on a fresh worker', async () => {
  const ids = JSON.parse(
    php(
      PREFIX,
      `$ids = array(); for ($i = 1; $i <= 5; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_count', array($i), 'f3a'); } echo json_encode($ids);`,
    ).trim(),
  ) as number[];
  const target = ids[2]; // the third: its start UPDATE also writes the second's completion
  rmSync(MARKER, { force: true });
  const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=10', '--start-window-ms=0'], {
    SIDECAR_TEST_DIE_AFTER_START: `${target}:${MARKER}`,
    SIDECAR_SCHEDULER_NUDGE: '',
  });
  const left = async () =>
    Number(
      (
        await rows(
          `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND status IN ('pending', 'in-progress')`,
        )
      )[0].n,
    );
  try {
    await waitFor(async () => existsSync(MARKER) && (await left()) === 0, 120000, 200);
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 60000)).toBe(0);
  }
  const died = Number(readFileSync(MARKER, 'utf8'));
  const actions = await rows(
    `SELECT action_id, status, attempts FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' ORDER BY action_id`,
  );
  const runs = await rows(`SELECT n, pid FROM ${PREFIX}sidecar_test_runs ORDER BY id`);
  const lines = await rows(
    `SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? AND message <> 'action created' ORDER BY log_id`,
    [target],
  );
  expect(died).toBeGreaterThan(0);
  expect(actions.map((a) => [Number(a.action_id), a.status, Number(a.attempts)])).toEqual(
    ids.map((id) => [id, 'complete', 1]),
  );
  // Each callback once (the target's after the others: it went back to pending under the claim, and is claimed
  // again after the claim's release), on another worker than the one that died at its start.
  expect(runs.map((r) => Number(r.n))).toEqual([1, 2, 4, 5, 3]);
  expect(Number(runs[4].pid)).not.toBe(died);
  expect(lines.map((l) => l.message)).toEqual(['action started via Sidecar', 'action complete via Sidecar']);
});
