// The signed runner route of the rest channel, with forged requests for each way a request can be wrong: 401 (or 409)
// and no row changes; a good one runs once. The HMAC covers timestamp, host, blog ID, route and body; replay records
// are kept network-wide until timestamp + window; a site's secret is created when first needed; a batch runs only
// actions pending under the claim it names.
import { createHmac } from 'node:crypto';
import { installSite, php, rows, dropPrefix, PREFIX_SITE, startSidecar, exited } from '../helpers/stack';

// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const PREFIX = `tfr${process.pid}_`;
// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const NET = `tfrm${process.pid}_`;
const ROUTE = '/sidecar-scheduler/v1/runner/execute';
const HOST = new URL(PREFIX_SITE).host;
const WINDOW = 300;
let secret: string;

const now = () => Math.floor(Date.now() / 1000);
const sign = (ts: number, body: string, o: { key?: string; host?: string; blog?: number; route?: string } = {}) =>
  createHmac('sha256', o.key ?? secret)
    .update(`${ts}\n${(o.host ?? HOST).toLowerCase()}\n${o.blog ?? 1}\n${o.route ?? ROUTE}\n${body}`)
    .digest('hex');
const headersFor = (ts: number, body: string, o: Parameters<typeof sign>[2] = {}) => ({
  'X-Sidecar-Timestamp': String(ts),
  'X-Sidecar-Signature': sign(ts, body, o),
});

async function post(body: string, headers: Record<string, string>) {
  const res = await fetch(`${PREFIX_SITE}/wp-json${ROUTE}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'X-WP-Table-Prefix': PREFIX, ...headers },
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

const enqueue = () =>
  Number(php(PREFIX, `echo as_schedule_single_action(time() - 1, 'sidecar_test_noop', array(uniqid()));`).trim());
const row = async (id: number) =>
  (await rows(`SELECT status, attempts, claim_id FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [id]))[0];
/** A claim of our own holding `id`, as the sidecar's claim leaves it. */
async function claim(id: number): Promise<number> {
  const out = php(
    PREFIX,
    `global $wpdb; $wpdb->insert($wpdb->actionscheduler_claims, array('date_created_gmt' => gmdate('Y-m-d H:i:s'))); $c = $wpdb->insert_id;
    $wpdb->update($wpdb->actionscheduler_actions, array('claim_id' => $c), array('action_id' => ${id})); echo $c;`,
  );
  return Number(out.trim());
}
const batch = (id: number, claimId: number) =>
  JSON.stringify({ op: 'batch', ids: [id], claim: claimId, context: 'Sidecar' });

afterAll(async () => {
  await dropPrefix(PREFIX);
  await dropPrefix(NET);
});

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  secret = php(PREFIX, `echo get_option('sidecar_scheduler_secret');`).trim();
});

test('a secret was generated on activation', () => {
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
});

describe('forged requests: 401, and the action stays pending with its claim and attempts unchanged', () => {
  let id: number;
  let claimId: number;
  beforeAll(async () => {
    id = enqueue();
    claimId = await claim(id);
  });
  test.each([
    ['no signature', () => ({})],
    ['a wrong key', (b: string, ts: number) => headersFor(ts, b, { key: 'wrong-key' })],
    ['a timestamp older than the window', (b: string) => headersFor(now() - WINDOW - 60, b)],
    ['a timestamp further ahead than the window', (b: string) => headersFor(now() + WINDOW + 60, b)],
    ['a signature over another body', (_b: string, ts: number) => headersFor(ts, '{"op":"clean"}')],
    ['a signature for another host', (b: string, ts: number) => headersFor(ts, b, { host: 'shop.example' })],
    ['a signature for another site of a network (blog 2)', (b: string, ts: number) => headersFor(ts, b, { blog: 2 })],
    [
      'a signature for another route',
      (b: string, ts: number) => headersFor(ts, b, { route: '/sidecar-scheduler/v1/overview' }),
    ],
    [
      'the old format (timestamp and body only)',
      (b: string, ts: number) => ({
        'X-Sidecar-Timestamp': String(ts),
        'X-Sidecar-Signature': createHmac('sha256', secret).update(`${ts}\n${b}`).digest('hex'),
      }),
    ],
  ])('%s', async (_name, headers) => {
    const body = batch(id, claimId);
    const r = await post(body, (headers as any)(body, now()));
    expect([r.status, r.json.code]).toEqual([401, 'sidecar_scheduler_bad_signature']);
    expect(await row(id)).toEqual({ status: 'pending', attempts: 0, claim_id: claimId });
  });
});

test('a good signature runs the batch once; the replay is refused and its record expires at timestamp + window', async () => {
  const id = enqueue();
  const claimId = await claim(id);
  const body = batch(id, claimId);
  const ts = now();
  const headers = headersFor(ts, body);
  const ok = await post(body, headers);
  expect(ok.status).toBe(200);
  expect(ok.json.messages.find((m: any) => m.op === 'done')).toMatchObject({ id, status: 'complete' });
  expect((await row(id)).status).toBe('complete');
  const replay = await post(body, headers);
  expect([replay.status, replay.json.code]).toEqual([401, 'sidecar_scheduler_bad_signature']);
  const logs = await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
    id,
  ]);
  expect(logs.map((l: any) => l.message)).toEqual([
    'action created',
    'action started via Sidecar',
    'action complete via Sidecar',
  ]);
  const [record] = await rows(`SELECT option_value FROM ${PREFIX}options WHERE option_name = ?`, [
    `_sidecar_sig_${headers['X-Sidecar-Signature'].slice(0, 40)}`,
  ]);
  expect(Number(record.option_value)).toBe(ts + WINDOW);
});

test('a request from a clock ahead by most of the window stays unreplayable for its whole validity', async () => {
  const ts = now() + WINDOW - 20;
  const body = JSON.stringify({ op: 'settings' });
  const headers = headersFor(ts, body);
  expect((await post(body, headers)).status).toBe(200);
  // Records are pruned when their timestamp + window has passed; this one is kept until ts + window, so the replay
  // is still refused after "accepted + window" would have expired it.
  await rows(
    `INSERT IGNORE INTO ${PREFIX}options (option_name, option_value, autoload) VALUES ('_sidecar_sig_stale_test', ?, 'no')`,
    [String(now() - 1)],
  );
  const other = JSON.stringify({ op: 'settings', n: 2 });
  expect((await post(other, headersFor(now(), other))).status).toBe(200);
  expect(await rows(`SELECT 1 FROM ${PREFIX}options WHERE option_name = '_sidecar_sig_stale_test'`)).toEqual([]);
  expect((await post(body, headers)).status).toBe(401);
});

test('a batch runs only actions pending under the claim it names: unclaimed, claimed by another, or no claim: 409, nothing runs', async () => {
  const id = enqueue();
  for (const claimId of [0, 987654321]) {
    const body = batch(id, claimId);
    const r = await post(body, headersFor(now(), body));
    expect([r.status, r.json.code]).toEqual([409, 'sidecar_scheduler_not_claimed']);
  }
  const theirs = await claim(id);
  const mine = theirs + 1000;
  const body = batch(id, mine);
  expect((await post(body, headersFor(now(), body))).status).toBe(409);
  expect(await row(id)).toEqual({ status: 'pending', attempts: 0, claim_id: theirs });
  const good = batch(id, theirs);
  const r = await post(good, headersFor(now(), good));
  expect(r.json.messages.find((m: any) => m.op === 'done')).toMatchObject({ id, status: 'complete' });
});

test('fail over the route fails only an action in progress under the claim that ran it, never a pending one', async () => {
  const id = enqueue();
  const claimId = await claim(id);
  const fail = JSON.stringify({ op: 'fail', id, claim: claimId, reason: 'timeout', seconds: 300 });
  const r = await post(fail, headersFor(now(), fail));
  expect(r.json.messages.find((m: any) => m.op === 'failed')).toMatchObject({ id, changed: false });
  expect(await row(id)).toEqual({ status: 'pending', attempts: 0, claim_id: claimId });
  await rows(`UPDATE ${PREFIX}actionscheduler_actions SET status = 'in-progress', attempts = 1 WHERE action_id = ?`, [
    id,
  ]);
  const other = JSON.stringify({ op: 'fail', id, claim: claimId + 1, reason: 'timeout', seconds: 300 });
  expect((await post(other, headersFor(now(), other))).json.messages.find((m: any) => m.op === 'failed')).toMatchObject(
    { id, changed: false },
  );
  const again = JSON.stringify({ op: 'fail', id, claim: claimId, reason: 'timeout', seconds: 300, n: 2 });
  expect((await post(again, headersFor(now(), again))).json.messages.find((m: any) => m.op === 'failed')).toMatchObject(
    { id, changed: true },
  );
  expect((await row(id)).status).toBe('failed');
  const logs = await rows(
    `SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id DESC LIMIT 1`,
    [id],
  );
  expect(logs[0].message).toMatch(/^action marked as failed after 300 seconds/);
});

test('malformed body with a valid signature is a 400', async () => {
  const body = '{"op":"batch"}';
  const r = await post(body, headersFor(now(), body));
  expect(r.status).toBe(400);
});

test('a site without a secret: the sidecar creates it when first needed and drains (before, it exited)', async () => {
  php(PREFIX, `delete_option('sidecar_scheduler_secret');`);
  const ids = [enqueue(), enqueue(), enqueue()];
  const s = startSidecar(PREFIX, [
    '--once',
    '--channel=rest',
    `--url=${PREFIX_SITE}`,
    `--rest-headers=X-WP-Table-Prefix: ${PREFIX}`,
    '--workers=1',
  ]);
  expect(await exited(s)).toBe(0);
  for (const id of ids) expect((await row(id)).status).toBe('complete');
  const created = php(PREFIX, `echo get_option('sidecar_scheduler_secret');`).trim();
  expect(created).toMatch(/^[0-9a-f]{64}$/);
  expect(created).not.toBe(secret);
  secret = created;
});

describe('a multisite network', () => {
  const MS = { WP_MULTISITE: '1' };
  const onSite = (path: string, code: string) =>
    php(NET, code, MS, `$_SERVER['HTTP_HOST'] = '127.0.0.1'; $_SERVER['REQUEST_URI'] = '${path}';`);
  /** Dispatches a signed request inside WordPress on the site at `path` (the shared nginx cannot serve a network of its own). */
  const dispatch = (path: string, key: string, blog: number, body: string, ts = now()) =>
    JSON.parse(
      onSite(
        path,
        `
    $r = new WP_REST_Request('POST', '${ROUTE}');
    $r->set_header('content-type', 'application/json');
    $r->set_header('X-Sidecar-Timestamp', '${ts}');
    $r->set_header('X-Sidecar-Signature', '${createHmac('sha256', key).update(`${ts}\n127.0.0.1\n${blog}\n${ROUTE}\n${body}`).digest('hex')}');
    $r->set_body(${JSON.stringify(body).replace(/\$/g, '\\$')});
    $res = rest_do_request($r); echo wp_json_encode(array('status' => $res->get_status(), 'code' => $res->is_error() ? $res->as_error()->get_error_code() : ''));`,
      )
        .trim()
        .split('\n')
        .pop()!,
    );

  beforeAll(async () => {
    await dropPrefix(NET);
    installSite(NET);
    php(
      NET,
      `require_once ABSPATH . 'wp-admin/includes/upgrade.php'; require_once ABSPATH . 'wp-admin/includes/network.php';
      global $wpdb; foreach ($wpdb->tables('ms_global') as $table => $prefixed) { $wpdb->$table = $prefixed; }
      install_network(); $r = populate_network(1, '127.0.0.1', 'admin@example.test', 'Test network', '/', false); if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message()); exit(1); }`,
      {},
      `$_SERVER['HTTP_HOST'] = '127.0.0.1';`,
    );
    // Network activation: the activation hook runs on the main site only, so site 2 starts without a secret.
    onSite(
      '/',
      `require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('sidecar-scheduler/sidecar-scheduler.php', '', true);
      $id = wpmu_create_blog(DOMAIN_CURRENT_SITE, '/site2/', 'Site 2', 1); if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }`,
    );
  }, 120000);

  test('site 2 has no secret after network activation; it is created when first needed, once', async () => {
    expect(await rows(`SELECT 1 FROM ${NET}2_options WHERE option_name = 'sidecar_scheduler_secret'`)).toEqual([]);
    const first = onSite('/site2/', `echo SidecarScheduler\\Rest\\Signature::secret();`).trim();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(onSite('/site2/', `echo SidecarScheduler\\Rest\\Signature::secret();`).trim()).toBe(first);
    const main = onSite('/', `echo SidecarScheduler\\Rest\\Signature::secret();`).trim();
    expect(main).not.toBe(first);
  });

  test('a request is bound to its site, and its replay record is network-wide', async () => {
    const key2 = onSite('/site2/', `echo SidecarScheduler\\Rest\\Signature::secret();`).trim();
    const body = JSON.stringify({ op: 'settings' });
    const ts = now();
    expect(dispatch('/site2/', key2, 1, body, ts)).toEqual({ status: 401, code: 'sidecar_scheduler_bad_signature' }); // signed for blog 1
    expect(dispatch('/site2/', key2, 2, body, ts)).toEqual({ status: 200, code: '' });
    expect(dispatch('/site2/', key2, 2, body, ts)).toEqual({ status: 401, code: 'sidecar_scheduler_bad_signature' }); // replayed
    const sig = createHmac('sha256', key2).update(`${ts}\n127.0.0.1\n2\n${ROUTE}\n${body}`).digest('hex');
    expect(
      await rows(`SELECT option_value FROM ${NET}options WHERE option_name = ?`, [`_sidecar_sig_${sig.slice(0, 40)}`]),
    ).toEqual([{ option_value: String(ts + WINDOW) }]);
    expect(await rows(`SELECT 1 FROM ${NET}2_options WHERE option_name LIKE '\\_sidecar\\_sig\\_%'`)).toEqual([]);
  });
});
