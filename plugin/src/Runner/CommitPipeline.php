<?php
/**
 * Fewer commits per action in the sidecar's worker, without weakening at-most-once.
 *
 * Action Scheduler autocommits four writes per action (start log, in-progress, complete log, complete), so the
 * database's commit flush, not PHP, limits throughput (~4 fsyncs per action). Here the writes an action makes
 * *after* its callback (complete or failed, its log line, a recurring successor) stay in an open transaction that
 * commits together with the *next* action's start writes, right before that action's callback runs. So:
 *
 * - every callback starts with its own "started / in-progress" state committed, as with the library: a crash inside
 *   a callback leaves that action in progress, never re-runs it;
 * - no transaction is open while plugin callbacks run, so they never hold our locks or join our transaction;
 * - what can be lost in a crash is only the completion of the action just before, during the ~1 ms until the next
 *   commit: the sidecar then fails that action as an unexpected shutdown, exactly what the library's fatal-error
 *   monitor does when a process dies between a callback and mark_complete().
 *
 * The worker commits at the end of each claimed batch ("flush"), before maintenance and before failing an action.
 * READ COMMITTED makes every status check see the latest committed row, not a snapshot taken earlier.
 * Turn it off with the filter sidecar_scheduler_pipeline_commits (then every write autocommits, as in the library).
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class CommitPipeline {
	private $open = false;
	/** @var int|null The connection the open transaction lives on. */
	private $thread = null;
	/** @var \ActionScheduler_DBLogger|null Ours, when it holds back the started/complete lines until the commit. */
	private $logger = null;
	/** @var \ActionScheduler_DBStore|null Ours, when it holds back an action's completion until the next start or commit. */
	private $store = null;

	/** Start windows need our own store and logger (standalone mode), whose held-back writes they extend. */
	public function supports_windows() {
		return null !== $this->logger;
	}

	public static function enabled() {
		return (bool) apply_filters( 'sidecar_scheduler_pipeline_commits', true );
	}

	public function register() {
		global $wpdb;
		$wpdb->query( 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED' );
		$begin = array( $this, 'begin_for_action' );
		add_action( 'action_scheduler_before_execute', $begin, -1000 );
		$commit_start = array( $this, 'commit_start' );
		add_action( 'sidecar_scheduler_before_callback', $commit_start, -1000 ); // Our runner (standalone mode).
		if ( \SidecarScheduler\Plugin::MODE_COMPANION === \SidecarScheduler\Plugin::mode() ) {
			// The bundled library has no hook between its in-progress write and the callback: commit after the
			// start log instead; the in-progress UPDATE then autocommits on its own (2 commits instead of 4).
			add_action( 'action_scheduler_begin_execute', $commit_start, PHP_INT_MAX );
		}
		add_action( 'action_scheduler_after_execute', $begin, -1000 );
		add_action( 'action_scheduler_failed_execution', $begin, -1000 );
		// A fatal error while a transaction is open: roll back first, so the fatal-error monitor's failure mark
		// (priority 0 on shutdown) is written on its own instead of being lost with the connection.
		add_action( 'shutdown', array( $this, 'rollback' ), -1000 );
		// Standalone mode: three statements fewer per action, invisible to anyone reading the tables (see QueryWatch).
		$logger = \ActionScheduler::logger();
		$store  = \ActionScheduler::store();
		if ( $logger instanceof \ActionScheduler_DBLogger && method_exists( $logger, 'defer_execution_logs' ) && 'ActionScheduler_DBStore' === get_class( $store ) && method_exists( $store, 'defer_completions' ) ) {
			$logger->defer_execution_logs();
			$store->defer_completions();
			$this->logger = $logger;
			$this->store  = $store;
			QueryWatch::register( array( $store, 'flush_deferred_completion' ), array( $logger, 'flush_deferred' ) );
		}
	}

	/**
	 * Hooked before and after each action. Inside start windows nothing opens per action: the window committed the
	 * starts, completions wait in memory for the next window, failures are written at once, and plugin code never
	 * runs inside a transaction of ours.
	 */
	public function begin_for_action() {
		if ( ! StartWindow::active() ) {
			$this->begin();
		}
	}

	public function begin() {
		global $wpdb;
		if ( ! $this->open ) {
			$wpdb->query( 'START TRANSACTION' );
			$this->open   = true;
			$this->thread = self::thread_id();
		}
	}

	/** Commits; returns false when the writes of the transaction may be lost (an error, or a reconnect meanwhile). */
	public function commit() {
		global $wpdb;
		if ( ! $this->open ) {
			// Completions held in a start window wait outside any transaction: send them in one now.
			if ( ! $this->logger || ! ( $this->store->holds_completions() || $this->logger->holds_lines() ) ) {
				return true;
			}
			$this->begin();
		}
		if ( $this->logger && ( ! $this->store->flush_deferred_completion() || ! $this->logger->flush_deferred() ) ) {
			$this->rollback();
			return false;
		}
		$this->open = false;
		// wpdb reconnects by itself after "server has gone away" and then runs COMMIT on a fresh connection, where
		// it succeeds with nothing to commit: only an unchanged connection proves our writes were committed.
		$ok = false !== $wpdb->query( 'COMMIT' ) && self::thread_id() === $this->thread;
		return $ok;
	}

	/**
	 * Right before a callback runs: its start (in-progress, attempts, "started" log) must be durable, or running it
	 * could run it twice later. Throwing here lands in process_action()'s catch: the callback does not run.
	 */
	public function commit_start( $action_id = 0 ) {
		if ( StartWindow::active() && ! $this->open ) {
			return; // Its window committed this start; completions held meanwhile wait for the next window.
		}
		if ( ! $this->commit() ) {
			// The callback must not run, and since it never started the action must not be failed either. Our runner
			// (standalone) catches StartRefused before its failure path; the bundled library's would fail the action
			// for any exception, so in companion mode the worker stops here instead: the sidecar finds the row still
			// pending (the library writes the start after this hook) and it goes back to the queue.
			if ( \SidecarScheduler\Plugin::MODE_COMPANION === \SidecarScheduler\Plugin::mode() ) {
				error_log( sprintf( 'Sidecar Scheduler: the database connection was lost before action %d could be started; this worker stops without running it.', (int) $action_id ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
				exit( 75 ); // phpcs:ignore WordPress.Security.EscapeOutput
			}
			throw new StartRefused( 'The database connection was lost before this action could be marked in progress, so it was not run.' );
		}
	}

	private static function thread_id() {
		global $wpdb;
		return ( $wpdb->dbh instanceof \mysqli ) ? $wpdb->dbh->thread_id : null;
	}

	public function rollback() {
		global $wpdb;
		if ( $this->logger ) {
			$this->logger->discard_deferred();
			$this->store->discard_deferred_completion();
		}
		if ( $this->open ) {
			$wpdb->query( 'ROLLBACK' );
			$this->open = false;
		}
	}
}
