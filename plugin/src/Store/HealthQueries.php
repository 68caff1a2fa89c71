<?php
/**
 * SQL of the Site Health tests: live sidecars, the past-due backlog, stuck actions and the cleanup backlog. Each is
 * one indexed, bounded query, since direct Site Health tests run while the screen loads. The count of live sidecars
 * is also Runner\SidecarStatus's "does a sidecar serve this site" on page loads.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- live, bounded reads of the queue's and our custom tables for Site Health; no WordPress API covers them.

/**
 * Read-only queries for SiteHealth\Tests and SiteHealth\Info.
 */
final class HealthQueries {

	/**
	 * Sidecars with a fresh heartbeat.
	 *
	 * @return array Rows of {prefix}sidecar_heartbeats.
	 */
	public static function live_sidecars() {
		global $wpdb;
		$table    = $wpdb->prefix . Contract::TABLE_HEARTBEATS;
		$suppress = $wpdb->suppress_errors( true );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT sidecar_id, host, pid, version, channel, concurrency, started_gmt, last_seen_gmt FROM {$table} WHERE last_seen_gmt >= %s ORDER BY started_gmt", gmdate( 'Y-m-d H:i:s', time() - Contract::DEFAULT_HEARTBEAT_STALE_SECONDS ) ) );
		$wpdb->suppress_errors( $suppress );
		return (array) $rows;
	}

	/**
	 * How many sidecars have a fresh heartbeat. Errors are suppressed: before activation the table may not exist,
	 * and that simply means none (0).
	 *
	 * @return int
	 */
	public static function live_sidecar_count() {
		global $wpdb;
		$table    = $wpdb->prefix . Contract::TABLE_HEARTBEATS;
		$suppress = $wpdb->suppress_errors( true );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$count = (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$table} WHERE last_seen_gmt >= %s", gmdate( 'Y-m-d H:i:s', time() - Contract::DEFAULT_HEARTBEAT_STALE_SECONDS ) ) );
		$wpdb->suppress_errors( $suppress );
		return $count;
	}

	/**
	 * Pending actions that are due, and the oldest due date (status/date index).
	 *
	 * @return array { count: int, oldest: string|null }
	 */
	public static function past_due() {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$row = $wpdb->get_row( $wpdb->prepare( "SELECT COUNT(*) AS n, MIN(scheduled_date_gmt) AS oldest FROM {$a} WHERE status = %s AND scheduled_date_gmt <= %s", Contract::STATUS_PENDING, gmdate( 'Y-m-d H:i:s' ) ) );
		return array(
			'count'  => $row ? (int) $row->n : 0,
			'oldest' => $row && $row->oldest ? (string) $row->oldest : null,
		);
	}

	/**
	 * Actions in progress whose last attempt started before a moment (status index; at most 50).
	 *
	 * @param string $before_gmt 'Y-m-d H:i:s' UTC.
	 * @return array Rows (action_id, hook, last_attempt_gmt).
	 */
	public static function stuck( $before_gmt ) {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT action_id, hook, last_attempt_gmt FROM {$a} WHERE status = %s AND last_attempt_gmt < %s ORDER BY last_attempt_gmt LIMIT 50", Contract::STATUS_RUNNING, $before_gmt ) );
	}

	/**
	 * Rows the cleaner should have deleted by now, counted up to a limit (a bounded scan of the last-attempt index).
	 *
	 * @param string[] $statuses   The cleaner's statuses.
	 * @param string   $cutoff_gmt 'Y-m-d H:i:s' UTC: rows last attempted before it are overdue.
	 * @param int      $limit      Count no further than this.
	 * @return int
	 */
	public static function overdue_for_cleanup( array $statuses, $cutoff_gmt, $limit ) {
		global $wpdb;
		if ( ! $statuses ) {
			return 0;
		}
		$a      = $wpdb->prefix . Contract::TABLE_ACTIONS;
		$marks  = implode( ', ', array_fill( 0, count( $statuses ), '%s' ) );
		$params = array_merge( array_values( $statuses ), array( $cutoff_gmt, (int) $limit ) );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare,WordPress.DB.PreparedSQLPlaceholders.ReplacementsWrongNumber -- our own table; one placeholder per status, all values in one array.
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM ( SELECT 1 FROM {$a} WHERE status IN ( {$marks} ) AND last_attempt_gmt < %s LIMIT %d ) t", $params ) );
	}
}
