// The signed runner route used by the rest channel: bad signatures get 401 and change no row; a good one runs.
import { createHmac } from 'node:crypto';
import { php, rows } from '../helpers/stack';
import { api, MAIN } from '../helpers/http';

const ROUTE = '/sidecar-scheduler/v1/runner/execute';
let secret: string;
let id: number;

const sign = (ts: number, body: string, key = secret) => createHmac('sha256', key).update(`${ts}\n${body}`).digest('hex');
const statusOf = async () => (await rows(`SELECT status FROM ${MAIN}actionscheduler_actions WHERE action_id = ?`, [id]))[0].status;

beforeAll(() => {
  secret = php(MAIN, `echo get_option('sidecar_scheduler_secret');`).trim();
  id = Number(php(MAIN, `echo as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('rest-runner'));`).trim()); // not due: WP-Cron on the main site must not run it first
});

const post = (body: string, headers: Record<string, string>) => api(ROUTE, { method: 'POST', raw: body, headers });

test('a secret was generated on activation', () => {
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
});

test.each([
  ['missing signature', () => ({})],
  ['wrong signature', (b: string, ts: number) => ({ 'X-Sidecar-Timestamp': String(ts), 'X-Sidecar-Signature': sign(ts, b, 'wrong-key') })],
  ['expired timestamp', (b: string) => { const old = Math.floor(Date.now() / 1000) - 600; return { 'X-Sidecar-Timestamp': String(old), 'X-Sidecar-Signature': sign(old, b) }; }],
  ['signature over another body', (_b: string, ts: number) => ({ 'X-Sidecar-Timestamp': String(ts), 'X-Sidecar-Signature': sign(ts, '{"op":"clean"}') })],
])('%s: 401 and nothing runs', async (_name, headers) => {
  const body = JSON.stringify({ op: 'batch', ids: [id] });
  const ts = Math.floor(Date.now() / 1000);
  const r = await post(body, (headers as any)(body, ts));
  expect(r.status).toBe(401);
  expect(r.json.code).toBe('sidecar_scheduler_bad_signature');
  expect(await statusOf()).toBe('pending');
});

test('a good signature runs the batch once; replaying it is refused', async () => {
  const body = JSON.stringify({ op: 'batch', ids: [id] });
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'X-Sidecar-Timestamp': String(ts), 'X-Sidecar-Signature': sign(ts, body) };
  const ok = await post(body, headers);
  expect(ok.status).toBe(200);
  expect(ok.json.messages.find((m: any) => m.op === 'done')).toMatchObject({ id, status: 'complete' });
  expect(await statusOf()).toBe('complete');
  const replay = await post(body, headers);
  expect(replay.status).toBe(401);
  const logs = await rows(`SELECT message FROM ${MAIN}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id]);
  expect(logs.map((l: any) => l.message)).toEqual(['action created', 'action started via Sidecar', 'action complete via Sidecar']);
});

test('malformed body with a valid signature is a 400', async () => {
  const body = '{"op":"batch"}';
  const ts = Math.floor(Date.now() / 1000);
  const r = await post(body, { 'X-Sidecar-Timestamp': String(ts), 'X-Sidecar-Signature': sign(ts, body) });
  expect(r.status).toBe(400);
});
