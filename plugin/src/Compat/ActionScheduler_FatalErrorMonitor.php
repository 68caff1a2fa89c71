<?php
defined( 'ABSPATH' ) || exit;

/**
 * Watches a claim while a runner works through it: if the process dies of a fatal error, the action that was running
 * is failed (`action_scheduler_unexpected_shutdown`) and the claim is released so the rest go back to the queue.
 * Custom runners built on ActionScheduler_Abstract_QueueRunner get one as `$this->monitor`.
 */
class ActionScheduler_FatalErrorMonitor {
	/** @var ActionScheduler_ActionClaim|null */
	private $claim = null;
	/** @var ActionScheduler_Store */
	private $store = null;
	/** @var int The action being executed, 0 between actions. */
	private $action_id = 0;

	public function __construct( ActionScheduler_Store $store ) {
		$this->store = $store;
	}

	public function attach( ActionScheduler_ActionClaim $claim ) {
		$this->claim = $claim;
		add_action( 'shutdown', array( $this, 'handle_unexpected_shutdown' ) );
		// Priority 0: know the current action before any other callback of these hooks can die.
		add_action( 'action_scheduler_before_execute', array( $this, 'track_current_action' ), 0, 1 );
		foreach ( array( 'action_scheduler_after_execute', 'action_scheduler_execution_ignored', 'action_scheduler_failed_execution' ) as $hook ) {
			add_action( $hook, array( $this, 'untrack_action' ), 0, 0 );
		}
	}

	public function detach() {
		$this->claim = null;
		$this->untrack_action();
		remove_action( 'shutdown', array( $this, 'handle_unexpected_shutdown' ) );
		remove_action( 'action_scheduler_before_execute', array( $this, 'track_current_action' ), 0 );
		foreach ( array( 'action_scheduler_after_execute', 'action_scheduler_execution_ignored', 'action_scheduler_failed_execution' ) as $hook ) {
			remove_action( $hook, array( $this, 'untrack_action' ), 0 );
		}
	}

	public function track_current_action( $action_id ) {
		$this->action_id = $action_id;
	}

	public function untrack_action() {
		$this->action_id = 0;
	}

	public function handle_unexpected_shutdown() {
		$error = error_get_last();
		if ( ! $error ) {
			return;
		}
		// Under WP-CLI this also runs from the fatal-error page's message filter (ActionScheduler_QueueRunner), before
		// the wp_die() that ends the process; what it handled it forgets, so a later shutdown does nothing twice.
		$action_id   = $this->action_id;
		$claim       = $this->claim;
		$this->claim = null;
		$this->untrack_action();
		$fatal = in_array( $error['type'], array( E_ERROR, E_PARSE, E_COMPILE_ERROR, E_USER_ERROR, E_RECOVERABLE_ERROR ), true );
		if ( $fatal && ! empty( $action_id ) ) {
			$this->store->mark_failure( $action_id );
			do_action( 'action_scheduler_unexpected_shutdown', $action_id, $error );
		}
		// Any error left at shutdown: give the claim back rather than wait for the stale-claim reset.
		if ( $claim ) {
			$this->store->release_claim( $claim );
		}
	}
}
