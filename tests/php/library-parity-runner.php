<?php
/**
 * What plugins' own runners and test helpers build on the library's classes: a queue runner extending
 * ActionScheduler_Abstract_QueueRunner, a store, factory and lock subclassed with the library's signatures, and an
 * async-request helper that exposes the protected checks. Loaded by the `custom-runner` scenario of
 * library-parity.php; it must load and behave the same on the library and on ours.
 */

/** A custom runner, as job frameworks write them: clean, claim, process, release, within the batch limits. */
class Library_Parity_Runner extends ActionScheduler_Abstract_QueueRunner {
	public function run( $context = 'Parity Runner' ) {
		$this->run_cleanup();
		if ( $this->has_maximum_concurrent_batches() ) {
			return 0;
		}
		$claim = $this->store->stake_claim( 10 );
		$this->monitor->attach( $claim );
		$processed = 0;
		foreach ( $claim->get_actions() as $action_id ) {
			$this->process_action( $action_id, $context );
			$processed++;
			if ( $this->batch_limits_exceeded( $processed ) ) {
				break;
			}
		}
		$this->store->release_claim( $claim );
		$this->monitor->detach();
		return $processed;
	}

	/** The protected questions a batch loop asks, with their types. */
	public function limits() {
		return array(
			'time_limit'          => $this->get_time_limit(),
			'execution_time_type' => gettype( $this->get_execution_time() ),
			'memory_limit_type'   => gettype( $this->get_memory_limit() ),
			'memory_exceeded'     => $this->memory_exceeded(),
			'time_exceeded_at_0'  => $this->time_likely_to_be_exceeded( 0 ),
			'concurrent_batches'  => $this->get_allowed_concurrent_batches(),
			'at_maximum'          => $this->has_maximum_concurrent_batches(),
		);
	}
}

/** A store subclass with the library's signatures (a declaration that does not fit is a fatal error at load). */
class Library_Parity_Store extends ActionScheduler_DBStore {
	public $saved = 0;

	public function save_action( ActionScheduler_Action $action, ?DateTime $scheduled_date = null ) {
		$this->saved++;
		return parent::save_action( $action, $scheduled_date );
	}
}

/** A factory subclass overriding the five-parameter get_stored_action() and the four-parameter async_unique(). */
class Library_Parity_Factory extends ActionScheduler_ActionFactory {
	public function get_stored_action( $status, $hook, array $args = array(), ?ActionScheduler_Schedule $schedule = null, $group = '' ) {
		return call_user_func_array( array( 'parent', 'get_stored_action' ), func_get_args() );
	}

	public function async_unique( $hook, $args = array(), $group = '', $unique = true ) {
		return parent::async_unique( $hook, $args, $group, $unique );
	}
}

/** A lock of its own, as plugins swap in with action_scheduler_lock_class. */
class Library_Parity_Lock extends ActionScheduler_Lock {
	private $until = array();

	public function set( $lock_type ) {
		$this->until[ $lock_type ] = time() + $this->get_duration( $lock_type );
		return true;
	}

	public function get_expiration( $lock_type ) {
		return isset( $this->until[ $lock_type ] ) ? $this->until[ $lock_type ] : false;
	}
}

/** A test helper exposing the async runner's protected checks. */
class Library_Parity_Async_Request extends ActionScheduler_AsyncRequest_QueueRunner {
	public function allowed() {
		return $this->allow();
	}

	public function sleep_seconds() {
		return $this->get_sleep_seconds();
	}

	public function request() {
		return array( $this->identifier, array_keys( $this->get_query_args() ), wp_parse_url( $this->get_query_url(), PHP_URL_PATH ), $this->get_post_args()['blocking'] );
	}
}
