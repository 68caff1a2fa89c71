<?php
defined( 'ABSPATH' ) || exit;

/**
 * The base of every queue runner, as plugins know it from the library: custom runners and test helpers extend it and
 * implement run(). It runs one action with the library's hook sequence (process_action), schedules recurring
 * successors, and answers the concurrency, time and memory questions a batch loop asks. ActionScheduler_QueueRunner
 * (WP-Cron, async, WP-CLI and the sidecar's worker) extends it and adds what the sidecar needs.
 */
abstract class ActionScheduler_Abstract_QueueRunner extends ActionScheduler_Abstract_QueueRunner_Deprecated {
	/** @var ActionScheduler_QueueCleaner */
	protected $cleaner;
	/** @var ActionScheduler_FatalErrorMonitor */
	protected $monitor;
	/** @var ActionScheduler_Store */
	protected $store;
	/** @var float When this runner was made: batches measure their time from here. */
	private $created_time;

	public function __construct( ?ActionScheduler_Store $store = null, ?ActionScheduler_FatalErrorMonitor $monitor = null, ?ActionScheduler_QueueCleaner $cleaner = null ) {
		$this->created_time = microtime( true );
		$this->store        = $store ? $store : ActionScheduler_Store::instance();
		$this->monitor      = $monitor ? $monitor : new ActionScheduler_FatalErrorMonitor( $this->store );
		$this->cleaner      = $cleaner ? $cleaner : new ActionScheduler_QueueCleaner( $this->store );
	}

	/**
	 * Runs one action: before_execute, the status check (anything but pending is ignored), begin_execute, the
	 * callbacks, after_execute and completion; an exception or E_USER_ERROR fails it. Recurring actions get their
	 * successor whatever the outcome.
	 */
	public function process_action( $action_id, $context = '' ) {
		// E_USER_ERROR and E_RECOVERABLE_ERROR become exceptions, so they fail the action instead of the process.
		$to_exception = function ( $type, $message ) {
			throw new Exception( $message ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the PHP error's message verbatim, as the library logs it; printed as text, never as HTML.
		};
		// @phpstan-ignore argument.type (the handler never returns: it throws, so no bool is owed)
		set_error_handler( $to_exception, E_USER_ERROR | E_RECOVERABLE_ERROR ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_set_error_handler -- as the library's runner does; restored below.
		$valid_action = false;
		try {
			try {
				do_action( 'action_scheduler_before_execute', $action_id, $context );
				if ( ActionScheduler_Store::STATUS_PENDING !== $this->store->get_status( $action_id ) ) {
					do_action( 'action_scheduler_execution_ignored', $action_id, $context );
					return;
				}
				$valid_action = true;
				do_action( 'action_scheduler_begin_execute', $action_id, $context );
				$action = $this->store->fetch_action( $action_id );
				$this->store->log_execution( $action_id );
				$action->execute();
				do_action( 'action_scheduler_after_execute', $action_id, $action, $context );
				$this->store->mark_complete( $action_id );
			} catch ( Throwable $e ) {
				// Errors (TypeError, …) are reported as exceptions, wrapped, as the library's hooks expect.
				throw new Exception( $e->getMessage(), (int) $e->getCode(), $e );
			}
		} catch ( Exception $e ) {
			if ( $valid_action ) {
				$this->store->mark_failure( $action_id );
				do_action( 'action_scheduler_failed_execution', $action_id, $e, $context );
			} else {
				do_action( 'action_scheduler_failed_validation', $action_id, $e, $context );
			}
		} finally {
			restore_error_handler();
		}
		if ( isset( $action ) && is_a( $action, 'ActionScheduler_Action' ) && $action->get_schedule()->is_recurring() ) {
			$this->schedule_next_instance( $action, $action_id );
		}
	}

	/** The successor of a recurring action, unless it has been failing consistently. */
	protected function schedule_next_instance( ActionScheduler_Action $action, $action_id ) {
		if ( ActionScheduler_Store::STATUS_FAILED === $this->store->get_status( $action_id ) && $this->is_consistently_failing( $action ) ) {
			ActionScheduler_Logger::instance()->log( $action_id, __( 'This action appears to be consistently failing. A new instance will not be scheduled.', 'sidecar-scheduler' ) );
			return;
		}
		try {
			ActionScheduler::factory()->repeat( $action );
		} catch ( Exception $e ) {
			do_action( 'action_scheduler_failed_to_schedule_next_instance', $action_id, $e, $action );
		}
	}

	/**
	 * True when the N-th oldest action of this hook is also its N-th oldest failed one (N: the failure threshold).
	 * The date bound is passed as a string, which the store ignores, as the library does (facts §4).
	 */
	private function is_consistently_failing( ActionScheduler_Action $action ) {
		$threshold  = (int) apply_filters( 'action_scheduler_recurring_action_failure_threshold', 5 );
		$query      = array(
			'hook'         => $action->get_hook(),
			'status'       => ActionScheduler_Store::STATUS_FAILED,
			'date'         => gmdate( 'Y-m-d H:i:s' ),
			'date_compare' => '<',
			'per_page'     => 1,
			'offset'       => $threshold - 1,
		);
		$nth_failed = $this->store->query_actions( $query );
		if ( empty( $nth_failed ) ) {
			return false;
		}
		unset( $query['status'] );
		$nth_any = $this->store->query_actions( $query );
		return (bool) apply_filters( 'action_scheduler_recurring_action_is_consistently_failing', $nth_any === $nth_failed, $action );
	}

	protected function run_cleanup() {
		$this->cleaner->clean( 10 * $this->get_time_limit() );
	}

	public function get_allowed_concurrent_batches() {
		return apply_filters( 'action_scheduler_queue_runner_concurrent_batches', 1 );
	}

	public function has_maximum_concurrent_batches() {
		return $this->store->get_claim_count() >= $this->get_allowed_concurrent_batches();
	}

	protected function get_time_limit() {
		$time_limit = 30;
		if ( has_filter( 'action_scheduler_maximum_execution_time' ) ) {
			_deprecated_function( 'action_scheduler_maximum_execution_time', '2.1.1', 'action_scheduler_queue_runner_time_limit' );
			$time_limit = apply_filters( 'action_scheduler_maximum_execution_time', $time_limit );
		}
		return absint( apply_filters( 'action_scheduler_queue_runner_time_limit', $time_limit ) );
	}

	/** Wall time since this runner was made, or (when the filter says so, e.g. on Pantheon) the process' system CPU time. */
	protected function get_execution_time() {
		$execution_time = microtime( true ) - $this->created_time;
		if ( function_exists( 'getrusage' ) && apply_filters( 'action_scheduler_use_cpu_execution_time', defined( 'PANTHEON_ENVIRONMENT' ) ) ) {
			$usage = getrusage();
			if ( isset( $usage['ru_stime.tv_sec'], $usage['ru_stime.tv_usec'] ) ) {
				$execution_time = $usage['ru_stime.tv_sec'] + ( $usage['ru_stime.tv_usec'] / 1000000 );
			}
		}
		return $execution_time;
	}

	/** Would three more actions of the average duration so far overrun the time limit? */
	protected function time_likely_to_be_exceeded( $processed_actions ) {
		$execution_time     = $this->get_execution_time();
		$max_execution_time = $this->get_time_limit();
		if ( 0 === $processed_actions ) {
			return $execution_time >= $max_execution_time;
		}
		$estimate = $execution_time + 3 * ( $execution_time / $processed_actions );
		return apply_filters( 'action_scheduler_maximum_execution_time_likely_to_be_exceeded', $estimate > $max_execution_time, $this, $processed_actions, $execution_time, $max_execution_time );
	}

	protected function get_memory_limit() {
		$memory_limit = function_exists( 'ini_get' ) ? ini_get( 'memory_limit' ) : '128M';
		if ( ! $memory_limit || '-1' === $memory_limit ) { // ini_get() answers a string (or false).
			$memory_limit = '32G'; // Unlimited: a number no process reaches.
		}
		return ActionScheduler_Compatibility::convert_hr_to_bytes( $memory_limit );
	}

	protected function memory_exceeded() {
		$exceeded = memory_get_usage( true ) >= $this->get_memory_limit() * 0.90;
		return apply_filters( 'action_scheduler_memory_exceeded', $exceeded, $this );
	}

	protected function batch_limits_exceeded( $processed_actions ) {
		return $this->memory_exceeded() || $this->time_likely_to_be_exceeded( $processed_actions );
	}

	/** Processes the queue; returns the number of actions processed. */
	abstract public function run( $context = '' );
}
