// A worker that cannot undo its own start marks (the database refuses for longer than its retries: a lock wait that
// lasts, a failover) reports them at the end of its stream; the sidecar undoes them through the settle request, on
// that worker and then on fresh ones with backoff, keeping the claim meanwhile, and the actions run once when the
// database lets it (issue 13: "a row is failed only if its callback started"). Before, the marks were left in place:
// the actions read in progress with no run behind them until the cleaner failed them after the failure period.
// The stream ends early with marks held because what WordPress loads changed under the worker (a plugin activated:
// Freshness), a stop of its own that leaves the sidecar running. Both modes, as the start-window tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { php, phpJson, rows, db, startSidecar, exited, eventually, OURS, BUNDLER_AFTER } from '../helpers/stack';
import { countingSite } from '../helpers/sites';

describe.each([
  ['standalone', 'h1u_', [OURS]],
  ['companion', 'h1uc_', [OURS, BUNDLER_AFTER]],
] as const)('%s mode', (_mode, PREFIX, plugins) => {
  const A = (t: string) => `${PREFIX}actionscheduler_${t}`;
  // While the test's connection holds this lock, putting a started row back to pending is refused.
  const LOCK = `${PREFIX}refuse_unmark`;

  beforeAll(async () => {
    await countingSite(PREFIX, [...plugins]);
    await rows(
      `CREATE TRIGGER ${PREFIX}refuse_unmark BEFORE UPDATE ON ${A('actions')} FOR EACH ROW
       BEGIN IF OLD.status = 'in-progress' AND NEW.status = 'pending' AND IS_USED_LOCK('${LOCK}') IS NOT NULL THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`,
    );
  });
  afterAll(async () => {
    await rows(`DROP TRIGGER IF EXISTS ${PREFIX}refuse_unmark`);
  });

  test("marks refused past the worker's retries are undone by the sidecar once the database lets it, and those actions run once", async () => {
    // 20 fast ones train the lane (--batch-size=20: a claim of their own), then a slow one (it runs until the test
    // creates a file) whose window marks the ten after it.
    const go = join(mkdtempSync(join(tmpdir(), 'sidecar-unrel-')), 'go');
    const ids = phpJson(
      PREFIX,
      `$ids = array('train' => array(), 'after' => array());
       for ($i = 0; $i < 20; $i++) { $ids['train'][] = as_enqueue_async_action('sidecar_test_count', array(9500000 + $i), 'unrel', false, 1); }
       $ids['sleeper'] = as_enqueue_async_action('sidecar_test_wait_file', array(${JSON.stringify(go)}, 60), 'unrel', false, 2);
       for ($i = 0; $i < 10; $i++) { $ids['after'][] = as_enqueue_async_action('sidecar_test_count', array(9600000 + $i), 'unrel', false, 3); }
       echo json_encode($ids);`,
    ) as { train: number[]; sleeper: number; after: number[] };
    const row = async (id: number) =>
      (await rows(`SELECT status, attempts, claim_id FROM ${A('actions')} WHERE action_id = ?`, [id]))[0];
    const states = async (list: number[]) =>
      (
        await rows(`SELECT status, attempts FROM ${A('actions')} WHERE action_id IN (?) ORDER BY action_id`, [list])
      ).map((r) => `${r.status} ${r.attempts}`);
    const holder = await db();
    const s = startSidecar(PREFIX, ['--workers=1', '--batch-size=20', '--start-window-ms=1000']);
    try {
      expect(
        await eventually(
          async () => (await row(ids.sleeper))?.status,
          (st) => st === 'in-progress',
          60000,
          20,
        ),
      ).toBe('in-progress');
      // The window marked the ten after it: the claim under test really runs in one.
      expect(await states(ids.after)).toEqual(Array(10).fill('in-progress 1'));
      const [[locked]] = (await holder.query('SELECT GET_LOCK(?, 0) AS ok', [LOCK])) as any;
      expect(Number(locked.ok)).toBe(1);
      // A plugin activated for this site only (Hello Dolly, which comes with WordPress): the worker finds itself out
      // of date after the slow action, stops its stream and undoes the ten marks: refused.
      php(
        PREFIX,
        `update_option('active_plugins', array_merge((array) get_option('active_plugins'), array('hello.php')));`,
      );
      expect((await row(ids.sleeper)).status).toBe('in-progress');
      // The worker looks at what WordPress loads at most once a second (Freshness): its last look was before the slow
      // action began, so it looks again right after it once this much has passed.
      await new Promise((r) => setTimeout(r, 1200));
      writeFileSync(go, '');
      const logsSoon = async (text: string) =>
        expect(
          await eventually(
            async () => s.output.join(''),
            (o) => o.includes(text),
            30000,
            100,
          ),
        ).toContain(text);
      await logsSoon('could not undo start marks of actions it never ran');
      // The sidecar's first tries on that worker and on fresh ones are refused too; the lane keeps the claim and
      // goes on trying with backoff. Meanwhile nothing else happens to those ten: still marked, never run.
      await logsSoon('could not yet undo the start marks the worker gave up on; keeping its claim');
      expect(await states(ids.after)).toEqual(Array(10).fill('in-progress 1'));
      await holder.query('SELECT RELEASE_LOCK(?)', [LOCK]);
      await eventually(
        () => states(ids.after),
        (st) => st.every((x) => x === 'complete 1'),
        60000,
        200,
      );
    } finally {
      s.kill('SIGTERM');
      await holder.end();
    }
    expect(await exited(s, 30000)).toBe(0);
    expect(s.output.join('')).toContain('undid the start marks the worker gave up on and released its claim');
    for (const id of ids.after) {
      expect(await row(id)).toMatchObject({ status: 'complete', attempts: 1, claim_id: 0 });
      // One "started" line each: the undone mark's line went with it.
      expect(
        (await rows(`SELECT message FROM ${A('logs')} WHERE action_id = ? ORDER BY log_id`, [id])).map(
          (r) => r.message,
        ),
      ).toEqual(['action created', 'action started via Sidecar', 'action complete via Sidecar']);
    }
    expect(await row(ids.sleeper)).toMatchObject({ status: 'complete', attempts: 1 });
    // Each ran exactly once; nothing of the site failed.
    const [runs] = await rows(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${PREFIX}sidecar_test_runs WHERE n BETWEEN 9600000 AND 9600009`,
    );
    expect([Number(runs.n), Number(runs.d)]).toEqual([10, 10]);
    expect((await rows(`SELECT COUNT(*) AS n FROM ${A('actions')} WHERE status = 'failed'`))[0].n).toBe(0);
  });
});
