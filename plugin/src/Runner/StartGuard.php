<?php
/**
 * A row is failed only if its callback started: fail_started() changes only a row in progress under the claim that
 * ran it (the sidecar's "fail" after a time limit or a crash). A pending row never started; it goes back to the queue
 * when its claim is released. The other half, starting only what the claim holds, is the worker's start itself: a
 * compare-and-set on status and claim (CommitPipeline::start_action(), and Worker::run_one()'s check of the row).
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the start's compare-and-set on the queue's custom table must read the row as it is now, never from a cache.

final class StartGuard {
	/** True when the row changed: it was in progress (under $claim_id, when given) and is failed now. */
	public static function fail_started( $action_id, $claim_id ) {
		global $wpdb;
		$claim = $claim_id ? $wpdb->prepare( ' AND claim_id = %d', $claim_id ) : '';
		return 1 === (int) $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s WHERE action_id = %d AND status = %s", Contract::STATUS_FAILED, $action_id, Contract::STATUS_RUNNING ) . $claim ); // phpcs:ignore WordPress.DB.PreparedSQL -- both parts prepared.
	}
}
