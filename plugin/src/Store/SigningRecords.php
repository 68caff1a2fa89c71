<?php
/**
 * SQL of the runner route's signing (Rest\Signature): the site's secret and the network's replay records, both rows
 * of an options table written with INSERT IGNORE on the option's unique name, so that the first writer wins.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the secret and the replay nonces need atomic INSERT IGNORE on the options table (first writer wins) and reads that bypass the options cache.

/**
 * The secret's and the replay records' rows.
 */
final class SigningRecords {

	/**
	 * Stores $secret as the site's secret unless it has one (the sidecar may create it at the same moment; add_option()
	 * would overwrite the other's). Not autoloaded.
	 *
	 * @param string $secret A new random secret.
	 * @return void
	 */
	public static function add_secret_unless_set( $secret ) {
		global $wpdb;
		$wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", Contract::OPTION_SECRET, $secret ) );
	}

	/**
	 * The site's secret as stored in the table, not the options cache (which may remember it as missing).
	 *
	 * @return string '' when there is none.
	 */
	public static function stored_secret() {
		global $wpdb;
		return (string) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", Contract::OPTION_SECRET ) );
	}

	/**
	 * Deletes up to 200 replay records that expired before $now (bounded, so one request never deletes for long; the
	 * rest go with the next requests).
	 *
	 * @param int $now Unix time.
	 * @return void
	 */
	public static function forget_expired_replays( $now ) {
		global $wpdb;
		$table = self::replay_table();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is WordPress' own.
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE option_name LIKE %s AND CAST(option_value AS UNSIGNED) < %d LIMIT 200", $wpdb->esc_like( Contract::REST_REPLAY_OPTION_PREFIX ) . '%', $now ) );
	}

	/**
	 * Records a signature until $expires. The INSERT IGNORE is on the unique option name, so of two concurrent
	 * requests with the same signature exactly one inserts.
	 *
	 * @param string $signature The signature (its first 40 characters name the record).
	 * @param int    $expires   Unix time at which the record may be deleted.
	 * @return bool False when the signature was recorded before.
	 */
	public static function remember_replay( $signature, $expires ) {
		global $wpdb;
		$table = self::replay_table();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is WordPress' own.
		return (bool) $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$table} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", Contract::REST_REPLAY_OPTION_PREFIX . substr( $signature, 0, 40 ), (string) $expires ) );
	}

	/**
	 * The main site's options table: one replay table for the whole network.
	 *
	 * @return string
	 */
	private static function replay_table() {
		global $wpdb;
		return $wpdb->base_prefix . 'options';
	}
}
