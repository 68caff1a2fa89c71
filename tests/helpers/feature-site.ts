// Helpers of the insight, Site Health, batch, alert and WP-Cron tests: the features fixture mu-plugin, and the admin REST
// API of a test's own site (the prefix server, an application password of its admin).
import { php, PREFIX_SITE, linkIntoDocroot } from './stack';

/** Links tests/fixtures/feature-tests-mu.php into mu-plugins (inert on sites without its tables). */
export const linkFeatureFixture = () =>
  linkIntoDocroot('tests/fixtures/feature-tests-mu.php', 'wp-content/mu-plugins/sidecar-test-features.php');

/** Creates the fixture's tables on this site: captured mail, counted item runs, batch completions. */
export function createFeatureTables(prefix: string) {
  php(
    prefix,
    `global $wpdb;
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}h6_mail (id bigint unsigned auto_increment primary key, recipients text, subject text, body longtext, at timestamp(3) default current_timestamp(3))");
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}h6_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}h6_batch_done (id bigint unsigned auto_increment primary key, batch_id bigint, status varchar(20), done int, failed int, canceled int, total int, pid int)");`,
  );
}

/** A JSON client of this site's REST API as its admin (Basic auth with a fresh application password). */
export function siteApi(prefix: string) {
  const pass = php(
    prefix,
    `$u = get_user_by('login', 'admin'); list($p) = WP_Application_Passwords::create_new_application_password($u->ID, array('name' => 'h6 ' . microtime(true))); echo $p;`,
  ).trim();
  const auth = 'Basic ' + Buffer.from(`admin:${pass}`).toString('base64');
  return async (path: string, init: { method?: string; body?: unknown; anonymous?: boolean } = {}) => {
    const res = await fetch(`${PREFIX_SITE}/wp-json${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'content-type': 'application/json',
        'X-WP-Table-Prefix': prefix,
        ...(init.anonymous ? {} : { authorization: auth }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
}
