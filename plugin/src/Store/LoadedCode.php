<?php
/**
 * SQL of the worker's code check (Runner\CodeFingerprint): the options that decide what code WordPress loads, read
 * fresh from the database on purpose, since a long-lived worker's options cache is what that check must not trust.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- read fresh from the database on purpose: a long-lived worker's options cache is what the code check must not trust.

/**
 * The options that decide what loads, as the database holds them now.
 */
final class LoadedCode {

	/**
	 * The site's active_plugins, template and stylesheet options, by name.
	 *
	 * @return array|null Rows array( name, value ) in name order; null when the database did not answer.
	 */
	public static function options() {
		global $wpdb;
		$rows = $wpdb->get_results( "SELECT option_name, option_value FROM {$wpdb->options} WHERE option_name IN ('active_plugins', 'template', 'stylesheet') ORDER BY option_name", ARRAY_N );
		return null === $rows || '' !== $wpdb->last_error ? null : $rows;
	}

	/**
	 * The network's active_sitewide_plugins (multisite).
	 *
	 * @param int $network_id Network ID.
	 * @return string|null The stored value, null when there is none (or the read failed).
	 */
	public static function sitewide_plugins( $network_id ) {
		global $wpdb;
		return $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->sitemeta} WHERE meta_key = 'active_sitewide_plugins' AND site_id = %d", $network_id ) );
	}
}
