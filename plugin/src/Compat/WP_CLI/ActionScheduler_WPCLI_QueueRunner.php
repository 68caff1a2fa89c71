<?php
defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/ProgressBar.php';

/**
 * The library's WP-CLI queue runner, for CLI plugins that build their own commands on it: setup() cleans, checks the
 * concurrency limit and claims a batch, run() processes it with "Started/Completed processing action" lines and a
 * progress bar. `wp action-scheduler run` itself is SidecarScheduler\Cli\ActionSchedulerCommand, which prints the
 * same lines and also fails an action at once when PHP dies of a fatal error under WP-CLI (README, Compatibility).
 */
class ActionScheduler_WPCLI_QueueRunner extends ActionScheduler_Abstract_QueueRunner {
	/** @var int[] The IDs of the claimed batch. */
	protected $actions;
	/** @var ActionScheduler_ActionClaim */
	protected $claim;
	/** @var \Action_Scheduler\WP_CLI\ProgressBar */
	protected $progress_bar;

	public function __construct( ?ActionScheduler_Store $store = null, ?ActionScheduler_FatalErrorMonitor $monitor = null, ?ActionScheduler_QueueCleaner $cleaner = null ) {
		if ( ! ( defined( 'WP_CLI' ) && WP_CLI ) ) {
			/* translators: %s: class name */
			throw new Exception( sprintf( esc_html__( 'The %s class can only be run within WP CLI.', 'sidecar-scheduler' ), __CLASS__ ) );
		}
		parent::__construct( $store, $monitor, $cleaner );
	}

	/** Cleans, refuses (or with $force warns) at the concurrency limit, claims; returns the number claimed. */
	public function setup( $batch_size, $hooks = array(), $group = '', $force = false ) {
		$this->run_cleanup();
		$this->add_hooks();
		if ( $this->has_maximum_concurrent_batches() ) {
			if ( $force ) {
				WP_CLI::warning( __( 'There are too many concurrent batches, but the run is forced to continue.', 'sidecar-scheduler' ) );
			} else {
				WP_CLI::error( __( 'There are too many concurrent batches.', 'sidecar-scheduler' ) );
			}
		}
		$this->claim = $this->store->stake_claim( $batch_size, null, $hooks, $group );
		$this->monitor->attach( $this->claim );
		$this->actions = $this->claim->get_actions();
		return count( $this->actions );
	}

	protected function add_hooks() {
		add_action( 'action_scheduler_before_execute', array( $this, 'before_execute' ) );
		add_action( 'action_scheduler_after_execute', array( $this, 'after_execute' ), 10, 2 );
		add_action( 'action_scheduler_failed_execution', array( $this, 'action_failed' ), 10, 2 );
	}

	protected function setup_progress_bar() {
		$count = count( $this->actions );
		/* translators: %d: number of actions */
		$this->progress_bar = new \Action_Scheduler\WP_CLI\ProgressBar( sprintf( _n( 'Running %d action', 'Running %d actions', $count, 'sidecar-scheduler' ), $count ), $count );
	}

	/** Processes the claimed batch; returns what the progress bar counted (0 when WP-CLI's output is piped). */
	public function run( $context = 'WP CLI' ) {
		do_action( 'action_scheduler_before_process_queue' );
		$this->setup_progress_bar();
		foreach ( $this->actions as $action_id ) {
			// Another runner's stale-claim reset may have taken the batch: stop rather than run twice.
			if ( ! in_array( $action_id, $this->store->find_actions_by_claim_id( $this->claim->get_id() ), true ) ) {
				WP_CLI::warning( __( 'The claim has been lost. Aborting current batch.', 'sidecar-scheduler' ) );
				break;
			}
			$this->process_action( $action_id, $context );
			$this->progress_bar->tick();
		}
		$completed = $this->progress_bar->current();
		$this->progress_bar->finish();
		$this->store->release_claim( $this->claim );
		do_action( 'action_scheduler_after_process_queue' );
		return $completed;
	}

	public function before_execute( $action_id ) {
		/* translators: %s: action ID */
		WP_CLI::log( sprintf( __( 'Started processing action %s', 'sidecar-scheduler' ), $action_id ) );
	}

	public function after_execute( $action_id, $action = null ) {
		$action = null === $action ? $this->store->fetch_action( $action_id ) : $action;
		/* translators: 1: action ID 2: hook */
		WP_CLI::log( sprintf( __( 'Completed processing action %1$s with hook: %2$s', 'sidecar-scheduler' ), $action_id, $action->get_hook() ) );
	}

	public function action_failed( $action_id, $exception ) {
		/* translators: 1: action ID 2: exception message */
		WP_CLI::error( sprintf( __( 'Error processing action %1$s: %2$s', 'sidecar-scheduler' ), $action_id, $exception->getMessage() ), false );
	}

	/** Deprecated in the library since 3.0.0. */
	protected function stop_the_insanity( $sleep_time = 0 ) {
		_deprecated_function( 'ActionScheduler_WPCLI_QueueRunner::stop_the_insanity', '3.0.0', 'ActionScheduler_DataController::free_memory' );
		ActionScheduler_DataController::free_memory();
	}

	protected function maybe_stop_the_insanity() {
		if ( 0 === intval( trim( (string) $this->progress_bar->current() ) ) % 50 ) {
			$this->stop_the_insanity();
		}
	}
}
