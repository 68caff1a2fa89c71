// Runs tests/php/conformance.php in real WordPress on its own table prefix and checks every facts-sheet item it reports.
import { join } from 'node:path';
import { installSite, phpJson, dropPrefix, ROOT, rows } from '../helpers/stack';

const PREFIX = 'tconf_';
let results: Record<string, [unknown, unknown]>;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  results = phpJson(PREFIX, `require ${JSON.stringify(join(ROOT, 'tests/php/conformance.php'))};`);
});

test('the conformance script reported checks', () => {
  expect(Object.keys(results).length).toBeGreaterThan(60);
});


describe('facts sheet checks', () => {
  it('every check matches', () => {
    const failures = Object.entries(results).filter(([, [actual, expected]]) => JSON.stringify(actual) !== JSON.stringify(expected));
    expect(failures).toEqual([]);
  });
});

test('tables have the library schema and the claim index', async () => {
  const cols = await rows(`SHOW COLUMNS FROM ${PREFIX}actionscheduler_actions`);
  expect(cols.map((c: any) => `${c.Field} ${c.Type}`)).toEqual([
    'action_id bigint(20) unsigned', 'hook varchar(191)', 'status varchar(20)', 'scheduled_date_gmt datetime', 'scheduled_date_local datetime',
    'priority tinyint(3) unsigned', 'args varchar(191)', 'schedule longtext', 'group_id bigint(20) unsigned', 'attempts int(11)',
    'last_attempt_gmt datetime', 'last_attempt_local datetime', 'claim_id bigint(20) unsigned', 'extended_args varchar(8000)',
  ]);
  const idx = new Set((await rows(`SHOW INDEX FROM ${PREFIX}actionscheduler_actions`)).map((r: any) => r.Key_name));
  for (const k of ['hook_status_scheduled_date_gmt', 'status_scheduled_date_gmt', 'scheduled_date_gmt', 'args', 'group_id', 'last_attempt_gmt', 'claim_id_status_scheduled_date_gmt', 'sidecar_claim']) expect(idx.has(k)).toBe(true);
  const opts = await rows(`SELECT option_name, option_value FROM ${PREFIX}options WHERE option_name LIKE 'schema-ActionScheduler%'`);
  const byName = Object.fromEntries(opts.map((o: any) => [o.option_name, o.option_value]));
  expect(byName['schema-ActionScheduler_StoreSchema']).toMatch(/^7\.0\.\d+$/);
  expect(byName['schema-ActionScheduler_LoggerSchema']).toMatch(/^3\.0\.\d+$/);
});
