<?php
/**
 * Creates one of our own tables the first time a feature needs it, once per schema version: a site that never uses
 * the feature never gets the table or its option. The version option moves only once the table is seen to exist,
 * so a failed dbDelta is tried again by the next caller.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;

/**
 * Lazy creation of a feature's table.
 */
final class LazyTable {
	/**
	 * Runs dbDelta for `$table` unless `$version_option` already holds `$version`.
	 *
	 * @param string     $table          Full table name (with the site's prefix).
	 * @param string     $version_option Option that records the created schema version (autoloaded: hot paths read it).
	 * @param string|int $version        Schema version of `$columns`.
	 * @param string     $columns        The column and key definitions inside CREATE TABLE ( … ), in dbDelta's format.
	 * @return void
	 */
	public static function ensure( $table, $version_option, $version, $columns ) {
		global $wpdb;
		if ( (string) get_option( $version_option ) === (string) $version ) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		dbDelta( "CREATE TABLE {$table} (\n{$columns}\n) {$wpdb->get_charset_collate()}" );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- checks that our own table exists; no WordPress API does.
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $table ) ) ) === $table ) {
			update_option( $version_option, $version, true );
		}
	}
}
