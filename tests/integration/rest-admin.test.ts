// The admin REST API through real WordPress over HTTP: permissions, validation, pagination, row and bulk actions.
import { php, rows, installSite, dropPrefix } from '../helpers/stack';
import { api, userAuth, MAIN } from '../helpers/http';

const NS = '/sidecar-scheduler/v1';
let admin: string;
let subscriber: string;
const HOOK = `rest_admin_test_${Date.now()}`;

const count = async (where: string) =>
  Number(
    (await rows(`SELECT COUNT(*) AS n FROM ${MAIN}actionscheduler_actions WHERE hook = ? AND ${where}`, [HOOK]))[0].n,
  );

beforeAll(() => {
  admin = userAuth('sidecar_test_admin', 'administrator');
  subscriber = userAuth('sidecar_test_subscriber', 'subscriber');
  php(
    MAIN,
    `for ($i = 0; $i < 25; $i++) { as_schedule_single_action(time() + 3600 + $i, '${HOOK}', array('n' => $i), 'rest-admin'); }`,
  );
});

test.each([
  ['GET', '/overview'],
  ['GET', '/groups'],
  ['GET', '/actions'],
  ['POST', '/actions/1/cancel'],
  ['DELETE', '/actions/1'],
  ['POST', '/actions/bulk'],
])('%s %s: logged out gets 401, a subscriber 403, and nothing changes', async (method, path) => {
  const before = await count(`status = 'pending'`);
  const anon = await api(NS + path, { method, body: method === 'POST' ? { op: 'cancel', ids: [1] } : undefined });
  expect(anon.status).toBe(401);
  expect(anon.json).toHaveProperty('code');
  expect(anon.json).toHaveProperty('message');
  const sub = await api(NS + path, {
    method,
    auth: subscriber,
    body: method === 'POST' ? { op: 'cancel', ids: [1] } : undefined,
  });
  expect(sub.status).toBe(403);
  expect(await count(`status = 'pending'`)).toBe(before);
});

test('overview has counts that match the database', async () => {
  const r = await api(`${NS}/overview`, { auth: admin });
  expect(r.status).toBe(200);
  const db = await rows(`SELECT status, COUNT(*) AS n FROM ${MAIN}actionscheduler_actions GROUP BY status`);
  for (const row of db) expect(r.json.counts[row.status]).toBe(Number(row.n));
  expect(r.json).toHaveProperty('pastDue.count');
  expect(Array.isArray(r.json.warnings)).toBe(true);
});

test('actions list filters by hook and paginates', async () => {
  const p1 = await api(`${NS}/actions?hook=${HOOK}&per_page=10&page=1&orderby=date&order=asc`, { auth: admin });
  expect(p1.status).toBe(200);
  expect(p1.json.total).toBe(25);
  expect(p1.json.totalPages).toBe(3);
  expect(p1.json.items).toHaveLength(10);
  const p3 = await api(`${NS}/actions?hook=${HOOK}&per_page=10&page=3&orderby=date&order=asc`, { auth: admin });
  expect(p3.json.items).toHaveLength(5);
  expect(p1.json.items[0].args).toEqual({ n: 0 });
  expect(p3.json.items[4].args).toEqual({ n: 24 });
});

test.each([['per_page=0'], ['per_page=500'], ['page=0'], ['status=bogus'], ['orderby=password'], ['order=sideways']])(
  'invalid parameter %s is a 400 with code and message',
  async (qs) => {
    const r = await api(`${NS}/actions?${qs}`, { auth: admin });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('rest_invalid_param');
  },
);

test('row actions: cancel a pending one, refuse to cancel twice, 404 for a missing id', async () => {
  const [first] = await rows(
    `SELECT action_id FROM ${MAIN}actionscheduler_actions WHERE hook = ? ORDER BY action_id LIMIT 1`,
    [HOOK],
  );
  const ok = await api(`${NS}/actions/${first.action_id}/cancel`, { method: 'POST', auth: admin });
  expect(ok.status).toBe(200);
  expect(
    (await rows(`SELECT status FROM ${MAIN}actionscheduler_actions WHERE action_id = ?`, [first.action_id]))[0].status,
  ).toBe('canceled');
  const again = await api(`${NS}/actions/${first.action_id}/cancel`, { method: 'POST', auth: admin });
  expect(again.status).toBe(409);
  const missing = await api(`${NS}/actions/999999999/run`, { method: 'POST', auth: admin });
  expect(missing.status).toBe(404);
  expect(missing.json.code).toBe('sidecar_scheduler_not_found');
});

test('retry makes a fresh pending copy and keeps the old row', async () => {
  const [c] = await rows(
    `SELECT action_id FROM ${MAIN}actionscheduler_actions WHERE hook = ? AND status = 'canceled' LIMIT 1`,
    [HOOK],
  );
  const r = await api(`${NS}/actions/${c.action_id}/retry`, { method: 'POST', auth: admin });
  expect(r.status).toBe(200);
  expect(r.json.newId).toBeGreaterThan(c.action_id);
  expect(
    (await rows(`SELECT status FROM ${MAIN}actionscheduler_actions WHERE action_id = ?`, [c.action_id]))[0].status,
  ).toBe('canceled');
  const [copy] = await rows(
    `SELECT status, args, scheduled_date_gmt FROM ${MAIN}actionscheduler_actions WHERE action_id = ?`,
    [r.json.newId],
  );
  expect(copy.status).toBe('pending');
  expect(copy.args).toBe('{"n":0}');
});

test('bulk cancel by ids, then bulk cancel everything matching a filter', async () => {
  const ids = (
    await rows(
      `SELECT action_id FROM ${MAIN}actionscheduler_actions WHERE hook = ? AND status = 'pending' ORDER BY action_id LIMIT 3`,
      [HOOK],
    )
  ).map((r: any) => Number(r.action_id));
  const byIds = await api(`${NS}/actions/bulk`, { method: 'POST', auth: admin, body: { op: 'cancel', ids } });
  expect(byIds.status).toBe(200);
  expect(byIds.json).toMatchObject({ matched: 3, done: 3 });
  const pending = await count(`status = 'pending'`);
  const byFilter = await api(`${NS}/actions/bulk`, {
    method: 'POST',
    auth: admin,
    body: { op: 'cancel', filter: { hook: HOOK, status: 'pending' } },
  });
  expect(byFilter.json).toMatchObject({ matched: pending, done: pending });
  expect(await count(`status = 'pending'`)).toBe(0);
  const bad = await api(`${NS}/actions/bulk`, { method: 'POST', auth: admin, body: { op: 'explode', ids: [1] } });
  expect(bad.status).toBe(400);
  const none = await api(`${NS}/actions/bulk`, { method: 'POST', auth: admin, body: { op: 'cancel' } });
  expect(none.status).toBe(400);
  const extra = await api(`${NS}/actions/bulk`, {
    method: 'POST',
    auth: admin,
    body: { op: 'cancel', filter: { where: '1=1' } },
  });
  expect(extra.status).toBe(400);
});

afterAll(() => {
  php(
    MAIN,
    `global $wpdb; $ids = $wpdb->get_col($wpdb->prepare("SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE hook = %s", '${HOOK}')); foreach ($ids as $id) { try { ActionScheduler::store()->delete_action($id); } catch (Exception $e) { /* already gone */ } }`,
  );
});

test('a search that would scan too long is stopped by the server and reported, not left hanging', async () => {
  const prefix = 'tcap_';
  await dropPrefix(prefix);
  installSite(prefix);
  // 200k rows: a LIKE '%term%' search has to read them all, far past a 1 ms cap.
  await rows(
    `INSERT INTO ${prefix}actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, args, schedule, group_id) SELECT CONCAT('cap_', seq), 'complete', UTC_TIMESTAMP(), UTC_TIMESTAMP(), CONCAT('[', seq, ']'), 'O:28:"ActionScheduler_NullSchedule":0:{}', 1 FROM seq_1_to_200000`,
  );
  const out = php(
    prefix,
    `var_export(ActionScheduler::store()->query_actions_capped(array('search' => 'nomatch'), 'count', 0.001)); echo '|'; var_export(ActionScheduler::store()->query_actions_capped(array('search' => 'cap_199999'), 'count', 30));`,
  );
  expect(out.trim()).toBe('NULL|1');
  await dropPrefix(prefix);
});
