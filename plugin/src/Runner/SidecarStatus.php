<?php
/** Whether a sidecar serves this site: a heartbeat row fresher than the stale threshold. Cached per request. */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the sidecar heartbeat table is a custom table whose rows change every few seconds; the result is cached per request instead.

final class SidecarStatus {
	private static $alive = null;

	public static function is_alive() {
		global $wpdb;
		if ( null === self::$alive ) {
			$table = $wpdb->prefix . Contract::TABLE_HEARTBEATS;
			// Suppress errors: before activation the table may not exist, and that simply means "no sidecar".
			$suppress = $wpdb->suppress_errors( true );
			$count    = (int) $wpdb->get_var(
				$wpdb->prepare( "SELECT COUNT(*) FROM {$table} WHERE last_seen_gmt >= %s", gmdate( 'Y-m-d H:i:s', time() - Contract::DEFAULT_HEARTBEAT_STALE_SECONDS ) ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names from $wpdb->prefix and our constants (identifiers cannot be placeholders); every value is a placeholder.
			);
			$wpdb->suppress_errors( $suppress );
			self::$alive = apply_filters( 'sidecar_scheduler_sidecar_alive', $count > 0 );
		}
		return self::$alive;
	}

	public static function reset() {
		self::$alive = null;
	}
}
