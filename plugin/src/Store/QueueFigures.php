<?php
/**
 * SQL of the admin page's health figures (Admin\Health, also `wp sidecar-scheduler status`): counts per status, the
 * past-due backlog, what runs, the sidecars' per-minute statistics and heartbeats, and the per-group table. Each is
 * one indexed or bounded query, since the page polls them.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the health figures read custom tables (queue, sidecar heartbeats, statistics) and must be live; no WordPress API covers them.
// phpcs:disable WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names from $wpdb->prefix and our constants (identifiers cannot be placeholders); every value is a placeholder.

/**
 * Read-only queries for Admin\Health.
 */
final class QueueFigures {

	/**
	 * The actions table's row estimate from information_schema (instant, unlike COUNT(*) on a big table).
	 *
	 * @return int
	 */
	public static function row_estimate() {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		return (int) $wpdb->get_var( $wpdb->prepare( 'SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s', $a ) );
	}

	/**
	 * Exact counts per status (a full scan of the status index: for small tables).
	 *
	 * @return array Rows (status, n).
	 */
	public static function count_by_status() {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		// Not prepared: it has no values to bind.
		return (array) $wpdb->get_results( "SELECT status, COUNT(*) AS n FROM {$a} GROUP BY status" );
	}

	/**
	 * The exact count of one status (through the status index).
	 *
	 * @param string $status Status.
	 * @return int
	 */
	public static function count_with_status( $status ) {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$a} WHERE status = %s", $status ) );
	}

	/**
	 * Pending actions due by $now_gmt: how many, and the oldest due date.
	 *
	 * @param string $now_gmt 'Y-m-d H:i:s' UTC.
	 * @return object|null { n, oldest }
	 */
	public static function due_pending( $now_gmt ) {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		return $wpdb->get_row( $wpdb->prepare( "SELECT COUNT(*) AS n, MIN(scheduled_date_gmt) AS oldest FROM {$a} WHERE status = 'pending' AND scheduled_date_gmt <= %s", $now_gmt ) );
	}

	/**
	 * The 50 actions in progress the longest.
	 *
	 * @return array Rows (action_id, hook, last_attempt_gmt), the oldest attempt first.
	 */
	public static function longest_running() {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT action_id, hook, last_attempt_gmt FROM {$a} WHERE status = %s ORDER BY last_attempt_gmt ASC LIMIT 50", Contract::STATUS_RUNNING ) );
	}

	/**
	 * Completed and failed runs and the wait percentiles per minute since a moment, summed over the sidecars.
	 *
	 * @param string $since_gmt 'Y-m-d H:i:00' UTC.
	 * @return array Rows (minute_gmt, completed, failed, p50, p95).
	 */
	public static function runs_per_minute( $since_gmt ) {
		global $wpdb;
		$stats_table = $wpdb->prefix . Contract::TABLE_STATS;
		return self::sidecar_table_rows( $wpdb->prepare( "SELECT minute_gmt, SUM(completed) AS completed, SUM(failed) AS failed, MAX(wait_ms_p50) AS p50, MAX(wait_ms_p95) AS p95 FROM {$stats_table} WHERE minute_gmt >= %s GROUP BY minute_gmt ORDER BY minute_gmt", $since_gmt ) );
	}

	/**
	 * Completed and failed runs per hour since a moment.
	 *
	 * @param string $since_gmt 'Y-m-d H:00:00' UTC.
	 * @return array Rows (hour_gmt, completed, failed).
	 */
	public static function runs_per_hour( $since_gmt ) {
		global $wpdb;
		$stats_table = $wpdb->prefix . Contract::TABLE_STATS;
		return self::sidecar_table_rows( $wpdb->prepare( "SELECT DATE_FORMAT(minute_gmt, '%%Y-%%m-%%d %%H:00:00') AS hour_gmt, SUM(completed) AS completed, SUM(failed) AS failed FROM {$stats_table} WHERE minute_gmt >= %s GROUP BY hour_gmt ORDER BY hour_gmt", $since_gmt ) );
	}

	/**
	 * Every column of the sidecars seen since a moment (what each runs included), the first started first.
	 *
	 * @param string $since_gmt 'Y-m-d H:i:s' UTC.
	 * @return array Rows of {prefix}sidecar_heartbeats.
	 */
	public static function sidecars_seen_since( $since_gmt ) {
		global $wpdb;
		return self::sidecar_table_rows( $wpdb->prepare( "SELECT * FROM {$wpdb->prefix}sidecar_heartbeats WHERE last_seen_gmt >= %s ORDER BY started_gmt", $since_gmt ) );
	}

	/**
	 * Every group's ID and slug.
	 *
	 * @return array Rows (group_id, slug).
	 */
	public static function group_slugs() {
		global $wpdb;
		// Not prepared: it has no values to bind.
		return (array) $wpdb->get_results( "SELECT group_id, slug FROM {$wpdb->prefix}actionscheduler_groups" );
	}

	/**
	 * Pending and running actions per status and group, with the oldest date of each (the status/group/date index).
	 *
	 * @return array Rows (status, group_id, n, oldest).
	 */
	public static function live_per_group() {
		global $wpdb;
		$a = $wpdb->prefix . Contract::TABLE_ACTIONS;
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT status, group_id, COUNT(*) AS n, MIN(scheduled_date_gmt) AS oldest FROM {$a} WHERE status IN (%s, %s) GROUP BY status, group_id", Contract::STATUS_PENDING, Contract::STATUS_RUNNING ) );
	}

	/**
	 * Completed and failed runs and the average run time per group since a moment, from the sidecars' statistics.
	 *
	 * @param string $since_gmt 'Y-m-d H:i:s' UTC.
	 * @return array Rows (group_slug, completed, failed, avg_ms).
	 */
	public static function runs_per_group( $since_gmt ) {
		global $wpdb;
		return self::sidecar_table_rows( $wpdb->prepare( "SELECT group_slug, SUM(completed) AS completed, SUM(failed) AS failed, SUM(run_ms_sum) / NULLIF(SUM(completed + failed), 0) AS avg_ms FROM {$wpdb->prefix}sidecar_stats WHERE minute_gmt >= %s GROUP BY group_slug", $since_gmt ) );
	}

	/**
	 * The rows of a read of a table the sidecar creates (statistics, heartbeats), with database errors suppressed:
	 * until a sidecar has run the table may not exist, which means no rows, not an error on the admin page.
	 *
	 * @param string $prepared_sql A statement already through $wpdb->prepare().
	 * @return array
	 */
	private static function sidecar_table_rows( $prepared_sql ) {
		global $wpdb;
		$suppress = $wpdb->suppress_errors( true );
		$rows     = $wpdb->get_results( $prepared_sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by the caller.
		$wpdb->suppress_errors( $suppress );
		return (array) $rows;
	}
}
