<?php
/**
 * Start windows: the sidecar's worker marks the next few claimed actions in progress in one transaction before it
 * runs them in order, instead of one commit per action. Only for fast actions (the sidecar sizes a window to about
 * ten milliseconds of work at the lane's recent run time; slow actions get a window of one, the exact per-action
 * sequence), in both modes (the store and logger are WorkerStore / WorkerLogger over whichever library is loaded).
 *
 * What stays as with the library: every callback starts with its in-progress state and "action started" line
 * committed (at-most-once); the "started" lines are made by the logger's own handler (not written at all if a plugin
 * unhooked it); each action re-reads its row right before it runs, so a cancel or delete by ID that arrives meanwhile
 * stops it, and its mark is then undone (attempts, last attempt and the "started" line restored), so the row ends as
 * the library would leave it; code in this worker sees marked actions as pending (WorkerStore's get_status() and
 * status queries). What differs (README, "Start windows"): for up to a window, the actions waiting their turn read in
 * progress to other processes, whose queries for pending actions (as_unschedule_action, as_next_scheduled_action)
 * then miss them; a window shares one start time.
 *
 * A mark that never turns into a run is undone: by this worker when it stops early (a "stop", stdin closed, a job
 * or memory limit), or by the sidecar through a fresh worker when this one dies (the "window" message tells it
 * what to undo). Only a crash of both at once leaves marks behind; the cleaner then fails them after the failure
 * period, as it does the one action the library had running.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class StartWindow {
	/** @var array<int, array{0: string, 1: string}> Marked, not yet started: action ID => last_attempt gmt/local before the mark. */
	private static $held = array();
	/** @var int|null The marked action process_action() is running now (its start is already written). */
	private static $running = null;
	/** @var array<int, true> Marked actions whose "started" line the window wrote (and whose handler has not run yet). */
	private static $lines = array();
	private static $claim   = 0;
	private static $gmt     = '';
	private static $message = '';
	/** @var bool True while a stream runs with windows (set by the worker). */
	private static $active = false;

	public static function activate( $on ) {
		self::$active = (bool) $on;
	}

	public static function active() {
		return self::$active;
	}

	/** @return int[] Marked actions that have not had their turn yet. */
	public static function held_ids() {
		return array_keys( self::$held );
	}

	public static function holds( $action_id ) {
		return isset( self::$held[ (int) $action_id ] );
	}

	/** True when the "started" state of this action was written by its window (its start writes nothing). */
	public static function started_by_window( $action_id ) {
		return self::$running === (int) $action_id;
	}

	/** The logger's "started" handler ran at the turn and found the window's line. */
	public static function line_confirmed( $action_id ) {
		unset( self::$lines[ (int) $action_id ] );
	}

	/**
	 * The turn of a marked action reached its start (WorkerStore::log_execution()). If the window wrote its
	 * "started" line but the logger's handler did not run at the turn (a plugin unhooked it since), the line goes:
	 * the library would not have written it.
	 */
	public static function turn_started( $action_id ) {
		global $wpdb;
		$action_id = (int) $action_id;
		if ( isset( self::$lines[ $action_id ] ) ) {
			unset( self::$lines[ $action_id ] );
			$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id = %d AND message = %s AND log_date_gmt >= %s ORDER BY log_id DESC LIMIT 1", $action_id, self::$message, self::$gmt ) );
		}
	}

	/**
	 * Marks the pending actions among $ids (in claim order, claimed by $claim_id) in progress, with their "started"
	 * lines, in one transaction together with whatever the worker holds back (the previous window's completions).
	 * $announce gets what the sidecar needs to undo the marks if this process dies (the IDs, the mark's time and
	 * message, each row's last attempt before it) before they are committed: a death in between leaves nothing the
	 * sidecar does not know of, and undoing a mark that never committed changes nothing. True when marks were made.
	 */
	public static function open( array $ids, $claim_id, $context, CommitPipeline $pipeline, callable $announce ) {
		global $wpdb;
		$ids   = array_map( 'intval', $ids );
		$gmt   = current_time( 'mysql', true );
		$local = current_time( 'mysql' );
		// Made before the transaction by the logger's own handler (if it is hooked): nothing but our statements runs in it.
		$logger = \ActionScheduler::logger();
		$lines  = $logger instanceof WorkerLogger ? $logger->started_lines( $ids, $context ) : array();
		$marked = array();
		$prev   = array();
		$ok     = $pipeline->transaction(
			function () use ( $wpdb, $ids, $claim_id, $gmt, $local, $lines, $pipeline, $announce, &$marked, &$prev ) {
				$a  = $wpdb->actionscheduler_actions;
				$in = implode( ',', $ids );
				// Lock the rows for the few statements below, so no other session changes one between the check and the mark.
				$rows = $wpdb->get_results( "SELECT action_id, status, claim_id, last_attempt_gmt, last_attempt_local FROM {$a} WHERE action_id IN ({$in}) FOR UPDATE" ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
				foreach ( (array) $rows as $row ) {
					if ( Contract::STATUS_PENDING === $row->status && ( ! $claim_id || (int) $row->claim_id === (int) $claim_id ) ) {
						$prev[ (int) $row->action_id ] = array( $row->last_attempt_gmt, $row->last_attempt_local );
					}
				}
				// In claim order, the order they will run in.
				$marked = array_values( array_filter( $ids, static function ( $id ) use ( $prev ) { return isset( $prev[ $id ] ); } ) );
				if ( $marked ) {
					$message = $lines ? reset( $lines )[0] : '';
					$announce( array( 'ids' => $marked, 'gmt' => $gmt, 'message' => $message, 'prev' => (object) $prev ) );
					$list = implode( ',', $marked );
					if ( false === $wpdb->query( $wpdb->prepare( "UPDATE {$a} SET attempts = attempts + 1, status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id IN ({$list})", Contract::STATUS_RUNNING, $gmt, $local ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
						return false;
					}
					$add = array();
					foreach ( $marked as $id ) {
						if ( isset( $lines[ $id ] ) ) {
							$add[] = array( $id, $lines[ $id ][0], $lines[ $id ][1] );
						}
					}
					$pipeline->add_lines( $add );
				}
				// The previous window's completions and lines, then this window's "started" lines, in that order.
				return $pipeline->send_held();
			},
			true
		);
		if ( ! $ok || ! $marked ) {
			// If the connection went away, whether the marks were committed is unknown: at its turn a marked row reads
			// "in progress" and is undone (not ours to run any more), an unmarked one reads "pending" and runs.
			self::$held = array();
			if ( ! $ok && $marked ) {
				foreach ( $marked as $id ) {
					self::$held[ $id ] = $prev[ $id ];
				}
				self::remember( $claim_id, $gmt, $lines );
				self::release_held();
			}
			return false;
		}
		foreach ( $marked as $id ) {
			self::$held[ $id ] = $prev[ $id ];
		}
		self::remember( $claim_id, $gmt, $lines );
		return true;
	}

	private static function remember( $claim_id, $gmt, array $lines ) {
		self::$claim   = (int) $claim_id;
		self::$gmt     = $gmt;
		self::$message = $lines ? reset( $lines )[0] : '';
		self::$lines   = array();
		foreach ( array_keys( $lines ) as $id ) {
			if ( isset( self::$held[ $id ] ) ) {
				self::$lines[ $id ] = true;
			}
		}
	}

	/**
	 * The runner's status check at the turn (WorkerStore::get_status()). A marked action reads "in progress": it is
	 * ours to run, so it counts as pending. Anything else means another process changed it since the mark (a cancel
	 * by ID, say): the mark is undone, so the row ends as the library leaves an action it ignores.
	 */
	public static function status_at_turn( $action_id, $status ) {
		$action_id = (int) $action_id;
		if ( ! isset( self::$held[ $action_id ] ) ) {
			return $status;
		}
		if ( Contract::STATUS_RUNNING === $status ) {
			unset( self::$held[ $action_id ] );
			self::$running = $action_id;
			return Contract::STATUS_PENDING;
		}
		self::undo( array( $action_id => self::$held[ $action_id ] ), self::$claim, self::$gmt, isset( self::$lines[ $action_id ] ) ? self::$message : '', false );
		unset( self::$held[ $action_id ], self::$lines[ $action_id ] );
		return $status;
	}

	/**
	 * The action's turn is over (the worker, after process_action()). If it is still held, its status was never read
	 * (its row vanished, or the database failed): undo the mark if it is still there, so it is not left in progress
	 * with no run behind it.
	 */
	public static function turn_over( $action_id ) {
		self::$running = null;
		$action_id     = (int) $action_id;
		if ( isset( self::$held[ $action_id ] ) ) {
			self::undo( array( $action_id => self::$held[ $action_id ] ), self::$claim, self::$gmt, isset( self::$lines[ $action_id ] ) ? self::$message : '', true );
			unset( self::$held[ $action_id ] );
		}
		unset( self::$lines[ $action_id ] );
	}

	/** The worker stops before running every marked action: undo the marks of those it will not run. */
	public static function release_held() {
		if ( self::$held ) {
			$held       = self::$held;
			self::$held = array();
			self::undo( $held, self::$claim, self::$gmt, self::$message, true );
			self::$lines = array();
		}
	}

	/**
	 * Undoes marks: attempts back by one and the last attempt as before, and the "started" line removed. Only rows
	 * that still carry the mark are touched (same time; with $unstart also still in progress under the same claim, and
	 * then back to pending); used here, and by the sidecar's "settle" request after a worker died.
	 *
	 * @param array<int, array{0: string, 1: string}> $prev Action ID => last_attempt gmt/local before the mark.
	 * @param string                                  $message The window's "started" line ('' when it wrote none).
	 */
	public static function undo( array $prev, $claim_id, $gmt, $message, $unstart ) {
		global $wpdb;
		$undone = 0;
		foreach ( $prev as $id => $before ) {
			$sql = $unstart
				? $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND status = %s AND claim_id = %d AND last_attempt_gmt = %s", Contract::STATUS_PENDING, $before[0], $before[1], $id, Contract::STATUS_RUNNING, $claim_id, $gmt )
				: $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND last_attempt_gmt = %s", $before[0], $before[1], $id, $gmt );
			if ( $wpdb->query( $sql ) ) { // phpcs:ignore WordPress.DB.PreparedSQL -- prepared above.
				if ( '' !== (string) $message ) {
					// The newest such line since the mark: the one the window wrote (lines carry their own time, at or after it).
					$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id = %d AND message = %s AND log_date_gmt >= %s ORDER BY log_id DESC LIMIT 1", $id, $message, $gmt ) );
				}
				$undone++;
			}
		}
		return $undone;
	}
}
