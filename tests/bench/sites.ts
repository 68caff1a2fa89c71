// The benchmark's sites, one table prefix each (all start with "tb"): the real library alone, ours beside a plugin
// that bundles the library (companion mode, as on a WooCommerce site), and ours alone (standalone).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { installSite, php, dropPrefix, DOCROOT, ROOT, LIBRARY, OURS, BUNDLER_AFTER } from '../helpers/stack';

export type Mode = 'library' | 'companion' | 'standalone';
export interface Site {
  mode: Mode;
  prefix: string;
}

export const SITES: Record<Mode, Site> = {
  library: { mode: 'library', prefix: 'tblib_' },
  companion: { mode: 'companion', prefix: 'tbcomp_' },
  standalone: { mode: 'standalone', prefix: 'tbstd_' },
};
export const PLUGINS: Record<Mode, string[]> = {
  library: [LIBRARY],
  companion: [OURS, BUNDLER_AFTER],
  standalone: [OURS],
};

/** Every PHP process the bench starts runs without WP-Cron, so no cron request of the bench's own competes. */
export const PHP_ENV = { WP_DISABLE_CRON: '1' };

/** The test mu-plugins the bench needs: the counting callbacks and the bench's own switches (tests/fixtures). */
export function linkMuPlugins() {
  for (const [file, as] of [
    ['sidecar-test-hooks.php', 'sidecar-test-hooks.php'],
    ['bench-mu.php', 'tb-bench-mu.php'],
  ]) {
    execFileSync('ln', ['-sfn', join(ROOT, 'tests/fixtures', file), join(DOCROOT, 'wp-content/mu-plugins', as)]);
  }
}

/** A fresh site: tables dropped, WordPress installed with the mode's plugins, the counting tables created. */
export async function prepareSite(prefix: string, mode: Mode) {
  await dropPrefix(prefix);
  installSite(prefix, PLUGINS[mode]);
  php(
    prefix,
    `global $wpdb;
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_latency (id bigint unsigned auto_increment primary key, ms double)");
    // On the library's site, its runner may hold two claims at once, so that two processes can drain together
    // (elsewhere the filter keeps its default: the sidecar reads it).
    ${mode === 'library' ? "update_option('tb_bench_concurrent_batches', 2);" : "delete_option('tb_bench_concurrent_batches');"}
    as_enqueue_async_action('sidecar_test_noop', array(), 'bench');
    echo json_encode(array('store' => get_class(ActionScheduler::store())));`,
    PHP_ENV,
  );
}

/** The class of the store the site's PHP runs on: the library's in library and companion mode, ours standalone. */
export function storeClass(prefix: string): string {
  return php(prefix, 'echo get_class(ActionScheduler::store());', PHP_ENV).trim().split('\n').pop()!;
}
