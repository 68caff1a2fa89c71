// A multisite network: the sidecar finds every site and runs each site's actions in its own tables, with workers
// bound to that site (so its plugins and options are the site's own).
import { installSite, php, rows, startSidecar, exited, dropPrefix } from '../helpers/stack';

const BASE = 'tms_';
const MS = { WP_MULTISITE: '1' };
const HOST = "$_SERVER['HTTP_HOST'] = '127.0.0.1';"; // the network's domain (see wp-config.php of the stack)
const onSite = (path: string, code: string) => php(BASE, code, MS, `${HOST} $_SERVER['REQUEST_URI'] = '${path}';`);

beforeAll(async () => {
  await dropPrefix(BASE);
  installSite(BASE);
  // Turn the single site into a network, as wp-admin/network.php does, then add a subdirectory site.
  php(
    BASE,
    `require_once ABSPATH . 'wp-admin/includes/upgrade.php'; require_once ABSPATH . 'wp-admin/includes/network.php';
    global $wpdb; foreach ($wpdb->tables('ms_global') as $table => $prefixed) { $wpdb->$table = $prefixed; }
    install_network(); $r = populate_network(1, '127.0.0.1', 'admin@example.test', 'Test network', '/', false); if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message()); exit(1); }`,
    {},
    HOST,
  );
  onSite(
    '/',
    `require_once ABSPATH . 'wp-admin/includes/plugin.php';
    activate_plugin('sidecar-scheduler/sidecar-scheduler.php', '', true);
    $id = wpmu_create_blog(DOMAIN_CURRENT_SITE, '/site2/', 'Site 2', 1);
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }`,
  );
  for (const path of ['/', '/site2/']) {
    onSite(
      path,
      `global $wpdb; do_action('admin_init'); SidecarScheduler\\Store\\Schema::maybe_install(true);
      $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
      for ($i = 0; $i < 30; $i++) { as_enqueue_async_action('sidecar_test_count', array($i), 'ms'); }`,
    );
  }
}, 120000);

test('each site has its own queue tables', async () => {
  const t = await rows(`SHOW TABLES LIKE 'tms\\_2\\_actionscheduler\\_actions'`);
  expect(t.length).toBe(1);
});

test('one sidecar serves every site of the network, each in its own tables', async () => {
  const s = startSidecar(BASE, ['--once', '--workers=1'], MS);
  expect(await exited(s)).toBe(0);
  expect(s.output.join('')).toMatch(/"sites":2/);
  for (const prefix of [BASE, `${BASE}2_`]) {
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${prefix}sidecar_test_runs`);
    expect([prefix, Number(c.n), Number(c.d)]).toEqual([prefix, 30, 30]);
    const [l] = await rows(
      `SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_logs WHERE message = 'action complete via Sidecar'`,
    );
    expect(Number(l.n)).toBe(30);
  }
});
