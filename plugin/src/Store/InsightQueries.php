<?php
/**
 * SQL of the failing-hooks report: outcomes and error messages per hook and group since a moment, read from the
 * library's own log lines, so every runner counts (sidecar, WP-Cron, WP-CLI, the admin), not only the sidecar.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- bounded reads of the library's log table for the report; no WordPress API covers it.

/**
 * Read-only queries over the actions and logs tables, driven by the logs' log_date_gmt index.
 */
final class InsightQueries {

	/**
	 * Seconds one report query may take before the server stops it (a huge log table): the report then says so.
	 */
	const STATEMENT_SECONDS = 5;

	/**
	 * The WHERE part that picks an action's last line: how it ended. The library writes exactly one of these per run:
	 * "action complete via …", "action failed via …: message", the cleaner's "action marked as failed after N
	 * seconds…", or the fatal-error monitor's "unexpected shutdown: …".
	 *
	 * @param bool $failures_only Only the lines of failed runs.
	 * @return string SQL condition on the alias l.
	 */
	private static function outcome_condition( $failures_only ) {
		$failed = "l.message LIKE 'action failed%' OR l.message LIKE 'action marked as failed%' OR l.message LIKE 'unexpected shutdown%'";
		return $failures_only ? "( {$failed} )" : "( l.message LIKE 'action complete%' OR {$failed} )";
	}

	/**
	 * Runs per hook, group, outcome and whole seconds of run time (started line to outcome line), with the last time.
	 *
	 * @param string $since_gmt 'Y-m-d H:i:s' in UTC.
	 * @return array|null Rows (hook, group_slug, ok, secs, n, last_at), or null when the statement was stopped.
	 */
	public static function outcomes( $since_gmt ) {
		global $wpdb;
		$a    = $wpdb->prefix . 'actionscheduler_actions';
		$l    = $wpdb->prefix . 'actionscheduler_logs';
		$g    = $wpdb->prefix . 'actionscheduler_groups';
		$cond = self::outcome_condition( false );
		// Run time is from the action's last "started" line before its outcome line: not last_attempt_gmt, which the
		// library's mark_complete() moves to the completion time. Whole seconds: the log dates have no fraction.
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.LikeWildcardsInQuery -- table names are ours, the date is prepared; the LIKE prefixes are the library's fixed log texts, not input.
		$sql = $wpdb->prepare( "SELECT t.hook, t.group_slug, t.ok, GREATEST(0, TIMESTAMPDIFF(SECOND, COALESCE(t.started, t.ended), t.ended)) AS secs, COUNT(*) AS n, MAX(t.ended) AS last_at FROM ( SELECT l.log_id, a.hook, COALESCE(g.slug, '') AS group_slug, l.message LIKE 'action complete%%' AS ok, l.log_date_gmt AS ended, MAX(s.log_date_gmt) AS started FROM {$l} l JOIN {$a} a ON a.action_id = l.action_id LEFT JOIN {$g} g ON g.group_id = a.group_id LEFT JOIN {$l} s ON s.action_id = l.action_id AND s.log_id < l.log_id AND s.message LIKE 'action started%%' WHERE l.log_date_gmt >= %s AND {$cond} GROUP BY l.log_id ) t GROUP BY t.hook, t.group_slug, t.ok, secs", $since_gmt );
		return self::capped( $sql );
	}

	/**
	 * Failure lines per hook, group and message, most frequent first, with first and last time seen.
	 *
	 * @param string $since_gmt 'Y-m-d H:i:s' in UTC.
	 * @param int    $limit     The most rows.
	 * @return array|null Rows (hook, group_slug, message, n, first_at, last_at), or null when stopped.
	 */
	public static function errors( $since_gmt, $limit = 2000 ) {
		global $wpdb;
		$a    = $wpdb->prefix . 'actionscheduler_actions';
		$l    = $wpdb->prefix . 'actionscheduler_logs';
		$g    = $wpdb->prefix . 'actionscheduler_groups';
		$cond = self::outcome_condition( true );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names are ours, values are prepared.
		$sql = $wpdb->prepare( "SELECT a.hook, COALESCE(g.slug, '') AS group_slug, l.message, COUNT(*) AS n, MIN(l.log_date_gmt) AS first_at, MAX(l.log_date_gmt) AS last_at FROM {$l} l JOIN {$a} a ON a.action_id = l.action_id LEFT JOIN {$g} g ON g.group_id = a.group_id WHERE l.log_date_gmt >= %s AND {$cond} GROUP BY a.hook, group_slug, l.message ORDER BY n DESC LIMIT %d", $since_gmt, $limit );
		return self::capped( $sql );
	}

	/**
	 * Failed rows per hook and group right now (what "retry all" would copy), for the given hooks.
	 *
	 * @param string[] $hooks Hook names.
	 * @return array Rows (hook, group_slug, n).
	 */
	public static function failed_counts( array $hooks ) {
		global $wpdb;
		if ( ! $hooks ) {
			return array();
		}
		$a     = $wpdb->prefix . 'actionscheduler_actions';
		$g     = $wpdb->prefix . 'actionscheduler_groups';
		$marks = implode( ', ', array_fill( 0, count( $hooks ), '%s' ) );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare -- table names are ours, one placeholder per hook.
		$sql = $wpdb->prepare( "SELECT a.hook, COALESCE(g.slug, '') AS group_slug, COUNT(*) AS n FROM {$a} a LEFT JOIN {$g} g ON g.group_id = a.group_id WHERE a.status = 'failed' AND a.hook IN ( {$marks} ) GROUP BY a.hook, group_slug", array_values( $hooks ) );
		if ( get_option( AttemptsTable::VERSION_OPTION ) ) {
			// Only failures nobody has retried yet (no row, or a dead letter): one already retried from the admin, re-run,
			// or left to its retry policy is not offered again (it would run twice).
			$t = AttemptsTable::name();
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare -- table names are ours, one placeholder per hook.
			$sql = $wpdb->prepare( "SELECT a.hook, COALESCE(g.slug, '') AS group_slug, COUNT(*) AS n FROM {$a} a LEFT JOIN {$g} g ON g.group_id = a.group_id LEFT JOIN {$t} d ON d.action_id = a.action_id AND d.dead = 0 WHERE a.status = 'failed' AND d.action_id IS NULL AND a.hook IN ( {$marks} ) GROUP BY a.hook, group_slug", array_values( $hooks ) );
		}
		return (array) self::capped( $sql );
	}

	/**
	 * Runs a prepared SELECT under a server-side time limit (MariaDB's max_statement_time, MySQL's hint).
	 *
	 * @param string $sql Prepared SQL starting with SELECT.
	 * @return array|null Rows, or null when the server stopped it or it failed.
	 */
	private static function capped( $sql ) {
		global $wpdb;
		if ( false !== stripos( (string) $wpdb->db_server_info(), 'mariadb' ) ) {
			$sql = sprintf( 'SET STATEMENT max_statement_time=%d FOR %s', self::STATEMENT_SECONDS, $sql );
		} else {
			$sql = preg_replace( '/^SELECT /', sprintf( 'SELECT /*+ MAX_EXECUTION_TIME(%d) */ ', self::STATEMENT_SECONDS * 1000 ), $sql );
		}
		$suppress = $wpdb->suppress_errors( true );
		$result   = $wpdb->get_results( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared above.
		$error    = $wpdb->last_error;
		$wpdb->suppress_errors( $suppress );
		return $error ? null : (array) $result;
	}
}
