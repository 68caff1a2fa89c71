// Batches on the real stack: 500 items with 20 failures run by two sidecars report 480/20 and fire the completion
// hook exactly once (from a worker, not from the poll); progress and ETA while running, cancel, bad input.
import { installSite, php, phpJson, rows, dropPrefix, startSidecar, exited, eventually } from '../helpers/stack';
import { linkFeatureFixture, createFeatureTables, siteApi } from '../helpers/feature-site';

const PREFIX = `h6c${process.pid % 1000}_`;
const NS = '/sidecar-scheduler/v1';
let api: ReturnType<typeof siteApi>;
const count = async (sql: string, params: unknown[] = []) => Number((await rows(sql, params))[0].n);

beforeAll(async () => {
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  createFeatureTables(PREFIX);
  api = siteApi(PREFIX);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

test('a batch of 500 with 20 failures, run by two sidecars: 480 done, 20 failed, each item once, the completion hook once', async () => {
  const id = Number(
    php(
      PREFIX,
      `$items = array(); for ($n = 1; $n <= 500; $n++) { $items[] = array('n' => $n, 'fail' => 0 === $n % 25); }
    echo sidecar_scheduler_batch('Import products.csv', 'h6_item', $items);`,
    )
      .trim()
      .split('\n')
      .pop(),
  );
  expect(id).toBeGreaterThan(0);
  const before = (await api(`${NS}/batches/${id}`)).json;
  expect(before).toMatchObject({
    id,
    name: 'Import products.csv',
    hook: 'h6_item',
    group: `sidecar-batch-${id}`,
    status: 'running',
    total: 500,
    done: 0,
    failed: 0,
    pending: 500,
    percent: 0,
    etaSeconds: null,
  });
  const env = { SIDECAR_SCHEDULER_NUDGE: '' };
  const a = startSidecar(PREFIX, ['--workers=2', '--batch-size=20'], env);
  const b = startSidecar(PREFIX, ['--workers=2', '--batch-size=20'], env);
  try {
    // Watch the completion table, not the REST route: a poll would finish the batch itself.
    await eventually(
      () => count(`SELECT COUNT(*) AS n FROM ${PREFIX}h6_batch_done WHERE batch_id = ?`, [id]),
      (n) => n > 0,
      150000,
      500,
    );
    await new Promise((r) => setTimeout(r, 3000)); // any second firing would come from the next claims' sweeps
  } finally {
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    await Promise.all([exited(a), exited(b)]);
  }
  const done = await rows(
    `SELECT status, done, failed, canceled, total, pid FROM ${PREFIX}h6_batch_done WHERE batch_id = ?`,
    [id],
  );
  expect(done.map(({ pid, ...r }: any) => r)).toEqual([
    { status: 'complete', done: 480, failed: 20, canceled: 0, total: 500 },
  ]);
  expect(done[0].pid).not.toBe(process.pid);
  expect(await count(`SELECT COUNT(*) AS n FROM ${PREFIX}h6_runs`)).toBe(500);
  expect(await count(`SELECT COUNT(DISTINCT n) AS n FROM ${PREFIX}h6_runs`)).toBe(500);
  expect(await count(`SELECT COUNT(DISTINCT pid) AS n FROM ${PREFIX}h6_runs`)).toBeGreaterThanOrEqual(2);
  const after = (await api(`${NS}/batches/${id}`)).json;
  expect(after).toMatchObject({
    status: 'complete',
    total: 500,
    done: 480,
    failed: 20,
    canceled: 0,
    pending: 0,
    running: 0,
    percent: 100,
    etaSeconds: null,
  });
  expect(after.finishedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect(await count(`SELECT COUNT(*) AS n FROM ${PREFIX}h6_batch_done WHERE batch_id = ?`, [id])).toBe(1);
  const list = (await api(`${NS}/batches`)).json;
  expect(list[0]).toMatchObject({ id, status: 'complete', done: 480, failed: 20 });
});

test('progress with an ETA while it runs; cancel stops the pending items, and it ends as canceled with one hook call', async () => {
  const id = Number(
    php(
      PREFIX,
      `$items = array(); for ($n = 1001; $n <= 1020; $n++) { $items[] = array('n' => $n, 'sleep' => 0.5); }
    echo sidecar_scheduler_batch('Slow export', 'h6_item', $items);`,
    )
      .trim()
      .split('\n')
      .pop(),
  );
  const sidecar = startSidecar(PREFIX, ['--workers=1', '--batch-size=1'], { SIDECAR_SCHEDULER_NUDGE: '' });
  try {
    const mid = await eventually(
      async () => (await api(`${NS}/batches/${id}`)).json,
      (p) => p.done >= 3,
      60000,
      200,
    );
    expect(mid.status).toBe('running');
    expect(mid.etaSeconds).toBeGreaterThan(0);
    expect(mid.percent).toBe(Math.floor((100 * mid.done) / 20));
    const c = await api(`${NS}/batches/${id}/cancel`, { method: 'POST' });
    expect(c.status).toBe(200);
    expect(['canceling', 'canceled']).toContain(c.json.status);
    expect(c.json.pending).toBe(0);
    const end = await eventually(
      async () => (await api(`${NS}/batches/${id}`)).json,
      (p) => p.status === 'canceled',
      30000,
      200,
    );
    expect(end.done + end.failed + end.canceled).toBe(20);
    expect(end.canceled).toBeGreaterThan(0);
    expect(end.failed).toBe(0);
    const again = await api(`${NS}/batches/${id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('sidecar_scheduler_batch_status');
    const fired = await rows(`SELECT status, done, canceled FROM ${PREFIX}h6_batch_done WHERE batch_id = ?`, [id]);
    expect(fired).toEqual([{ status: 'canceled', done: end.done, canceled: end.canceled }]);
    expect(await count(`SELECT COUNT(*) AS n FROM ${PREFIX}h6_runs WHERE n BETWEEN 1001 AND 1020`)).toBe(end.done);
  } finally {
    sidecar.kill('SIGTERM');
    await exited(sidecar);
  }
});

test('bad input is a clear error and enqueues nothing; an unknown batch is a 404', async () => {
  const before = await count(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions`);
  const errs = phpJson(
    PREFIX,
    `$out = array();
    foreach (array(array('', 'h6_item', array(1)), array('x', '', array(1)), array('x', 'h6_item', array()), array('x', 'h6_item', array(1, str_repeat('y', 9000)))) as $a) {
      $r = sidecar_scheduler_batch($a[0], $a[1], $a[2]); $out[] = is_wp_error($r) ? array($r->get_error_code(), $r->get_error_message()) : $r;
    }
    echo json_encode($out);`,
  );
  expect(errs.map((e: any) => e[0])).toEqual([
    'sidecar_scheduler_batch_name',
    'sidecar_scheduler_batch_hook',
    'sidecar_scheduler_batch_items',
    'sidecar_scheduler_batch_item',
  ]);
  expect(errs[3][1]).toBe(
    'Item 1 cannot be stored: it must be JSON-encodable and at most 8,000 characters encoded. Nothing was enqueued.',
  );
  expect(await count(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions`)).toBe(before);
  const missing = await api(`${NS}/batches/999999`);
  expect(missing.status).toBe(404);
  expect(missing.json.code).toBe('sidecar_scheduler_batch_not_found');
  expect((await api(`${NS}/batches`, { anonymous: true })).status).toBe(401);
});
