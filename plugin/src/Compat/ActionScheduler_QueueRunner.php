<?php
/**
 * Runs actions with the library's exact hook sequence (facts §5) and keeps its fallback triggers
 * (WP-Cron every minute, the admin-shutdown loopback) for sites where no sidecar is alive.
 */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_QueueRunner extends ActionScheduler_Abstract_QueueRunner {
	const WP_CRON_HOOK     = 'action_scheduler_run_queue';
	const WP_CRON_SCHEDULE = 'every_minute';

	private static $runner = null;

	protected $processed_actions_count = 0;

	public static function instance() {
		if ( empty( self::$runner ) ) {
			$class        = apply_filters( 'action_scheduler_queue_runner_class', 'ActionScheduler_QueueRunner' );
			self::$runner = new $class();
		}
		return self::$runner;
	}

	/** @var ActionScheduler_AsyncRequest_QueueRunner|null A loopback runner given by the caller (ours is Runner\AsyncRequest). */
	private $async_request = null;

	/** The library's signature, so plugins' `new ActionScheduler_QueueRunner( $store, $monitor, $cleaner )` still fits. */
	public function __construct( ?ActionScheduler_Store $store = null, ?ActionScheduler_FatalErrorMonitor $monitor = null, ?ActionScheduler_QueueCleaner $cleaner = null, ?ActionScheduler_AsyncRequest_QueueRunner $async_request = null ) {
		parent::__construct( $store, $monitor, $cleaner );
		$this->async_request = $async_request;
	}

	/** The admin-shutdown loopback (the library's hook points; SidecarScheduler\Runner\AsyncRequest is ours). */
	public function hook_dispatch_async_request() {
		add_action( 'shutdown', array( $this, 'maybe_dispatch_async_request' ) );
	}

	public function unhook_dispatch_async_request() {
		remove_action( 'shutdown', array( $this, 'maybe_dispatch_async_request' ) );
		remove_action( 'shutdown', array( \SidecarScheduler\Runner\AsyncRequest::class, 'maybe_dispatch' ) );
	}

	public function maybe_dispatch_async_request() {
		if ( $this->async_request ) {
			// At most one loopback per lock period, from admin requests only, as ours does.
			if ( is_admin() && ActionScheduler::lock()->set( 'async-request-runner' ) ) {
				$this->async_request->maybe_dispatch();
			}
			return;
		}
		\SidecarScheduler\Runner\AsyncRequest::maybe_dispatch();
	}

	/** Hooked on init priority 1: the WP-Cron fallback runner. SidecarScheduler\Runner\Fallback stands it down. */
	public function init() {
		add_filter( 'cron_schedules', array( self::instance(), 'add_wp_cron_schedule' ) ); // phpcs:ignore WordPress.WP.CronInterval.CronSchedulesInterval -- the library's every_minute schedule: without a sidecar, WP-Cron runs the queue each minute.
		$next = wp_next_scheduled( self::WP_CRON_HOOK, array( 'WP Cron' ) );
		if ( ! $next ) {
			$schedule = apply_filters( 'action_scheduler_run_schedule', self::WP_CRON_SCHEDULE );
			wp_schedule_event( time(), $schedule, self::WP_CRON_HOOK, array( 'WP Cron' ) );
		}
		add_action( self::WP_CRON_HOOK, array( self::instance(), 'run' ) );
		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			add_filter( 'wp_php_error_message', array( $this, 'track_fatal_before_wp_die' ), 10, 1 );
		}
	}

	/**
	 * Under WP-CLI, WordPress' fatal-error handler (a shutdown function registered before any plugin) ends in
	 * wp_die(), which WP-CLI turns into exit(); an exit in a shutdown function skips all later ones, so the `shutdown`
	 * action, and with it the fatal-error monitor, would never run: the action would stay in progress until the
	 * failure period and its claim until the timeout. WordPress filters the error page's message just before that
	 * wp_die(): the last moment the monitor can run. It does nothing twice (it forgets the action and claim it handled).
	 */
	public function track_fatal_before_wp_die( $message ) {
		$this->monitor->handle_unexpected_shutdown();
		return $message;
	}

	public function add_wp_cron_schedule( $schedules ) {
		$schedules['every_minute'] = array(
			'interval' => 60,
			'display'  => __( 'Every minute', 'sidecar-scheduler' ),
		);
		return $schedules;
	}

	public function run( $context = 'WP Cron' ) {
		ActionScheduler_Compatibility::raise_memory_limit();
		ActionScheduler_Compatibility::raise_time_limit( $this->get_time_limit() );
		do_action( 'action_scheduler_before_process_queue' );
		$this->run_cleanup();
		$this->processed_actions_count = 0;
		if ( false === $this->has_maximum_concurrent_batches() ) {
			do {
				$batch_size                     = apply_filters( 'action_scheduler_queue_runner_batch_size', 25 );
				$processed_actions_in_batch     = $this->do_batch( $batch_size, $context );
				$this->processed_actions_count += $processed_actions_in_batch;
			} while ( $processed_actions_in_batch > 0 && ! $this->batch_limits_exceeded( $this->processed_actions_count ) );
		}
		do_action( 'action_scheduler_after_process_queue' );
		return $this->processed_actions_count;
	}

	/** Claims up to $size due actions, runs them in claim order, then releases the claim. */
	protected function do_batch( $size = 100, $context = '' ) {
		$claim     = $this->store->stake_claim( $size );
		$processed = 0;
		$this->monitor->attach( $claim );
		foreach ( $claim->get_actions() as $action_id ) {
			// A claim can be lost to the stale-claim reset of another runner: stop rather than double-run.
			if ( ! in_array( $action_id, $this->store->find_actions_by_claim_id( $claim->get_id() ), true ) ) {
				break;
			}
			$this->process_action( $action_id, $context );
			++$processed;
			if ( $this->batch_limits_exceeded( $processed + $this->processed_actions_count ) ) {
				break;
			}
		}
		$this->store->release_claim( $claim );
		$this->monitor->detach();
		$this->clear_caches();
		return $processed;
	}

	protected function clear_caches() {
		if ( function_exists( 'wp_cache_flush_runtime' ) ) {
			wp_cache_flush_runtime();
		} elseif ( ! wp_using_ext_object_cache() || apply_filters( 'action_scheduler_queue_runner_flush_cache', false ) ) {
			wp_cache_flush();
		}
	}

	/**
	 * The claim a WP-CLI batch (Cli\ActionSchedulerCommand) works through, watched by the fatal-error monitor as the
	 * library's runners watch theirs: process_action() is the library's (the abstract runner's), and the monitor
	 * knows the running action from action_scheduler_before_execute.
	 */
	public function attach_claim( ActionScheduler_ActionClaim $claim ) {
		$this->monitor->attach( $claim );
	}

	public function detach_claim() {
		$this->monitor->detach();
	}
}
/** Small helpers the runners share with the library's names. */
class ActionScheduler_Compatibility {
	/** "128M" and the like in bytes (WordPress 4.6+ has the conversion; this plugin needs 6.2). */
	public static function convert_hr_to_bytes( $value ) {
		return wp_convert_hr_to_bytes( $value );
	}

	public static function raise_memory_limit() {
		if ( function_exists( 'wp_raise_memory_limit' ) ) {
			return wp_raise_memory_limit( 'admin' );
		}
		return false;
	}

	public static function raise_time_limit( $limit = 0 ) {
		$limit              = (int) $limit;
		$max_execution_time = (int) ini_get( 'max_execution_time' );
		// Already unlimited: nothing to raise.
		if ( 0 === $max_execution_time ) {
			return;
		}
		// 0 asks for no limit at all; a positive limit only ever raises the current one (never lowers it).
		$new_limit = ( 0 === $limit || $limit > $max_execution_time ) ? $limit : $max_execution_time;
		if ( function_exists( 'wc_set_time_limit' ) ) {
			wc_set_time_limit( $new_limit );
		} elseif ( function_exists( 'set_time_limit' ) && false === strpos( (string) ini_get( 'disable_functions' ), 'set_time_limit' ) ) {
			@set_time_limit( $new_limit ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged, Squiz.PHP.DiscouragedFunctions.Discouraged -- the library raises the time limit the same way; set_time_limit() warns where hosts disable it; the library silences it too.
		}
	}
}
