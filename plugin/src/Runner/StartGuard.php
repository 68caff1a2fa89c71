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
	/** True when the row changed: it was in progress (under $claim_id, when given) and is failed now. */
	public static function fail_started( $action_id, $claim_id ) {
		return 1 === (int) RunnerRows::fail_running( $action_id, $claim_id );
	}
}
