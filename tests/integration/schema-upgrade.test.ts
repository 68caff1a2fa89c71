// Schema upgrades: they run from WP-CLI, admin screens or the sidecar's worker, never from a front-end request; one
// process at a time (a named lock); the version option moves only once every index is verified; a failed one is
// recorded, shown in the admin screen's warnings and in Site Health, and retried until it is fixed.
import mysql from 'mysql2/promise';
import {
  installSite,
  php,
  phpJson,
  rows,
  dropPrefix,
  wp,
  PREFIX_SITE,
  SOCKET,
  DB,
  startSidecar,
  exited,
} from '../helpers/stack';
import { contract } from '../../src-worker/contract';

/** The schema version of this plugin (5 since the heartbeat table's rename, 6 since the cleaner's index). */
const CURRENT = String(contract.schema.SIDECAR_VERSION);

// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const PREFIX = `tfu${process.pid}_`;
const A = `${PREFIX}actionscheduler_actions`;
const option = (name: string) => php(PREFIX, `echo get_option('${name}');`).trim();
const hasIndex = async (name: string) => (await rows(`SHOW INDEX FROM ${A} WHERE Key_name = ?`, [name])).length > 0;
/** An older install of ours: the index is not there yet and the version option says 3. */
async function olderOwnSchema(index: string) {
  if (await hasIndex(index)) await rows(`ALTER TABLE ${A} DROP INDEX ${index}`);
  php(PREFIX, `update_option('sidecar_scheduler_schema', 3); delete_transient('sidecar_scheduler_schema_retry');`);
}
const cli = (env: Record<string, string> = {}) => {
  const r = wp(PREFIX, ['sidecar-scheduler', 'status'], env);
  expect(r.code).toBe(0);
};

afterAll(async () => {
  await dropPrefix(PREFIX);
});

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

test('a front-end request never runs an upgrade; WP-CLI does, and verifies it', async () => {
  await olderOwnSchema('sidecar_group_date');
  php(PREFIX, `update_option('schema-ActionScheduler_StoreSchema', '6.0.1');`);
  expect((await fetch(`${PREFIX_SITE}/`, { headers: { 'X-WP-Table-Prefix': PREFIX } })).status).toBe(200);
  php(PREFIX, `do_action('init');`); // a plain PHP request (not admin, CLI or worker)
  expect([
    option('sidecar_scheduler_schema'),
    option('schema-ActionScheduler_StoreSchema'),
    await hasIndex('sidecar_group_date'),
  ]).toEqual(['3', '6.0.1', false]);
  cli();
  expect(option('sidecar_scheduler_schema')).toBe(CURRENT);
  expect(option('schema-ActionScheduler_StoreSchema')).toMatch(/^7\.0\.\d+$/);
  expect(await hasIndex('sidecar_group_date')).toBe(true);
  expect(option('sidecar_scheduler_schema_error')).toBe('');
});

test('one process at a time: while another holds the schema lock, an upgrade is skipped, not run twice', async () => {
  await olderOwnSchema('sidecar_status_group');
  const c = await mysql.createConnection({ socketPath: SOCKET, user: 'root', database: DB });
  try {
    const [[got]] = await c.query<any[]>('SELECT GET_LOCK(?, 0) AS got', [`${DB}.${PREFIX}sidecar_schema`]);
    expect(Number(got.got)).toBe(1);
    cli();
    expect([option('sidecar_scheduler_schema'), await hasIndex('sidecar_status_group')]).toEqual(['3', false]);
  } finally {
    await c.query('SELECT RELEASE_LOCK(?)', [`${DB}.${PREFIX}sidecar_schema`]);
    await c.end();
  }
  cli();
  expect([option('sidecar_scheduler_schema'), await hasIndex('sidecar_status_group')]).toEqual([CURRENT, true]);
});

test('a failed index: the version stays, the failure is shown in the admin warnings and Site Health, and a retry fixes it', async () => {
  await olderOwnSchema('sidecar_claim');
  cli({ SIDECAR_TEST_FAIL_INDEX: 'sidecar_claim' });
  expect([option('sidecar_scheduler_schema'), await hasIndex('sidecar_claim')]).toEqual(['3', false]);
  const error = phpJson(PREFIX, `echo wp_json_encode(get_option('sidecar_scheduler_schema_error'));`);
  expect(error.missing).toEqual(['actionscheduler_actions.sidecar_claim']);
  expect(error.error).toMatch(/sidecar_test_no_such_table/);
  const shown = () =>
    phpJson(
      PREFIX,
      `$w = wp_list_filter(SidecarScheduler\\Admin\\Health::overview()['warnings'], array('code' => 'schema'));
    $tests = apply_filters('site_status_tests', array()); $h = call_user_func($tests['direct']['sidecar_scheduler_schema']['test']);
    echo wp_json_encode(array('warning' => array_values($w), 'health' => $h['status']));`,
    );
  const failed = shown();
  expect(failed.health).toBe('critical');
  expect(failed.warning).toHaveLength(1);
  expect(failed.warning[0].message).toMatch(/actionscheduler_actions\.sidecar_claim missing/);
  // Retried, but not on every request: within the retry period nothing runs; after it, the next CLI run fixes it.
  cli();
  expect(option('sidecar_scheduler_schema')).toBe('3');
  php(PREFIX, `delete_transient('sidecar_scheduler_schema_retry');`);
  cli();
  expect([option('sidecar_scheduler_schema'), await hasIndex('sidecar_claim')]).toEqual([CURRENT, true]);
  expect(shown()).toEqual({ warning: [], health: 'good' });
});

/** Our schema 4: the heartbeat table was sidecar_workers with a worker_id column; one live row in it. */
async function heartbeatTableOfSchema4() {
  const H = `${PREFIX}sidecar_heartbeats`;
  await rows(`DROP TABLE IF EXISTS ${PREFIX}sidecar_workers`);
  await rows(`DELETE FROM ${H}`);
  await rows(
    `INSERT INTO ${H} (sidecar_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt, running) VALUES ('h5host:1:2@${PREFIX}', 'h5host', 1, '0.1.0', 'php', 2, UTC_TIMESTAMP(), UTC_TIMESTAMP(), '[]')`,
  );
  await rows(`ALTER TABLE ${H} CHANGE sidecar_id worker_id varchar(100) NOT NULL, RENAME TO ${PREFIX}sidecar_workers`);
  php(PREFIX, `update_option('sidecar_scheduler_schema', 4); delete_transient('sidecar_scheduler_schema_retry');`);
}
const tables = async () =>
  (await rows(`SHOW TABLES LIKE ?`, [`${PREFIX.replace(/_/g, '\\_')}sidecar\\_%`]))
    .map((r: any) => String(Object.values(r)[0]).slice(PREFIX.length))
    .filter((t) => ['sidecar_heartbeats', 'sidecar_stats', 'sidecar_workers'].includes(t))
    .sort();

test('schema 5 renames the heartbeat table (sidecar_workers -> sidecar_heartbeats, worker_id -> sidecar_id) under the lock, keeping its rows, and the plugin reads it', async () => {
  await heartbeatTableOfSchema4();
  expect(await tables()).toEqual(['sidecar_stats', 'sidecar_workers']);
  // Under another holder of the schema lock nothing is renamed and the version stays.
  const c = await mysql.createConnection({ socketPath: SOCKET, user: 'root', database: DB });
  try {
    await c.query('SELECT GET_LOCK(?, 0)', [`${DB}.${PREFIX}sidecar_schema`]);
    cli();
    expect([option('sidecar_scheduler_schema'), await tables()]).toEqual(['4', ['sidecar_stats', 'sidecar_workers']]);
  } finally {
    await c.query('SELECT RELEASE_LOCK(?)', [`${DB}.${PREFIX}sidecar_schema`]);
    await c.end();
  }
  cli();
  expect([option('sidecar_scheduler_schema'), await tables()]).toEqual([
    CURRENT,
    ['sidecar_heartbeats', 'sidecar_stats'],
  ]);
  const cols = (await rows(`SHOW COLUMNS FROM ${PREFIX}sidecar_heartbeats`)).map((r: any) => r.Field);
  expect(cols).toEqual([
    'sidecar_id',
    'host',
    'pid',
    'version',
    'channel',
    'concurrency',
    'started_gmt',
    'last_seen_gmt',
    'running',
  ]);
  const keys = (await rows(`SHOW INDEX FROM ${PREFIX}sidecar_heartbeats`)).map(
    (r: any) => `${r.Key_name}:${r.Column_name}`,
  );
  expect(keys).toEqual(['PRIMARY:sidecar_id', 'last_seen_gmt:last_seen_gmt']);
  expect(
    (await rows(`SELECT sidecar_id, host, concurrency FROM ${PREFIX}sidecar_heartbeats`)).map((r: any) => [
      r.sidecar_id,
      r.host,
      Number(r.concurrency),
    ]),
  ).toEqual([[`h5host:1:2@${PREFIX}`, 'h5host', 2]]);
  // The plugin reads the renamed table: the row (seen just now) counts as a live sidecar.
  await rows(`UPDATE ${PREFIX}sidecar_heartbeats SET last_seen_gmt = UTC_TIMESTAMP()`);
  expect(php(PREFIX, `echo SidecarScheduler\\Runner\\SidecarStatus::is_alive() ? 'alive' : 'none';`).trim()).toBe(
    'alive',
  );
  expect(option('sidecar_scheduler_schema_error')).toBe('');
});

test('when both tables exist (an earlier attempt made the new one), the old one is dropped and the version moves', async () => {
  await heartbeatTableOfSchema4();
  await rows(`CREATE TABLE ${PREFIX}sidecar_heartbeats LIKE ${PREFIX}sidecar_workers`);
  await rows(`ALTER TABLE ${PREFIX}sidecar_heartbeats CHANGE worker_id sidecar_id varchar(100) NOT NULL`);
  cli();
  expect([option('sidecar_scheduler_schema'), await tables()]).toEqual([
    CURRENT,
    ['sidecar_heartbeats', 'sidecar_stats'],
  ]);
});

test("schema 6 adds the cleaner's index (status, last_attempt_gmt), which the pass's selection then reads; a sidecar still starts on schema 5", async () => {
  if (await hasIndex('sidecar_status_attempt')) await rows(`ALTER TABLE ${A} DROP INDEX sidecar_status_attempt`);
  php(PREFIX, `update_option('sidecar_scheduler_schema', 5); delete_transient('sidecar_scheduler_schema_retry');`);
  // Before the upgrade: the sidecar needs only schema 5 (the heartbeat table), so a restart after a plugin update,
  // before anyone ran the upgrade, does not stop it (its worker then runs the upgrade).
  const once = startSidecar(PREFIX, ['--once', '--workers=1']);
  expect(await exited(once, 120000)).toBe(0);
  expect(option('sidecar_scheduler_schema')).toBe(CURRENT);
  expect(await hasIndex('sidecar_status_attempt')).toBe(true);
  // The cleaner's candidate read (Store\MaintenanceChunks) is one range of the new index.
  const [plan] = await rows(
    `EXPLAIN SELECT action_id FROM ${A} WHERE status = 'complete' AND last_attempt_gmt <= '2026-01-01 00:00:00' LIMIT 500`,
  );
  expect(plan.key).toBe('sidecar_status_attempt');
});
