<?php
/**
 * A row is failed only if its callback started: fail_started() changes only a row in progress under the claim that
 * ran it (the sidecar's "fail" after a time limit or a crash). A pending row never started; it goes back to the queue
 * when its claim is released. The other half, starting only what the claim holds, is the worker's start itself: a
 * compare-and-set on status and claim (CommitPipeline::start_action(), and Worker::run_one()'s check of the row).
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Store\RunnerRows;

defined( 'ABSPATH' ) || exit;

final class StartGuard {
	/**
	 * True when the row changed: it was in progress (under $claim_id, when given) and is failed now. A database error
	 * is thrown, not answered false: "not changed" tells the sidecar the row needed nothing, and it would not try again.
	 *
	 * @throws \RuntimeException When the update failed.
	 */
	public static function fail_started( $action_id, $claim_id ) {
		global $wpdb;
		$changed = RunnerRows::fail_running( $action_id, $claim_id );
		if ( false === $changed ) {
			throw new \RuntimeException( $wpdb->last_error ? $wpdb->last_error : 'database error' ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- sent to the sidecar, not printed.
		}
		return 1 === (int) $changed;
	}
}
