// "Retry N failed" (the Failing hooks card) and the list's Retry copy a failed action; the failed row stays failed, so
// without a mark a second click or a second admin copied it again (one failure, two runs). Each failed action is now
// taken for its retry by a conditional write in {prefix}sidecar_attempts: over REST, two overlapping "retry all"
// requests make exactly one copy of each failure, a second click makes none, the card offers only failures nobody
// retried yet, and two overlapping retries of one action make one copy (the other gets 409 naming it).
import { installSite, php, rows, dropPrefix } from '../helpers/stack';
import { siteApi } from '../helpers/feature-site';

const PREFIX = `f2b${process.pid % 1000}_`;
const NS = '/sidecar-scheduler/v1';
let api: ReturnType<typeof siteApi>;

/** Runs n failing actions of the hook in process (the library's runner): n failed rows. Returns their IDs. */
const fail = (hook: string, n: number): number[] =>
  JSON.parse(
    php(
      PREFIX,
      `add_action('${hook}', function () { throw new RuntimeException('f2b boom'); }); $ids = array();
      for ($i = 0; $i < ${n}; $i++) { $id = as_enqueue_async_action('${hook}', array($i), 'f2b'); ActionScheduler::runner()->process_action($id, 'F2 test'); $ids[] = $id; }
      echo json_encode($ids);`,
    )
      .trim()
      .split('\n')
      .pop() as string,
  );

const pendingCopies = async (hook: string) =>
  (
    await rows<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = ? AND status = 'pending'`,
      [hook],
    )
  )[0].n;

const failedNow = async (hook: string) =>
  (await api(`${NS}/failing-hooks`)).json.hour.hooks.find((h: any) => h.hook === hook)?.failedNow;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  api = siteApi(PREFIX);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

test('two overlapping "Retry all" requests copy each failure once; a second click copies nothing; the card offers 0', async () => {
  const ids = fail('f2b_all', 6);
  expect(await failedNow('f2b_all')).toBe(6);
  const body = { op: 'retry', filter: { hook: 'f2b_all', status: 'failed', group: 'f2b' } };
  const [a, b] = await Promise.all([
    api(`${NS}/actions/bulk`, { method: 'POST', body }),
    api(`${NS}/actions/bulk`, { method: 'POST', body }),
  ]);
  expect([a.status, b.status]).toEqual([200, 200]);
  expect(a.json.done + b.json.done).toBe(6);
  expect(await pendingCopies('f2b_all')).toBe(6);
  // Each failed action points at exactly one copy, and the six copies are distinct pending actions of the hook.
  const marks = await rows<{ action_id: number; next_id: number; next_kind: string }>(
    `SELECT action_id, next_id, next_kind FROM ${PREFIX}sidecar_attempts WHERE action_id IN (?) ORDER BY action_id`,
    [ids],
  );
  expect(marks.map((m) => [Number(m.action_id), m.next_kind])).toEqual(ids.map((id) => [id, 'rerun']));
  expect(new Set(marks.map((m) => Number(m.next_id))).size).toBe(6);
  // A second click: nothing matches, nothing is copied.
  const again = await api(`${NS}/actions/bulk`, { method: 'POST', body });
  expect(again.json).toMatchObject({ matched: 0, done: 0, errors: [] });
  expect(await pendingCopies('f2b_all')).toBe(6);
  expect(await failedNow('f2b_all')).toBe(0);
  // The failed rows are kept as the record of what happened.
  const failed = await rows(
    `SELECT action_id FROM ${PREFIX}actionscheduler_actions WHERE hook = 'f2b_all' AND status = 'failed'`,
  );
  expect(failed).toHaveLength(6);
  // A new failure of the hook is offered (and copied) on its own.
  fail('f2b_all', 1);
  expect(await failedNow('f2b_all')).toBe(1);
  const third = await api(`${NS}/actions/bulk`, { method: 'POST', body });
  expect(third.json).toMatchObject({ matched: 1, done: 1 });
  expect(await pendingCopies('f2b_all')).toBe(7);
});

test('two overlapping retries of one failed action: one copy, the other request gets 409 naming it', async () => {
  const [id] = fail('f2b_one', 1);
  const res = await Promise.all([
    api(`${NS}/actions/${id}/retry`, { method: 'POST' }),
    api(`${NS}/actions/${id}/retry`, { method: 'POST' }),
  ]);
  const ok = res.filter((r) => r.status === 200);
  const refused = res.filter((r) => r.status === 409);
  expect([ok.length, refused.length]).toEqual([1, 1]);
  const copy = ok[0].json.newId;
  expect(copy).toBeGreaterThan(id);
  expect(await pendingCopies('f2b_one')).toBe(1);
  const later = await api(`${NS}/actions/${id}/retry`, { method: 'POST' });
  expect(later.status).toBe(409);
  expect(later.json).toMatchObject({
    code: 'sidecar_scheduler_already_retried',
    message: `Action ${id} was already retried (as action ${copy}).`,
  });
  expect(await pendingCopies('f2b_one')).toBe(1);
});
