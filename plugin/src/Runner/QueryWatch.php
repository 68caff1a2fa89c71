<?php
/**
 * Sees every statement wpdb sends in the sidecar's worker (the `query` filter, last priority), so that what the
 * worker holds back stays invisible:
 *
 * - before any statement of other code that names the actions or logs table, whatever the worker holds back (log
 *   lines, completions) is committed first, so whoever reads sees the rows as the library would have left them;
 * - statements of other code that write to the actions table are counted, so a row read before the hooks of an
 *   action's turn is reused only when nothing wrote in between;
 * - the logger's INSERT of a line the worker holds back is taken out of the stream (sent later, with the next commit);
 * - while a start window holds marked actions, a status query from this process sees them as pending;
 * - transactions that other code opens (START TRANSACTION, BEGIN, autocommit turned off) are tracked, and nothing the
 *   worker holds back is ever sent inside one: it is committed, in a transaction of the worker's own, right before
 *   theirs begins, and while theirs is open nothing is flushed into it (a ROLLBACK of theirs would take our
 *   completions with it). A transaction other code leaves open, or autocommit left off, is ended at the worker's next
 *   safe point, between two actions (CommitPipeline::transaction()).
 *
 * Registered only in the worker process (CommitPipeline::start()), never on page loads.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class QueryWatch {
	/** @var int Statements of other code, not SELECTs, that named the actions table. */
	private static $actions_writes = 0;
	/** @var CommitPipeline|null */
	private static $pipeline = null;
	/** @var bool True while the worker sends its own statements: they pass untouched. */
	private static $own = false;
	/** @var bool True while the worker reads a row that needs nothing held back sent first. */
	private static $trusted = false;
	/** @var array|null|false While set: the next INSERT into the logs table is taken, not sent (false: none yet). */
	private static $capture = null;
	/** @var array|null While set: array( statuses, held IDs ) for the next status query on the actions table. */
	private static $rewrite = null;
	/** @var bool A transaction other code opened on this connection and has not ended. */
	private static $foreign_transaction = false;
	/** @var bool Other code turned autocommit off on this connection (every statement then opens a transaction). */
	private static $autocommit_off = false;
	private static $registered     = false;

	public static function register( CommitPipeline $pipeline ) {
		self::$pipeline = $pipeline;
		if ( ! self::$registered ) {
			add_filter( 'query', array( __CLASS__, 'see' ), PHP_INT_MAX );
			self::$registered = true;
		}
	}

	/** Runs the worker's own statements: nothing is flushed, counted, taken or rewritten for them. */
	public static function own( callable $statements ) {
		$was       = self::$own;
		self::$own = true;
		try {
			return $statements();
		} finally {
			self::$own = $was;
		}
	}

	/** Runs a read of the worker's that needs nothing held back sent first (the next action's own row). */
	public static function trusted( callable $read ) {
		self::$trusted = true;
		try {
			return $read();
		} finally {
			self::$trusted = false;
		}
	}

	/**
	 * Runs $log (a logger call) and takes the INSERT it makes out of the stream. Returns the statement split in the
	 * part before its VALUES tuple and the tuple (so consecutive lines merge into one multi-row INSERT), array( '',
	 * statement ) for an INSERT of another shape, or null when $log made none.
	 */
	public static function capture( callable $log ) {
		self::$capture = false;
		try {
			$log();
			return self::$capture ? self::$capture : null;
		} finally {
			self::$capture = null;
		}
	}

	/**
	 * Runs $query (a status query of the store) so that it sees the actions of $held, marked in progress by this
	 * worker's start window, as pending. Returns $query's result, or null when the statement did not have the shape
	 * expected (then nothing was rewritten and the caller must not rely on it).
	 */
	public static function with_held_as_pending( array $statuses, array $held, callable $query, &$rewritten ) {
		self::$rewrite = array( array_values( $statuses ), array_map( 'intval', $held ), false );
		try {
			$result    = $query();
			$rewritten = self::$rewrite[2];
			return $result;
		} finally {
			self::$rewrite = null;
		}
	}

	public static function see( $query ) {
		global $wpdb;
		if ( self::$own || ! is_string( $query ) ) {
			return $query;
		}
		if ( false === self::$capture && self::is_insert_into( $query, $wpdb->actionscheduler_logs ) ) {
			self::$capture = self::split_insert( $query );
			self::reset_query_check();
			return ''; // wpdb::query() returns false for it; the logger only returns the (then 0) insert ID.
		}
		if ( self::opens_transaction( $query ) && self::$pipeline && self::$pipeline->holds() ) {
			// Our held writes go first, committed on their own, before the other code's transaction begins: inside
			// it they would share its fate (a ROLLBACK lost the completions of actions that had run).
			self::$pipeline->flush( false );
		}
		self::track_transaction( $query );
		$names_actions = false !== stripos( $query, $wpdb->actionscheduler_actions );
		$is_select     = (bool) preg_match( '/^\s*\(?\s*SELECT\b/i', $query );
		if ( $names_actions && ! $is_select ) {
			++self::$actions_writes;
		}
		if ( self::$rewrite && $names_actions && $is_select && ! self::$rewrite[2] ) {
			$query = self::rewrite_status( $query );
		}
		// Never into another's open transaction (see above): there the held rows stay unseen until the worker's next
		// safe point, as rows another session has not committed yet are.
		if ( ! self::$trusted && ! self::foreign_transaction() && self::$pipeline && self::$pipeline->holds() && ( $names_actions || false !== stripos( $query, $wpdb->actionscheduler_logs ) ) ) {
			self::$pipeline->flush();
		}
		return $query;
	}

	public static function actions_writes() {
		return self::$actions_writes;
	}

	/** True while other code's transaction may be open on the connection (begun, or autocommit off). */
	public static function foreign_transaction() {
		return self::$foreign_transaction || self::$autocommit_off;
	}

	public static function autocommit_off() {
		return self::$autocommit_off;
	}

	/** The worker's own START TRANSACTION ended theirs (an implicit commit); with $autocommit it turned autocommit back on. */
	public static function foreign_transaction_ended( $autocommit ) {
		self::$foreign_transaction = false;
		if ( $autocommit ) {
			self::$autocommit_off = false;
		}
	}

	/** A statement that begins a transaction, or turns autocommit off. */
	private static function opens_transaction( $query ) {
		return (bool) preg_match( '/^\s*(?:START\s+TRANSACTION|BEGIN(?:\s+WORK)?\s*;?\s*$|SET\s+(?:SESSION\s+|@@(?:SESSION\.)?)?autocommit\s*=\s*(?:0|off|false)\b)/i', $query );
	}

	private static function is_insert_into( $query, $table ) {
		return (bool) preg_match( '/^\s*INSERT\s+(?:IGNORE\s+)?INTO\s+`?' . preg_quote( $table, '/' ) . '`?\s/i', $query );
	}

	/** "INSERT INTO t (cols) VALUES (…)" as array( "INSERT INTO t (cols) VALUES ", "(…)" ); else array( '', statement ). */
	private static function split_insert( $query ) {
		$at = strpos( $query, ') VALUES (' );
		if ( false === $at || false !== strpos( substr( $query, 0, $at ), "'" ) ) {
			return array( '', $query );
		}
		return array( substr( $query, 0, $at + 9 ), substr( $query, $at + 9 ) );
	}

	/**
	 * wpdb::insert() turns off its check of the next query's text and relies on that query to turn it back on; a
	 * query taken out of the stream never does, so turn it back on here (the property is protected).
	 */
	private static function reset_query_check() {
		global $wpdb;
		static $reset = null;
		if ( null === $reset ) {
			$reset = function () {
				$this->check_current_query = true;
			};
		}
		\Closure::bind( $reset, $wpdb, get_class( $wpdb ) )();
	}

	private static function track_transaction( $query ) {
		// ROLLBACK TO SAVEPOINT ends nothing; SET autocommit = 1 commits what is open, as COMMIT does.
		if ( ! preg_match( '/^\s*(START\s+TRANSACTION|BEGIN(?:\s+WORK)?\s*;?\s*$|COMMIT|ROLLBACK(?!\s+(?:WORK\s+)?TO\b)|SET\s+(?:SESSION\s+|@@(?:SESSION\.)?)?autocommit\s*=\s*(\w+))/i', $query, $m ) ) {
			return;
		}
		$word = strtoupper( $m[1] );
		if ( 0 === strpos( $word, 'START' ) || 0 === strpos( $word, 'BEGIN' ) ) {
			self::$foreign_transaction = true;
		} elseif ( 0 === strpos( $word, 'COMMIT' ) || 0 === strpos( $word, 'ROLLBACK' ) ) {
			self::$foreign_transaction = false;
		} else {
			self::$autocommit_off = in_array( strtolower( $m[2] ), array( '0', 'off', 'false' ), true );
			if ( ! self::$autocommit_off ) {
				self::$foreign_transaction = false;
			}
		}
	}

	/**
	 * "a.status IN ('pending')" becomes "(a.status IN ('pending') OR (a.action_id IN (held) AND a.status =
	 * 'in-progress'))", and a query for in-progress actions leaves the held ones out. Both the library's store and
	 * ours write the status condition in this form; anything else is left alone (and reported).
	 */
	private static function rewrite_status( $query ) {
		global $wpdb;
		list( $statuses, $held ) = self::$rewrite;
		$quoted                  = array();
		foreach ( $statuses as $status ) {
			$quoted[] = $wpdb->prepare( '%s', $status );
		}
		$condition = 'a.status IN (' . implode( ', ', $quoted ) . ')';
		if ( 1 !== substr_count( $query, $condition ) ) {
			return $query;
		}
		$ids              = implode( ',', $held );
		$running          = $wpdb->prepare( '%s', \ActionScheduler_Store::STATUS_RUNNING );
		$with             = in_array( \ActionScheduler_Store::STATUS_PENDING, $statuses, true )
			? "({$condition} OR (a.action_id IN ({$ids}) AND a.status = {$running}))"
			: "({$condition} AND a.action_id NOT IN ({$ids}))";
		self::$rewrite[2] = true;
		return str_replace( $condition, $with, $query );
	}
}
