// plugin/uninstall.php, run the way WordPress runs it: the plugin deactivated first, then uninstall_plugin() in a
// request that no longer loads it. The action tables are shared with every copy of Action Scheduler: they go only when
// the owner opted in (option sidecar_scheduler_delete_data) and no other copy is loaded; our own tables and options
// always go. uninstall_plugin() only runs uninstall.php; it never deletes the plugin's files.
import { installSite, php, rows, dropPrefix, LIBRARY, OURS } from '../helpers/stack';

const base = `h4a_u${process.pid % 1000}`;
const QUEUE = ['actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups', 'actionscheduler_logs'];
const OWN = ['sidecar_heartbeats', 'sidecar_stats'];

async function tables(prefix: string): Promise<string[]> {
  const r = await rows<Record<string, string>>('SHOW TABLES LIKE ?', [prefix.replace(/_/g, '\\_') + '%']);
  return r
    .map((t) => Object.values(t)[0].slice(prefix.length))
    .filter((t) => QUEUE.includes(t) || OWN.includes(t))
    .sort();
}

/** Installs a site with `plugins`, stores one pending action, sets the opt-in, then deactivates ours and uninstalls it. */
async function uninstallOn(prefix: string, plugins: string[], optIn: boolean) {
  await dropPrefix(prefix);
  installSite(prefix, plugins);
  php(
    prefix,
    `as_schedule_single_action(time() + 3600, 'h4a_uninstall_keep', array(7)); update_option('sidecar_scheduler_settings', array('x' => 1));`,
  );
  if (optIn) php(prefix, `update_option('sidecar_scheduler_delete_data', 1);`);
  // Two requests, as in WordPress: deactivation, then the uninstall request, which no longer loads the plugin.
  php(prefix, `require_once ABSPATH . 'wp-admin/includes/plugin.php'; deactivate_plugins('${OURS}');`);
  expect(
    php(prefix, `echo function_exists('sidecar_scheduler_register_compat_autoloader') ? 'loaded' : 'not loaded';`),
  ).toBe('not loaded');
  php(prefix, `require_once ABSPATH . 'wp-admin/includes/plugin.php'; uninstall_plugin('${OURS}');`);
}

const options = (prefix: string) =>
  JSON.parse(
    php(
      prefix,
      `echo wp_json_encode(array(get_option('sidecar_scheduler_delete_data', 'gone'), get_option('sidecar_scheduler_settings', 'gone'), get_option('schema-ActionScheduler_StoreSchema', 'gone')));`,
    ).trim(),
  );

const sites: string[] = [];
afterAll(async () => {
  for (const p of sites) await dropPrefix(p);
});

test('not opted in: the queue tables and their rows stay; our own tables and options go', async () => {
  const prefix = `${base}a_`;
  sites.push(prefix);
  await uninstallOn(prefix, [OURS], false);
  expect(await tables(prefix)).toEqual([...QUEUE].sort());
  expect(await rows(`SELECT hook, args, status FROM ${prefix}actionscheduler_actions`)).toEqual([
    { hook: 'h4a_uninstall_keep', args: '[7]', status: 'pending' },
  ]);
  const [optIn, settings, schema] = options(prefix);
  expect([optIn, settings]).toEqual(['gone', 'gone']);
  expect(schema).toMatch(/^7\./); // the library's schema option stays with its tables
});

test('opted in with no other copy of Action Scheduler: every table and the schema options go', async () => {
  const prefix = `${base}b_`;
  sites.push(prefix);
  await uninstallOn(prefix, [OURS], true);
  expect(await tables(prefix)).toEqual([]);
  expect(options(prefix)).toEqual(['gone', 'gone', 'gone']);
});

test('opted in while another copy of Action Scheduler is active: the queue tables stay, and that copy keeps working', async () => {
  const prefix = `${base}c_`;
  sites.push(prefix);
  await uninstallOn(prefix, [LIBRARY, OURS], true);
  expect(await tables(prefix)).toEqual([...QUEUE].sort());
  expect(
    await rows(`SELECT hook, status FROM ${prefix}actionscheduler_actions WHERE hook = 'h4a_uninstall_keep'`),
  ).toEqual([{ hook: 'h4a_uninstall_keep', status: 'pending' }]);
  expect(options(prefix)[0]).toBe('gone');
  // The library, still active, reads the kept row and stores new ones in the kept tables.
  const out = php(
    prefix,
    `echo wp_json_encode(array(as_has_scheduled_action('h4a_uninstall_keep'), as_enqueue_async_action('h4a_uninstall_after') > 0));`,
  ).trim();
  expect(JSON.parse(out)).toEqual([true, true]);
});
