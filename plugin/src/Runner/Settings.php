<?php
/** The filtered values the sidecar must honour (facts §12.13): read in PHP so plugins' filters apply. */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class Settings {
	public static function current() {
		$time_limit = (int) apply_filters( 'action_scheduler_queue_runner_time_limit', 30 );
		return array(
			'batch_size'          => (int) apply_filters( 'action_scheduler_queue_runner_batch_size', 25 ),
			'concurrent_batches'  => (int) apply_filters( 'action_scheduler_queue_runner_concurrent_batches', 1 ),
			'time_limit'          => $time_limit,
			'timeout_period'      => (int) apply_filters( 'action_scheduler_timeout_period', 10 * $time_limit ),
			'failure_period'      => (int) apply_filters( 'action_scheduler_failure_period', 10 * $time_limit ),
			'retention_period'    => (int) apply_filters( 'action_scheduler_retention_period', MONTH_IN_SECONDS + DAY_IN_SECONDS ),
			'cleanup_batch_size'  => (int) apply_filters( 'action_scheduler_cleanup_batch_size', 20 ),
			'action_time_limit'   => (int) apply_filters( 'sidecar_scheduler_action_time_limit', 300 ),
			'mode'                => \SidecarScheduler\Plugin::mode(),
		);
	}
}
