<?php
/**
 * Start windows: the sidecar's worker marks the next few claimed actions in progress in one transaction before it
 * runs them in order, instead of one commit per action. Only for fast actions (the sidecar sizes a window to about
 * ten milliseconds of work at the lane's recent run time; slow actions get a window of one, the exact per-action
 * sequence), and only in standalone mode with our own store and logger.
 *
 * What stays as with the library: every callback starts with its in-progress state and "action started" line
 * committed (at-most-once); each action re-reads its row right before it runs, so a cancel or delete by ID that
 * arrives meanwhile stops it, and its mark is then undone (attempts, last attempt and the "started" line restored),
 * so the row ends as the library would leave it; plugin code in this worker sees marked actions as pending (our
 * store's get_status() and status queries). What differs (README, "Start windows"): for up to a window, the actions
 * waiting their turn read in progress to other processes, whose queries for pending actions (as_unschedule_action,
 * as_next_scheduled_action) then miss them; a window shares one start time.
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

	/** True when the "started" state of this action was written by its window (process_action skips writing it). */
	public static function started_by_window( $action_id ) {
		return self::$running === (int) $action_id;
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
		$a = $wpdb->actionscheduler_actions;
		$pipeline->begin();
		$in   = implode( ',', array_map( 'intval', $ids ) );
		// Lock the rows for the few statements below, so no other session changes one between the check and the mark.
		$rows = $wpdb->get_results( "SELECT action_id, status, claim_id, last_attempt_gmt, last_attempt_local FROM {$a} WHERE action_id IN ({$in}) FOR UPDATE" ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
		$prev = array();
		foreach ( (array) $rows as $row ) {
			if ( Contract::STATUS_PENDING === $row->status && ( ! $claim_id || (int) $row->claim_id === (int) $claim_id ) ) {
				$prev[ (int) $row->action_id ] = array( $row->last_attempt_gmt, $row->last_attempt_local );
			}
		}
		// In claim order, the order they will run in.
		$marked = array_values( array_filter( array_map( 'intval', $ids ), static function ( $id ) use ( $prev ) { return isset( $prev[ $id ] ); } ) );
		if ( ! $marked ) {
			$pipeline->commit();
			return false;
		}
		$gmt   = current_time( 'mysql', true );
		$local = current_time( 'mysql' );
		$list  = implode( ',', $marked );
		$wpdb->query( $wpdb->prepare( "UPDATE {$a} SET attempts = attempts + 1, status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id IN ({$list})", Contract::STATUS_RUNNING, $gmt, $local ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
		$logger  = \ActionScheduler::logger();
		$message = LogText::started( $context );
		foreach ( $marked as $id ) {
			$logger->log_held( $id, $message, $gmt, $local );
		}
		$announce( array( 'ids' => $marked, 'gmt' => $gmt, 'message' => $message, 'prev' => (object) $prev ) );
		// Held either way. If the connection went away, whether the marks were committed is unknown: at its turn a
		// marked row reads "in progress" and runs as ours, an unmarked one reads "pending" and runs the ordinary way
		// (its undo finds no mark to undo).
		$pipeline->commit();
		foreach ( $marked as $id ) {
			self::$held[ $id ] = $prev[ $id ];
		}
		self::$claim   = (int) $claim_id;
		self::$gmt     = $gmt;
		self::$message = $message;
		return true;
	}

	/**
	 * process_action() calls this with the status it just read. A marked action reads "in progress": it is ours to
	 * run, so it counts as pending. Anything else means another process changed it since the mark (a cancel by ID,
	 * say): the mark is undone, so the row ends as the library leaves an action it ignores.
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
		self::undo( array( $action_id => self::$held[ $action_id ] ), self::$claim, self::$gmt, self::$message, false );
		unset( self::$held[ $action_id ] );
		return $status;
	}

	/**
	 * The action's turn is over. If it is still held, its status was never read (its row vanished, or the database
	 * failed): undo the mark if it is still there, so it is not left in progress with no run behind it.
	 */
	public static function turn_over( $action_id ) {
		self::$running = null;
		$action_id     = (int) $action_id;
		if ( isset( self::$held[ $action_id ] ) ) {
			self::undo( array( $action_id => self::$held[ $action_id ] ), self::$claim, self::$gmt, self::$message, true );
			unset( self::$held[ $action_id ] );
		}
	}

	/** The worker stops before running every marked action: undo the marks of those it will not run. */
	public static function release_held() {
		if ( self::$held ) {
			self::undo( self::$held, self::$claim, self::$gmt, self::$message, true );
			self::$held = array();
		}
	}

	/**
	 * Undoes marks: attempts back by one and the last attempt as before, and the "started" line removed. Only rows
	 * that still carry the mark are touched (same time; with $unstart also still in progress under the same claim, and
	 * then back to pending); used here, and by the sidecar's "settle" request after a worker died.
	 *
	 * @param array<int, array{0: string, 1: string}> $prev Action ID => last_attempt gmt/local before the mark.
	 */
	public static function undo( array $prev, $claim_id, $gmt, $message, $unstart ) {
		global $wpdb;
		$undone = 0;
		foreach ( $prev as $id => $before ) {
			$sql = $unstart
				? $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND status = %s AND claim_id = %d AND last_attempt_gmt = %s", Contract::STATUS_PENDING, $before[0], $before[1], $id, Contract::STATUS_RUNNING, $claim_id, $gmt )
				: $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND last_attempt_gmt = %s", $before[0], $before[1], $id, $gmt );
			if ( $wpdb->query( $sql ) ) { // phpcs:ignore WordPress.DB.PreparedSQL -- prepared above.
				$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id = %d AND message = %s AND log_date_gmt = %s", $id, $message, $gmt ) );
				$undone++;
			}
		}
		return $undone;
	}
}
