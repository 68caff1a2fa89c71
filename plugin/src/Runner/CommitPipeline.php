<?php
/**
 * Fewer commits per action in the sidecar's worker, with no transaction of ours open while other code runs.
 *
 * Action Scheduler autocommits four writes per action (start log, in-progress, complete log, complete), so the
 * database's commit flush, not PHP, limits throughput. Here the writes made after a callback (the "complete" line and
 * the completion) and the "started" line are held back in memory, and committed in one short transaction together
 * with the next action's start, inside WorkerStore::log_execution(), the last call before that action's callback.
 * Nothing else runs while the transaction is open: every hook and callback of other code (before_execute,
 * begin_execute, after_execute, completed_action, the callback itself) runs with nothing of ours open, so its own
 * writes autocommit as they would beside the library, and survive whatever happens to this worker next.
 *
 * - Every callback starts with its own start committed (in progress, attempts + 1, its "started" line), as with the
 *   library: a crash inside a callback leaves that action in progress, never runs it twice.
 * - The start is a compare-and-set: only a row still pending under the worker's claim is started. Otherwise (another
 *   claim took it, or the start's commit was lost) the action does not run and is not failed: the worker reports it
 *   "lost" and exits (inside the library's process_action() returning would run the callback, and throwing would
 *   fail it), and the sidecar carries on with a fresh worker.
 * - What a crash can lose is only what is held back: completions the worker has already reported to the sidecar
 *   (each with its time), which the sidecar then writes through a fresh worker ("settle"). While no fresh worker can
 *   start, the sidecar keeps the dead worker's claim and writes them once one does; a sidecar that stops first
 *   releases the claim, and what stays in progress is failed by the library's cleaner after the failure period.
 * - Any statement of other code that touches the actions or logs table first commits what is held (QueryWatch), so
 *   nobody can read a row in a state the library would not have left it in.
 *
 * Turn it off with the filter sidecar_scheduler_pipeline_commits (then every write autocommits, as in the library).
 *
 * Over 300 lines because the held writes, their commit and the rules that keep them durable (other code's
 * transactions, failed commits, a worker's death) are one invariant, and the comments that explain it are much of
 * the file.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\LogLines;
use SidecarScheduler\Store\RunnerRows;
use SidecarScheduler\Store\WindowMarks;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the worker's own transactions (START TRANSACTION, COMMIT, ROLLBACK and the session settings around them) around its writes to the queue's custom tables (Store\RunnerRows, Store\LogLines); no WordPress API covers them.

final class CommitPipeline {
	/** @var self|null */
	private static $running = null;
	/** @var bool The worker said once that it committed a transaction other code left open. */
	private static $said_foreign = false;

	/** @var array[] Held log lines, in the order they were logged: array( action ID, message, statement parts ). */
	private $lines = array();
	/** @var array<int, array{0: string, 1: string}> Held completions: action ID => last attempt gmt, local. */
	private $completions = array();
	/** @var array<int, int> Action ID => the claim its start must still be under (StartGuard). */
	private $claims = array();
	/** @var callable|null Told each action ID right before its start is committed (the worker's "started"). */
	private $on_start = null;
	/** @var callable|null Told each action ID right after its start is committed, right before its callback (the worker's "running"). */
	private $on_running = null;
	/** @var callable|null Told the action ID whose start was refused, right before this process exits. */
	private $on_refused = null;
	/** @var WorkerStore */
	private $store;
	/**
	 * @var array<int, array{0: string, 1: string}> Action ID => the message and time of the last line held for it. At
	 *      an action's start that is its "started" line, which other code may have had flushed before the start was
	 *      refused (a statement on the logs table from a later begin_execute callback): then it is deleted.
	 */
	private $last_line = array();

	public static function enabled() {
		return (bool) apply_filters( 'sidecar_scheduler_pipeline_commits', true );
	}

	/** Starts the pipeline in this process; null when the store and logger are not ours (see WorkerClasses). */
	public static function start( $on_start = null, $on_refused = null, $on_running = null ) {
		if ( self::$running ) {
			return self::$running;
		}
		// The statement classes are loaded now, at the worker's boot (with or without a pipeline), not on first use:
		// their first use is inside a start's transaction (or the library-classes query filter), where a deploy that
		// replaced the plugin's files after this worker booted would make the autoload fail and fail the action
		// without running it (review r2).
		class_exists( RunnerRows::class );
		class_exists( LogLines::class );
		class_exists( WindowMarks::class );
		if ( ! WorkerClasses::active() || ! self::enabled() ) {
			return null;
		}
		$pipeline             = new self();
		$pipeline->store      = \ActionScheduler::store();
		$pipeline->on_start   = $on_start;
		$pipeline->on_refused = $on_refused;
		$pipeline->on_running = $on_running;
		QueryWatch::register( $pipeline );
		add_action( 'action_scheduler_before_execute', array( $pipeline->store, 'arm_turn' ), PHP_INT_MAX );
		// A fatal error in PHP code: what is held belongs to actions that finished, so commit it (the php channel;
		// under WP-CLI the shutdown hook does not run after a fatal, and the sidecar settles what was reported).
		add_action( 'shutdown', array( $pipeline, 'flush' ), -1000 );
		self::$running = $pipeline;
		return $pipeline;
	}

	/** @return self|null */
	public static function running() {
		return self::$running;
	}

	/** The worker is about to run $action_id for $claim_id (0: no claim to check, the library's plain start). */
	public function expect( $action_id, $claim_id ) {
		$this->claims = array( (int) $action_id => (int) $claim_id );
	}

	/**
	 * True for the action whose turn this is; false for one a callback runs itself (a nested process_action()): the
	 * sidecar knows nothing of that one, so it could not write a completion held for it if this worker died.
	 */
	public function is_turn( $action_id ) {
		return isset( $this->claims[ (int) $action_id ] );
	}

	public function holds() {
		return $this->lines || $this->completions;
	}

	/** Holds back the log line $log writes (a logger call) for the next commit. */
	public function hold_line( $action_id, $message, callable $log ) {
		$at     = current_time( 'mysql', true ); // the line carries this time or a later one
		$insert = QueryWatch::capture( $log );
		if ( $insert ) {
			$this->lines[]                       = array( (int) $action_id, (string) $message, $insert );
			$this->last_line[ (int) $action_id ] = array( (string) $message, $at );
		}
	}

	/** Adds lines made elsewhere (a start window's), to be sent after those already held. */
	public function add_lines( array $lines ) {
		foreach ( $lines as $line ) {
			$this->lines[] = $line;
		}
	}

	/** Holds back mark_complete()'s UPDATE, with the time it was made. */
	public function hold_completion( $action_id ) {
		$this->completions[ (int) $action_id ] = array( current_time( 'mysql', true ), current_time( 'mysql' ) );
	}

	/** When the completion of $action_id was made (gmt, local), or null when none is held. */
	public function completion_time( $action_id ) {
		return isset( $this->completions[ (int) $action_id ] ) ? $this->completions[ (int) $action_id ] : null;
	}

	/**
	 * Commits what is held, in one transaction. False when it may have been lost (an error, or the connection changed
	 * meanwhile): it stays in progress, and the sidecar writes the completions the worker reported.
	 *
	 * @param bool $safe_point True between actions (the worker's own calls): a transaction other code left open is
	 *                         committed too, even with nothing held, and autocommit is turned back on (transaction()).
	 *                         False right before other code's START TRANSACTION (QueryWatch): only ours is committed.
	 */
	public function flush( $safe_point = true ) {
		if ( ! $this->holds() && ! ( $safe_point && QueryWatch::foreign_transaction() ) ) {
			return true;
		}
		return $this->transaction(
			function () {
				return $this->send_held();
			},
			false,
			$safe_point
		);
	}

	/**
	 * WorkerStore::log_execution(): this action's start, committed with what is held, right before its callback.
	 * True when it may run; false when its row is gone (the caller lets the parent report that). A start that was
	 * refused does not return.
	 */
	public function start_action( $action_id ) {
		$action_id = (int) $action_id;
		if ( StartWindow::started_by_window( $action_id ) ) {
			// Its start was committed by its window, which the sidecar knows how to undo ("window").
			$this->tell_start( $action_id, null );
			StartWindow::turn_started( $action_id ); // started by its window's commit; its line was written there
			if ( QueryWatch::foreign_transaction() ) {
				// The previous action's code left a transaction open (or autocommit off): commit it, with what is
				// held, before this callback runs, as a start of its own would have. A failure here is the same
				// lost connection the next commit reports.
				$this->flush();
			}
			$this->tell_running( $action_id );
			return true;
		}
		$claim           = isset( $this->claims[ $action_id ] ) ? $this->claims[ $action_id ] : 0;
		$gmt             = current_time( 'mysql', true );
		$line            = $this->last_message_of( $action_id );
		$noted           = isset( $this->last_line[ $action_id ] ) ? $this->last_line[ $action_id ] : null;
		$this->last_line = array(); // earlier entries belong to actions that finished
		$flushed         = $noted && '' === $line; // its "started" line is no longer held: it was sent already
		// Before the commit: a worker that dies in between leaves the row pending, and pending is never failed. With
		// what undoes this start (as refuse() would) if the worker dies after the commit but before "running".
		$this->tell_start(
			$action_id,
			array(
				'id'      => $action_id,
				'gmt'     => $gmt,
				'message' => '' !== $line ? $line : ( $flushed ? $noted[0] : '' ),
				'since'   => $noted ? $noted[1] : $gmt,
			)
		);
		$state   = 'started';
		$started = $this->transaction(
			function () use ( $action_id, $claim, $gmt, &$state ) {
				$prev = 1 === count( $this->completions ) ? (int) key( $this->completions ) : 0;
				if ( $prev && $prev !== $action_id ) {
					// The previous action's completion and this start in one UPDATE of both rows.
					list( $p_gmt, $p_local ) = $this->completions[ $prev ];
					$this->completions       = array();
					$rows                    = RunnerRows::complete_and_start( $prev, $p_gmt, $p_local, $action_id, $gmt, current_time( 'mysql' ), $claim );
					$ok                      = false !== $rows && 2 === (int) $rows;
				} else {
					if ( ! $this->send_completions() ) {
						return false;
					}
					$rows = RunnerRows::start( $action_id, $gmt, current_time( 'mysql' ), $claim );
					$ok   = false !== $rows && 1 === (int) $rows;
				}
				if ( false === $rows ) {
					return false;
				}
				if ( ! $ok ) {
					// Not started: the row is gone, or (the compare-and-set) not pending under our claim any more.
					$row   = RunnerRows::status_and_claim( $action_id );
					$state = ! $row ? 'gone' : ( Contract::STATUS_RUNNING === $row->status && ( ! $claim || (int) $row->claim_id === $claim ) ? 'started' : 'refused' );
				}
				if ( 'refused' === $state ) {
					$this->drop_lines_of( $action_id, true ); // its "started" line goes with it
				}
				return $this->send_lines();
			}
		);
		if ( ! $started ) {
			$this->refuse( $action_id, $claim, $gmt, $flushed ? $noted[0] : $line, 'the database connection was lost before its start was committed', $noted ? $noted[1] : $gmt );
		}
		if ( 'refused' === $state ) {
			// Its held "started" line was dropped in the transaction; one that was sent before is deleted.
			$this->refuse( $action_id, $claim, $gmt, $flushed ? $noted[0] : '', sprintf( 'it is no longer pending under claim %d', $claim ), $noted ? $noted[1] : $gmt );
		}
		if ( 'started' === $state ) {
			$this->tell_running( $action_id );
		}
		return 'gone' !== $state;
	}

	/** The worker's "started": this action's start is about to be committed ($start: how to undo it; null: a window's). */
	private function tell_start( $action_id, $start ) {
		if ( $this->on_start ) {
			call_user_func( $this->on_start, $action_id, $start );
		}
	}

	/**
	 * The worker's "running": the start is committed and the callback comes next, with no statement in between. Only
	 * after this may the sidecar fail the action if the worker dies: a death between "started" and here (waiting for
	 * the start's COMMIT, say) left the callback unrun, and the sidecar undoes the start instead of failing it.
	 */
	private function tell_running( $action_id ) {
		if ( $this->on_running ) {
			call_user_func( $this->on_running, $action_id );
		}
	}

	/**
	 * The action must not run, and it never started, so it must not be failed either. Whatever of its start may have
	 * been committed is undone (a COMMIT whose answer was lost), then the sidecar is told and this process exits:
	 * inside the library's process_action() there is no other way to stop the callback without failing the action.
	 */
	private function refuse( $action_id, $claim, $gmt, $message, $why, $line_since = null ) {
		$line_since = null === $line_since ? $gmt : $line_since;
		$this->discard();
		if ( $claim ) {
			RunnerRows::unstart( $action_id, $claim, $gmt );
		}
		if ( $message ) {
			LogLines::delete_last_since( $action_id, $message, $line_since );
		}
		error_log( sprintf( 'Sidecar Scheduler: action %d was not started (%s); this worker stops without running it.', $action_id, $why ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the reason a worker stops goes to PHP's error log, which the sidecar shows.
		if ( $this->on_refused ) {
			call_user_func( $this->on_refused, $action_id );
		}
		exit( 75 ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an exit status for the sidecar (75: restart me), not output.
	}

	/** Takes this action's held lines out (all of them, or only the last: its "started" line); returns its message. */
	private function drop_lines_of( $action_id, $last_only ) {
		$message = '';
		for ( $i = count( $this->lines ) - 1; $i >= 0; $i-- ) {
			if ( $this->lines[ $i ][0] === $action_id ) {
				$message = $message ? $message : $this->lines[ $i ][1];
				unset( $this->lines[ $i ] );
				if ( $last_only ) {
					break;
				}
			}
		}
		$this->lines = array_values( $this->lines );
		return $message;
	}

	/** The message of the last line held for this action (its "started" line, at its start), or ''. */
	private function last_message_of( $action_id ) {
		for ( $i = count( $this->lines ) - 1; $i >= 0; $i-- ) {
			if ( $this->lines[ $i ][0] === $action_id ) {
				return $this->lines[ $i ][1];
			}
		}
		return '';
	}

	/** Sends everything held (inside a transaction). */
	public function send_held() {
		return $this->send_completions() && $this->send_lines();
	}

	private function send_completions() {
		$held              = $this->completions;
		$this->completions = array();
		return ! $held || false !== RunnerRows::complete( $held );
	}

	/** The held lines, in the order they were logged: consecutive INSERTs of the same shape as one multi-row INSERT. */
	private function send_lines() {
		$lines       = $this->lines;
		$this->lines = array();
		$prefix      = null;
		$values      = array();
		$flush       = function () use ( &$prefix, &$values ) {
			$ok     = null === $prefix || false !== LogLines::send( $prefix . implode( ', ', $values ) );
			$prefix = null;
			$values = array();
			return $ok;
		};
		foreach ( $lines as $line ) {
			list( $head, $tuple ) = $line[2];
			if ( '' === $head ) {
				if ( ! $flush() || false === LogLines::send( $tuple ) ) { // each tuple was prepared when it was queued
					return false;
				}
				continue;
			}
			if ( $head !== $prefix && ! $flush() ) {
				return false;
			}
			$prefix   = $head;
			$values[] = $tuple;
		}
		return $flush();
	}

	/** A refused start: this worker stops, and the sidecar writes the outcomes it reported (what is held goes). */
	public function discard() {
		$this->last_line   = array();
		$this->lines       = array();
		$this->completions = array();
	}

	/**
	 * Runs the worker's own statements in one transaction of its own. True when they were all sent and committed on
	 * an unchanged connection.
	 *
	 * Always a transaction of our own, even when other code left one open on the connection or turned autocommit off
	 * (a callback or hook that never ended its transaction): run inside theirs, our writes (an action's start, the
	 * completions) were committed only if they committed, and a crash in between ran the action again. Our START
	 * TRANSACTION commits what they left open, as the server's implicit commit does; this only happens between two
	 * actions (QueryWatch never flushes into an open transaction of theirs), when their code has returned. Autocommit
	 * left off is turned back on here, after our COMMIT ($restore_autocommit), so that the next action's callback and
	 * hooks autocommit their writes as they would in a fresh request.
	 */
	public function transaction( callable $statements, $read_committed = false, $restore_autocommit = true ) {
		global $wpdb;
		// What is held when the transaction starts: if it fails, the held writes are held again (not dropped), so the
		// next transaction sends them. Dropping them lost completions: after a failed commit nobody wrote them, and
		// the rows stayed in progress for the cleaner to fail. Re-sending is safe: a completion UPDATE sets the
		// same values again; at worst a "complete" line is written twice when a COMMIT's answer was lost.
		$held = array( $this->lines, $this->completions );
		$ok   = QueryWatch::own(
			function () use ( $wpdb, $statements, $read_committed, $restore_autocommit ) {
				$foreign = QueryWatch::foreign_transaction();
				if ( $foreign ) {
					// Logged once per worker: the other code's transaction is committed here, not by them.
					if ( ! self::$said_foreign ) {
						self::$said_foreign = true;
						error_log( 'Sidecar Scheduler: an action\'s code left a database transaction open (or autocommit off) on the worker\'s connection; the worker commits it before the next action starts' . ( $restore_autocommit && QueryWatch::autocommit_off() ? ' and turns autocommit back on' : '' ) . '.' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- a warning for the site owner in PHP's error log, which the sidecar shows.
					}
				}
				if ( $read_committed ) {
					$wpdb->query( 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED' ); // the next transaction only: no gap locks
				}
				if ( false === $wpdb->query( 'START TRANSACTION' ) ) {
					return false;
				}
				// The connection object itself, held until the COMMIT: wpdb reconnects by itself after "server has
				// gone away" and then runs COMMIT on a fresh connection, where it succeeds with nothing to commit.
				// Only the same object proves the writes committed. (A thread ID does not: a restarted server
				// numbers its connections from 1 again, so a fresh connection can get the old one's ID.)
				$connection = $wpdb->dbh;
				if ( $foreign ) {
					QueryWatch::foreign_transaction_ended( false ); // our START TRANSACTION committed theirs
				}
				if ( ! $statements() ) {
					$wpdb->query( 'ROLLBACK' );
					return false;
				}
				$committed = false !== $wpdb->query( 'COMMIT' ) && null !== $connection && $wpdb->dbh === $connection;
				if ( $restore_autocommit && QueryWatch::autocommit_off() && false !== $wpdb->query( 'SET autocommit = 1' ) ) {
					QueryWatch::foreign_transaction_ended( true );
				}
				return $committed;
			}
		);
		if ( ! $ok ) {
			list( $this->lines, $this->completions ) = $held;
		}
		return $ok;
	}
}
