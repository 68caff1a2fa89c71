<?php
/**
 * Sees every statement wpdb sends in the sidecar's worker, so that two savings stay invisible:
 *
 * - a row read before `action_scheduler_begin_execute` is reused afterwards only when nothing wrote to the actions
 *   table in between (then reading it again would return the same row);
 * - log lines held back to be written together (see ActionScheduler_DBLogger::defer_execution_logs()) are written
 *   before any other statement touches the logs table, so log IDs come out in the library's order and anyone who
 *   reads the logs sees them.
 *
 * Registered only in the worker process (CommitPipeline::register()), never on page loads.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class QueryWatch {
	/** @var int Statements other than SELECT that named the actions table. */
	private static $actions_writes = 0;
	/** @var callable|null Runs before a statement that names the logs table. */
	private static $before_logs_statement = null;
	private static $inside = false;
	private static $registered = false;

	public static function register( callable $before_logs_statement ) {
		self::$before_logs_statement = $before_logs_statement;
		if ( ! self::$registered ) {
			add_filter( 'query', array( __CLASS__, 'see' ), PHP_INT_MAX );
			self::$registered = true;
		}
	}

	public static function see( $query ) {
		global $wpdb;
		if ( self::$inside || ! is_string( $query ) ) {
			return $query;
		}
		if ( self::$before_logs_statement && false !== stripos( $query, $wpdb->actionscheduler_logs ) ) {
			self::$inside = true; // The flush below is a query too.
			try {
				call_user_func( self::$before_logs_statement );
			} finally {
				self::$inside = false;
			}
		}
		if ( false !== stripos( $query, $wpdb->actionscheduler_actions ) && ! preg_match( '/^\s*\(?\s*SELECT\b/i', $query ) ) {
			self::$actions_writes++;
		}
		return $query;
	}

	public static function actions_writes() {
		return self::$actions_writes;
	}

	public static function active() {
		return self::$registered;
	}
}
