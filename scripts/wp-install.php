<?php
/**
 * Installs WordPress non-interactively (no WP-CLI here) and activates the plugin (or SIDECAR_INSTALL_PLUGINS). Idempotent.
 * Usage: php scripts/wp-install.php DOCROOT SITE_URL ADMIN_USER ADMIN_PASSWORD
 * The table prefix comes from WP_TABLE_PREFIX (wp-config.php reads it), so tests can install one site per prefix.
 */
if ( $argc < 5 ) {
	fwrite( STDERR, "usage: php wp-install.php DOCROOT SITE_URL ADMIN_USER ADMIN_PASSWORD\n" );
	exit( 2 );
}
list( , $docroot, $site_url, $admin_user, $admin_password ) = $argv;
$_SERVER['HTTP_HOST']   = parse_url( $site_url, PHP_URL_HOST ) . ':' . parse_url( $site_url, PHP_URL_PORT );
$_SERVER['REQUEST_URI'] = '/';
define( 'WP_INSTALLING', true );
define( 'WP_SITEURL', $site_url );
define( 'WP_HOME', $site_url );

// No MTA here: wp_install() would try to mail the admin.
function wp_mail() { return true; }

require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_blog_installed() ) {
	$result = wp_install( 'Sidecar Scheduler dev', $admin_user, 'admin@example.test', true, '', wp_slash( $admin_password ) );
	update_option( 'siteurl', $site_url );
	update_option( 'home', $site_url );
	update_option( 'permalink_structure', '/%postname%/' );
	update_option( 'timezone_string', 'Europe/Berlin' );
	echo "[stack] WordPress installed (prefix {$GLOBALS['table_prefix']})\n";
}
// A pretty permalink structure routes /wp-json/.
flush_rewrite_rules( false );

// SIDECAR_INSTALL_PLUGINS (comma-separated plugin files) picks what the site runs: the tests' reference site runs only
// the real Action Scheduler ('action-scheduler/action-scheduler.php'), companion sites run it beside ours.
$plugins = array_filter( array_map( 'trim', explode( ',', getenv( 'SIDECAR_INSTALL_PLUGINS' ) ?: 'sidecar-scheduler/sidecar-scheduler.php' ) ) );
foreach ( $plugins as $plugin ) {
	if ( 'action-scheduler/action-scheduler.php' === $plugin || false !== strpos( $plugin, 'as-bundler' ) ) {
		// The library starts a fresh site on its hybrid store and moves to its table store a minute later, after
		// migrating nothing; a fresh site has nothing to migrate, so start it where the migration would end.
		update_option( 'action_scheduler_migration_status', 'complete' );
	}
	if ( ! is_plugin_active( $plugin ) ) {
		$r = activate_plugin( $plugin );
		if ( is_wp_error( $r ) ) {
			fwrite( STDERR, "[stack] could not activate {$plugin}: " . $r->get_error_message() . "\n" );
			exit( 1 );
		}
		echo "[stack] {$plugin} activated\n";
	}
}
