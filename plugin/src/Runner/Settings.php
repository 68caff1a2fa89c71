<?php
/**
 * The filtered values the sidecar must honour (facts §12.13), read in PHP so plugins' filters apply. The sidecar asks
 * a worker for them when a site starts.
 *
 * How each of the library's runner filters is read under the sidecar:
 * - action_scheduler_queue_runner_batch_size: the most actions one claim takes, when a plugin filters it (the sidecar's
 *   --batch-size, when given, wins);
 * - action_scheduler_queue_runner_concurrent_batches: not used; --workers and --lanes say how many actions run at once;
 * - action_scheduler_queue_runner_time_limit: feeds the default timeout and failure periods (10 times it), as in the
 *   library; a claim already holds only about a second of work, so it bounds nothing else;
 * - action_scheduler_timeout_period / action_scheduler_failure_period: the maintenance pass resets claims and fails
 *   stuck actions with them, and no action is killed before the failure period has passed.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class Settings {
	public static function current() {
		$time_limit     = absint( apply_filters( 'action_scheduler_queue_runner_time_limit', 30 ) );
		$failure_period = (int) apply_filters( 'action_scheduler_failure_period', 10 * $time_limit );
		return array(
			'batch_size'          => (int) apply_filters( 'action_scheduler_queue_runner_batch_size', 25 ),
			'batch_size_filtered' => false !== has_filter( 'action_scheduler_queue_runner_batch_size' ),
			'concurrent_batches'  => (int) apply_filters( 'action_scheduler_queue_runner_concurrent_batches', 1 ),
			'time_limit'          => $time_limit,
			'timeout_period'      => (int) apply_filters( 'action_scheduler_timeout_period', 10 * $time_limit ),
			'failure_period'      => $failure_period,
			'retention_period'    => (int) apply_filters( 'action_scheduler_retention_period', MONTH_IN_SECONDS + DAY_IN_SECONDS ),
			'cleanup_batch_size'  => (int) apply_filters( 'action_scheduler_cleanup_batch_size', 20 ),
			'action_time_limit'   => self::action_time_limit( $failure_period ),
			'mode'                => \SidecarScheduler\Plugin::mode(),
		);
	}

	/**
	 * Seconds an action may run before the sidecar kills its worker and fails it. Never less than the failure period:
	 * the library lets an action run until its cleaner fails it after that period, so a plugin that raises the period
	 * for long actions gets them run to the end; the library's own text then gives the same seconds. A negative
	 * failure period (the library never fails a running action) means no limit: 0.
	 */
	private static function action_time_limit( $failure_period ) {
		if ( $failure_period < 0 ) {
			return 0;
		}
		$limit = (int) apply_filters( 'sidecar_scheduler_action_time_limit', $failure_period );
		return max( 1, $limit, $failure_period );
	}
}
