// The setups test files repeat: a site made afresh for a file, the counting callback's table, the policy tests' site,
// the two modes' sites of the php tests, a multisite network and an admin's login cookies.
import { dropPrefix, installSite, linkPolicyFixture, php, rows, BUNDLER_AFTER, OURS, PREFIX_SITE } from './stack';

/** Drops whatever a previous run left under this prefix, then installs WordPress there with `plugins` active. */
export async function freshSite(prefix: string, plugins: string[] = [OURS]) {
  await dropPrefix(prefix);
  installSite(prefix, plugins);
}

/** The table of the test mu-plugin's `sidecar_test_count` callback: one row (n = its argument, pid) per run. */
export function createRunsTable(prefix: string) {
  php(
    prefix,
    `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
  );
}

/** A fresh site whose `sidecar_test_count` runs are counted in {prefix}sidecar_test_runs. */
export async function countingSite(prefix: string, plugins: string[] = [OURS]) {
  await freshSite(prefix, plugins);
  createRunsTable(prefix);
}

/** A fresh site for the policy fixture (its prefix must start with "h7"), with the table its callbacks record runs in. */
export async function policySite(prefix: string, plugins: string[]) {
  linkPolicyFixture();
  await freshSite(prefix, plugins);
  await rows(
    `CREATE TABLE ${prefix}h7_runs (id int auto_increment primary key, hook varchar(50), action_id bigint, n int, pid int, started double, ended double)`,
  );
}

/**
 * For a test file that runs each test in both modes: the standalone site (ours alone) and the companion site (the real
 * library bundled by a plugin loaded after ours, as WooCommerce does) are made afresh before its tests and dropped
 * after them.
 */
export function bothModeSites(sites: { readonly standalone: string; readonly companion: string }) {
  beforeAll(async () => {
    await freshSite(sites.standalone, [OURS]);
    await freshSite(sites.companion, [OURS, BUNDLER_AFTER]);
  });
  afterAll(async () => {
    for (const p of Object.values(sites)) await dropPrefix(p);
  });
}

/** The environment of a multisite run (the stack's wp-config.php turns multisite on with it). */
export const MULTISITE = { WP_MULTISITE: '1' };
const HOST = "$_SERVER['HTTP_HOST'] = '127.0.0.1';"; // the network's domain (see wp-config.php of the stack)

/** Runs PHP on the network of `base` for the site at `path` ('/' is the main site). */
export const onNetworkSite = (base: string, path: string, code: string) =>
  php(base, code, MULTISITE, `${HOST} $_SERVER['REQUEST_URI'] = '${path}';`);

/**
 * A fresh site under `base` turned into a network, as wp-admin/network.php does, with ours network-active and a
 * subdirectory site at `path`; every site has its queue tables and the counting callback's table.
 */
export async function countingNetwork(base: string, site: { path: string; title: string }) {
  await freshSite(base);
  php(
    base,
    `require_once ABSPATH . 'wp-admin/includes/upgrade.php'; require_once ABSPATH . 'wp-admin/includes/network.php';
    global $wpdb; foreach ($wpdb->tables('ms_global') as $table => $prefixed) { $wpdb->$table = $prefixed; }
    install_network(); $r = populate_network(1, '127.0.0.1', 'admin@example.test', 'Test network', '/', false); if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message()); exit(1); }`,
    {},
    HOST,
  );
  onNetworkSite(
    base,
    '/',
    `require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('sidecar-scheduler/sidecar-scheduler.php', '', true);
    $id = wpmu_create_blog(DOMAIN_CURRENT_SITE, ${JSON.stringify(site.path)}, ${JSON.stringify(site.title)}, 1);
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }`,
  );
  for (const path of ['/', site.path]) {
    onNetworkSite(
      base,
      path,
      `global $wpdb; do_action('admin_init'); SidecarScheduler\\Store\\Schema::maybe_install(true);
      $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
    );
  }
}

/** Logs in as admin on the prefix's site (the loopback server picks the site from X-WP-Table-Prefix); its cookies. */
export async function adminCookies(prefix: string): Promise<string> {
  const res = await fetch(`${PREFIX_SITE}/wp-login.php`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'X-WP-Table-Prefix': prefix,
      cookie: 'wordpress_test_cookie=WP%20Cookie%20check',
    },
    body: new URLSearchParams({ log: 'admin', pwd: 'admin', 'wp-submit': 'Log In', testcookie: '1' }).toString(),
  });
  expect(res.status).toBe(302);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}
