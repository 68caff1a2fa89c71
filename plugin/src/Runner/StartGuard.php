<?php
/**
 * Every start the sidecar's worker makes is a compare-and-set on status and claim: an action runs only while it is
 * pending and claimed by the claim the worker was given, checked in the same statement that marks it in progress
 * (standalone mode: our store's log_execution(); companion mode: a row lock held from the status check to the start's
 * commit). So a stale claim, another runner, or a request that arrives late (a rest call nginx gave up on) can never
 * start an action twice; it is reported "lost" instead, and it stays as it was.
 *
 * And a row is failed only if its callback started: fail_started() changes only a row in progress under the claim
 * that ran it. A pending row never started; it goes back to the queue when its claim is released.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class StartGuard {
	private static $action  = 0;
	private static $claim   = 0;
	/** @var string GMT time just before the action's turn: its start, if any, is at or after it. */
	private static $since   = '';
	private static $refused = false;

	/** The worker is about to run $action_id for $claim_id (0: no claim known, the library's plain start). */
	public static function expect( $action_id, $claim_id ) {
		self::$action  = (int) $action_id;
		self::$claim   = (int) $claim_id;
		self::$since   = current_time( 'mysql', true );
		self::$refused = false;
	}

	/** The action's turn is over. True when its start was refused (it did not run). */
	public static function done() {
		$refused       = self::$refused;
		self::$action  = 0;
		self::$claim   = 0;
		self::$refused = false;
		return $refused;
	}

	/** The claim a start of $action_id must match, or 0 when none is enforced. */
	public static function claim_for( $action_id ) {
		return self::$action === (int) $action_id ? self::$claim : 0;
	}

	/** False when the row read at the status check belongs to another claim: it must not start here. */
	public static function allows( $action_id, $row_claim_id ) {
		$claim = self::claim_for( $action_id );
		return ! $claim || (int) $row_claim_id === $claim;
	}

	/**
	 * Companion mode (the library's store writes the start without a condition): lock the row inside the worker's
	 * open transaction and check it, so nobody changes it between the status check and the start's commit.
	 */
	public static function lock_row( $action_id ) {
		global $wpdb;
		$claim = self::claim_for( $action_id );
		if ( ! $claim ) {
			return true;
		}
		$row = $wpdb->get_row( $wpdb->prepare( "SELECT status, claim_id FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d FOR UPDATE", $action_id ) );
		return $row && Contract::STATUS_PENDING === $row->status && (int) $row->claim_id === $claim;
	}

	/**
	 * A start that was refused, or whose commit was lost: nothing of it may remain. Its "started" line goes, and if
	 * the start was committed after all (a COMMIT whose answer was lost) the row goes back to pending with its attempt
	 * undone. Only a row in progress under our claim since this turn began can be ours, so nobody else's is touched.
	 */
	public static function refused( $action_id, $context ) {
		global $wpdb;
		self::$refused = true;
		$claim         = self::claim_for( $action_id );
		if ( $claim ) {
			$wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, attempts = GREATEST(attempts, 1) - 1 WHERE action_id = %d AND status = %s AND claim_id = %d AND last_attempt_gmt >= %s", Contract::STATUS_PENDING, $action_id, Contract::STATUS_RUNNING, $claim, self::$since ) );
		}
		// A DELETE on the logs table first writes the lines the worker holds back (QueryWatch), this one included.
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id = %d AND message = %s AND log_date_gmt >= %s", $action_id, LogText::started( $context ), self::$since ) );
	}

	/** Marks the turn refused without any write (the check before the start said no). */
	public static function refuse_quietly() {
		self::$refused = true;
	}

	/**
	 * The sidecar's "fail" (time limit, crash): only an action whose callback started is failed, i.e. in progress
	 * under the claim that ran it. True when the row changed.
	 */
	public static function fail_started( $action_id, $claim_id ) {
		global $wpdb;
		$claim = $claim_id ? $wpdb->prepare( ' AND claim_id = %d', $claim_id ) : '';
		return 1 === (int) $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s WHERE action_id = %d AND status = %s", Contract::STATUS_FAILED, $action_id, Contract::STATUS_RUNNING ) . $claim ); // phpcs:ignore WordPress.DB.PreparedSQL -- both parts prepared.
	}
}
