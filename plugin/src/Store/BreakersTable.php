<?php
/**
 * Circuit breaker state per group ({prefix}sidecar_breakers), changed only by atomic UPDATEs so that workers of
 * every sidecar counting outcomes at the same time never lose a count, and only one of them records a transition.
 * The sidecar reads it inside its claim (under the group's lock) and moves an open breaker whose cool-down is over
 * to half-open when it claims the trial run.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;

/**
 * Schema and queries of {prefix}sidecar_breakers.
 */
final class BreakersTable {
	const VERSION_OPTION = 'sidecar_scheduler_breakers_schema';
	const VERSION        = '2';

	/**
	 * The table's name for this site.
	 *
	 * @return string
	 */
	public static function name() {
		global $wpdb;
		return $wpdb->prefix . 'sidecar_breakers';
	}

	/**
	 * Creates the table once a breaker policy exists.
	 *
	 * @return void
	 */
	public static function ensure() {
		LazyTable::ensure(
			self::name(),
			self::VERSION_OPTION,
			self::VERSION,
			"				group_slug varchar(191) NOT NULL,
				state varchar(12) NOT NULL default 'closed',
				consecutive int(10) unsigned NOT NULL default '0',
				inflight int(10) unsigned NOT NULL default '0',
				window_start bigint(20) NOT NULL default '0',
				window_runs int(10) unsigned NOT NULL default '0',
				window_failures int(10) unsigned NOT NULL default '0',
				opened_gmt datetime NULL,
				until_gmt datetime NULL,
				trial_gmt datetime NULL,
				opens int(10) unsigned NOT NULL default '0',
				reason varchar(255) NOT NULL default '',
				PRIMARY KEY  (group_slug)"
		);
	}

	/**
	 * Counts one outcome; returns the row after it.
	 *
	 * @param string $slug   Group.
	 * @param bool   $ok     Whether the run succeeded.
	 * @param int    $window Failure-rate window in seconds.
	 * @param int    $now    Unix time.
	 * @return object|null
	 */
	public static function count( $slug, $ok, $window, $now ) {
		global $wpdb;
		$t = self::name();
		// phpcs:disable WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		$wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$t} (group_slug, window_start) VALUES (%s, %d)", $slug, $now ) );
		// One statement per outcome: a tumbling window restarts when it is over; the consecutive count resets on success.
		$wpdb->query(
			$wpdb->prepare(
				"UPDATE {$t} SET
					window_runs = IF(window_start + %d <= %d, 1, window_runs + 1),
					window_failures = IF(window_start + %d <= %d, %d, window_failures + %d),
					window_start = IF(window_start + %d <= %d, %d, window_start),
					consecutive = IF(%d, 0, consecutive + 1),
					inflight = IF(inflight > 0, inflight - 1, 0)
				WHERE group_slug = %s",
				$window,
				$now,
				$window,
				$now,
				$ok ? 0 : 1,
				$ok ? 0 : 1,
				$window,
				$now,
				$now,
				$ok ? 1 : 0,
				$slug
			)
		);
		$row = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$t} WHERE group_slug = %s", $slug ) );
		// phpcs:enable
		return $row;
	}

	/**
	 * An action of the group started: it holds one of the failures that could still trip the breaker until its outcome
	 * is counted (count() takes it back in the same statement), so the claim never sees a failure before its count.
	 *
	 * @param string $slug Group.
	 * @param int    $now  Unix time.
	 * @return void
	 */
	public static function started( $slug, $now ) {
		global $wpdb;
		$t = self::name();
		// phpcs:disable WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		$wpdb->query( $wpdb->prepare( "INSERT INTO {$t} (group_slug, window_start, inflight) VALUES (%s, %d, 1) ON DUPLICATE KEY UPDATE inflight = inflight + 1", $slug, $now ) );
		// phpcs:enable
	}

	/**
	 * Moves the breaker from one state to another if it is still in $from; true for the one process that did.
	 *
	 * @param string      $slug   Group.
	 * @param string      $from   Expected state.
	 * @param string      $to     New state.
	 * @param int         $now    Unix time.
	 * @param int         $cool   Cool-down seconds (for open).
	 * @param string      $reason Why.
	 * @return bool
	 */
	public static function transition( $slug, $from, $to, $now, $cool, $reason ) {
		global $wpdb;
		$t   = self::name();
		$gmt = gmdate( 'Y-m-d H:i:s', $now );
		if ( 'open' === $to ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
			$n = $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET state = 'open', opened_gmt = %s, until_gmt = %s, trial_gmt = NULL, opens = opens + 1, reason = %s WHERE group_slug = %s AND state = %s", $gmt, gmdate( 'Y-m-d H:i:s', $now + $cool ), $reason, $slug, $from ) );
		} else {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
			$n = $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET state = 'closed', until_gmt = NULL, trial_gmt = NULL, consecutive = 0, reason = %s WHERE group_slug = %s AND state = %s", $reason, $slug, $from ) );
		}
		return 1 === (int) $n;
	}

	/**
	 * One group's row.
	 *
	 * @param string $slug Group.
	 * @return object|null
	 */
	public static function get( $slug ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		return $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$t} WHERE group_slug = %s", $slug ) );
	}

	/**
	 * Every breaker row.
	 *
	 * @return object[]
	 */
	public static function all() {
		global $wpdb;
		if ( self::VERSION !== get_option( self::VERSION_OPTION ) ) {
			return array();
		}
		$t = self::name();
		return (array) $wpdb->get_results( "SELECT * FROM {$t} ORDER BY group_slug" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table, its name from $wpdb->prefix; the breakers' state must be read as it is now.
	}

	/**
	 * Drops the table and its option (uninstall).
	 *
	 * @return void
	 */
	public static function drop() {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::name() ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.NotPrepared -- our own table's name from $wpdb->prefix; no WordPress API drops tables.
		delete_option( self::VERSION_OPTION );
	}
}
