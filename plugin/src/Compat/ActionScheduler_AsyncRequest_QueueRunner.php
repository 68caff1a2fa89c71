<?php
defined( 'ABSPATH' ) || exit;

// Its base class, unless another plugin brought one (WP Background Processing is bundled by many). Declared only
// here, not by the autoloader, so another plugin's `class_exists( 'WP_Async_Request' )` guard still loads its own.
if ( ! class_exists( 'WP_Async_Request', false ) ) {
	require_once __DIR__ . '/WP_Async_Request.php';
}

/**
 * The library's loopback runner class ("as_async_request_queue_runner"), for plugins and test helpers that build,
 * extend or call it. Sidecar Scheduler's own loopback fallback is SidecarScheduler\Runner\AsyncRequest, which answers
 * the same ajax action; this class is loaded only when something asks for it.
 */
class ActionScheduler_AsyncRequest_QueueRunner extends WP_Async_Request {
	/** @var ActionScheduler_Store */
	protected $store;
	protected $prefix = 'as';
	protected $action = 'async_request_queue_runner';

	public function __construct( ActionScheduler_Store $store ) {
		parent::__construct();
		$this->store = $store;
	}

	/** Runs the queue as WP-Cron would, with the context "Async Request", then chains another request if work is left. */
	protected function handle() {
		do_action( 'action_scheduler_run_queue', 'Async Request' );
		$sleep_seconds = $this->get_sleep_seconds();
		if ( $sleep_seconds ) {
			sleep( $sleep_seconds );
		}
		$this->maybe_dispatch();
	}

	public function maybe_dispatch() {
		if ( ! $this->allow() ) {
			return;
		}
		$this->dispatch();
		ActionScheduler_QueueRunner::instance()->unhook_dispatch_async_request();
	}

	/** Only when something runs the queue, no other batch is at the limit, and an action is due. */
	protected function allow() {
		$allow = has_action( 'action_scheduler_run_queue' ) && ! ActionScheduler::runner()->has_maximum_concurrent_batches() && $this->store->has_pending_actions_due();
		return apply_filters( 'action_scheduler_allow_async_request_runner', $allow );
	}

	protected function get_sleep_seconds() {
		return apply_filters( 'action_scheduler_async_request_sleep_seconds', 5, $this );
	}
}
