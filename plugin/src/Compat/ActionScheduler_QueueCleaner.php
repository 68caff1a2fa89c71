<?php
/** Deletes old finished actions, resets stale claims and fails actions stuck in progress (facts §3), in bounded batches. */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_QueueCleaner {
	/** @var ActionScheduler_Store */
	private $store;
	private $batch_size;

	public function __construct( ?ActionScheduler_Store $store = null, $batch_size = 20 ) {
		$this->store      = $store ? $store : ActionScheduler_Store::instance();
		$this->batch_size = $batch_size;
	}

	public function clean( $time_limit = 300 ) {
		$this->delete_old_actions();
		$this->reset_timeouts( $time_limit );
		$this->mark_failures( $time_limit );
	}

	public function get_default_statuses() {
		return apply_filters( 'action_scheduler_default_cleaner_statuses', array( ActionScheduler_Store::STATUS_COMPLETE, ActionScheduler_Store::STATUS_CANCELED ) );
	}

	public function delete_old_actions() {
		$lifespan = apply_filters( 'action_scheduler_retention_period', MONTH_IN_SECONDS + DAY_IN_SECONDS );
		try {
			$cutoff = as_get_datetime_object( $lifespan . ' seconds ago' );
		} catch ( Exception $e ) {
			/* translators: %s: retention period */
			_doing_it_wrong( __METHOD__, esc_html( sprintf( __( 'It was not possible to determine a valid cut-off time: %s.', 'sidecar-scheduler' ), $e->getMessage() ) ), '3.5.5' );
			return array();
		}
		return $this->clean_actions( $this->get_default_statuses(), $cutoff, $this->get_batch_size() );
	}

	/** Deletes up to $batch_size rows per status whose last attempt is before $cutoff. Returns the deleted IDs. */
	public function clean_actions( array $statuses_to_purge, DateTime $cutoff_date, $batch_size = null, $context = 'old' ) {
		$batch_size = null !== $batch_size ? $batch_size : $this->batch_size;
		$lifespan   = time() - $cutoff_date->getTimestamp();
		$deleted    = array();
		if ( empty( $statuses_to_purge ) ) {
			// As the library: complete and canceled (unfiltered; the filter applies to the automatic cleanup).
			$statuses_to_purge = array( ActionScheduler_Store::STATUS_COMPLETE, ActionScheduler_Store::STATUS_CANCELED );
		}
		foreach ( $statuses_to_purge as $status ) {
			$ids = $this->store->query_actions(
				array(
					'status'           => $status,
					'modified'         => $cutoff_date,
					'modified_compare' => '<=',
					'per_page'         => $batch_size,
					'orderby'          => 'none',
				)
			);
			foreach ( $ids as $action_id ) {
				try {
					$this->store->delete_action( $action_id );
					$deleted[] = $action_id;
				} catch ( Exception $e ) {
					do_action( "action_scheduler_failed_{$context}_action_deletion", $action_id, $e, $lifespan, count( $ids ) );
				}
			}
		}
		return $deleted;
	}

	public function reset_timeouts( $time_limit = 300 ) {
		$timeout = apply_filters( 'action_scheduler_timeout_period', $time_limit );
		if ( $timeout < 0 ) {
			return;
		}
		$cutoff = as_get_datetime_object( $timeout . ' seconds ago' );
		$ids    = $this->store->query_actions(
			array(
				'status'           => ActionScheduler_Store::STATUS_PENDING,
				'modified'         => $cutoff,
				'modified_compare' => '<=',
				'claimed'          => true,
				'per_page'         => $this->get_batch_size(),
				'orderby'          => 'none',
			)
		);
		foreach ( $ids as $action_id ) {
			$this->store->unclaim_action( $action_id );
			do_action( 'action_scheduler_reset_action', $action_id );
		}
	}

	public function mark_failures( $time_limit = 300 ) {
		$timeout = apply_filters( 'action_scheduler_failure_period', $time_limit );
		if ( $timeout < 0 ) {
			return;
		}
		$cutoff = as_get_datetime_object( $timeout . ' seconds ago' );
		$ids    = $this->store->query_actions(
			array(
				'status'           => ActionScheduler_Store::STATUS_RUNNING,
				'modified'         => $cutoff,
				'modified_compare' => '<=',
				'per_page'         => $this->get_batch_size(),
				'orderby'          => 'none',
			)
		);
		foreach ( $ids as $action_id ) {
			$this->store->mark_failure( $action_id );
			do_action( 'action_scheduler_failed_action', $action_id, $timeout );
		}
	}

	protected function get_batch_size() {
		return absint( apply_filters( 'action_scheduler_cleanup_batch_size', $this->batch_size ) );
	}
}
