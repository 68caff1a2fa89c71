<?php
/**
 * Sees every statement wpdb sends in the sidecar's worker, so that the worker's statement savings stay invisible:
 *
 * - a row read before `action_scheduler_begin_execute` is reused afterwards only when nothing wrote to the actions
 *   table in between (then reading it again would return the same row);
 * - writes held back to be sent together with the next action's (an action's completion; the "started" and
 *   "complete" log lines) are sent before any other statement touches their table, so whoever reads sees them and
 *   log IDs keep the library's order. Only the worker's own statements that are part of the saving run "trusted".
 *
 * Registered only in the worker process (CommitPipeline::register()), never on page loads.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class QueryWatch {
	/** @var int Statements other than SELECT that named the actions table. */
	private static $actions_writes = 0;
	/** @var callable|null Runs before a statement that names the actions table. */
	private static $before_actions_statement = null;
	/** @var callable|null Runs before a statement that names the logs table. */
	private static $before_logs_statement = null;
	private static $inside  = false;
	private static $trusted = false;
	private static $registered = false;

	public static function register( callable $before_actions_statement, callable $before_logs_statement ) {
		self::$before_actions_statement = $before_actions_statement;
		self::$before_logs_statement    = $before_logs_statement;
		if ( ! self::$registered ) {
			add_filter( 'query', array( __CLASS__, 'see' ), PHP_INT_MAX );
			self::$registered = true;
		}
	}

	/** Runs one of the worker's own statements that is part of a saving: nothing held back is flushed for it. */
	public static function trusted( callable $statement ) {
		self::$trusted = true;
		try {
			return $statement();
		} finally {
			self::$trusted = false;
		}
	}

	public static function see( $query ) {
		global $wpdb;
		if ( ! is_string( $query ) ) {
			return $query;
		}
		$names_actions = false !== stripos( $query, $wpdb->actionscheduler_actions );
		if ( $names_actions && ! preg_match( '/^\s*\(?\s*SELECT\b/i', $query ) ) {
			self::$actions_writes++;
		}
		if ( self::$inside || self::$trusted ) {
			return $query;
		}
		self::$inside = true; // The flushes below are statements too.
		try {
			if ( $names_actions ) {
				call_user_func( self::$before_actions_statement );
			}
			if ( false !== stripos( $query, $wpdb->actionscheduler_logs ) ) {
				call_user_func( self::$before_logs_statement );
			}
		} finally {
			self::$inside = false;
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
