// The admin REST API's refusals, word for word: each error's code, message and status, from a row action, a bulk
// operation and Admin\Actions itself (which throws Admin\ActionError; the REST layer makes the WP_Error).
import { php, rows } from '../helpers/stack';
import { api, userAuth, MAIN } from '../helpers/http';

const NS = '/sidecar-scheduler/v1';
const HOOK = `rest_admin_errors_test_${Date.now()}`;
let admin: string;
let ids: number[];

beforeAll(() => {
  admin = userAuth('sidecar_test_admin', 'administrator');
  ids = php(
    MAIN,
    `for ($i = 0; $i < 3; $i++) { echo as_schedule_single_action(time() + 3600 + $i, '${HOOK}', array('n' => $i), 'rest-admin-errors'), "\\n"; }`,
  )
    .trim()
    .split('\n')
    .map(Number);
});

afterAll(() => {
  php(MAIN, `as_unschedule_all_actions('${HOOK}');`);
});

test('a missing action: 404 sidecar_scheduler_not_found on a row action, a delete and a read', async () => {
  for (const [method, path] of [
    ['POST', '/actions/999999999/run'],
    ['DELETE', '/actions/999999999'],
    ['GET', '/actions/999999999'],
  ]) {
    const r = await api(`${NS}${path}`, { method, auth: admin });
    expect({ status: r.status, code: r.json.code, message: r.json.message, data: r.json.data }).toEqual({
      status: 404,
      code: 'sidecar_scheduler_not_found',
      message: 'Action 999999999 does not exist.',
      data: { status: 404 },
    });
  }
});

test('the wrong status: 409 sidecar_scheduler_wrong_status; in a bulk the same code and message per action', async () => {
  expect((await api(`${NS}/actions/${ids[0]}/cancel`, { method: 'POST', auth: admin })).status).toBe(200);
  const again = await api(`${NS}/actions/${ids[0]}/cancel`, { method: 'POST', auth: admin });
  expect({ status: again.status, code: again.json.code, message: again.json.message }).toEqual({
    status: 409,
    code: 'sidecar_scheduler_wrong_status',
    message: `Action ${ids[0]} is canceled; this operation does not apply.`,
  });
  const bulk = await api(`${NS}/actions/bulk`, {
    method: 'POST',
    auth: admin,
    body: { op: 'cancel', ids: [ids[0], ids[1]] },
  });
  expect(bulk.status).toBe(200);
  expect(bulk.json).toEqual({
    op: 'cancel',
    matched: 2,
    done: 1,
    errors: [
      {
        id: ids[0],
        code: 'sidecar_scheduler_wrong_status',
        message: `Action ${ids[0]} is canceled; this operation does not apply.`,
      },
    ],
    limit: 5000,
  });
  expect(
    (await rows(`SELECT status FROM ${MAIN}actionscheduler_actions WHERE action_id = ?`, [ids[1]]))[0].status,
  ).toBe('canceled');
});

test('a second retry: 409 sidecar_scheduler_already_retried naming the copy', async () => {
  const first = await api(`${NS}/actions/${ids[0]}/retry`, { method: 'POST', auth: admin });
  expect(first.status).toBe(200);
  const second = await api(`${NS}/actions/${ids[0]}/retry`, { method: 'POST', auth: admin });
  expect({ status: second.status, code: second.json.code, message: second.json.message }).toEqual({
    status: 409,
    code: 'sidecar_scheduler_already_retried',
    message: `Action ${ids[0]} was already retried (as action ${first.json.newId}).`,
  });
});

test('a bulk request with neither ids nor a filter: 400 sidecar_scheduler_bulk_target', async () => {
  for (const path of ['/actions/bulk', '/dead-letters/retry']) {
    const r = await api(`${NS}${path}`, {
      method: 'POST',
      auth: admin,
      body: path.endsWith('bulk') ? { op: 'cancel' } : {},
    });
    expect({ status: r.status, code: r.json.code, message: r.json.message }).toEqual({
      status: 400,
      code: 'sidecar_scheduler_bulk_target',
      message: 'Give either ids or a filter.',
    });
  }
});

test('Admin\\Actions throws an ActionError with the code, message and kind of each refusal', () => {
  const thrown = (op: string, id: number) =>
    JSON.parse(
      php(
        MAIN,
        `try { SidecarScheduler\\Admin\\Actions::apply('${op}', ${id}); echo 'null'; } catch (SidecarScheduler\\Admin\\ActionError $e) { echo json_encode(array($e->error_code(), $e->getMessage(), $e->kind())); }`,
      )
        .trim()
        .split('\n')
        .pop()!,
    );
  expect(thrown('explode', ids[2])).toEqual(['sidecar_scheduler_bad_op', 'Unknown operation.', 'bad_request']);
  expect(thrown('run', 999999999)).toEqual([
    'sidecar_scheduler_not_found',
    'Action 999999999 does not exist.',
    'not_found',
  ]);
  expect(thrown('retry', ids[2])).toEqual([
    'sidecar_scheduler_wrong_status',
    `Action ${ids[2]} is pending; this operation does not apply.`,
    'conflict',
  ]);
});
