<?php
defined( 'ABSPATH' ) || exit;

/** The runner method the library renamed to get_time_limit() in 2.1.1, still offered with a deprecation notice. */
abstract class ActionScheduler_Abstract_QueueRunner_Deprecated {
	protected function get_maximum_execution_time() {
		_deprecated_function( __METHOD__, '2.1.1', 'ActionScheduler_Abstract_QueueRunner::get_time_limit()' );
		$time_limit = 30;
		if ( has_filter( 'action_scheduler_maximum_execution_time' ) ) {
			_deprecated_function( 'action_scheduler_maximum_execution_time', '2.1.1', 'action_scheduler_queue_runner_time_limit' );
			$time_limit = apply_filters( 'action_scheduler_maximum_execution_time', $time_limit );
		}
		return absint( $time_limit );
	}
}
