<?php
// The library's WP-CLI progress bar (Action_Scheduler\WP_CLI\ProgressBar), loaded with ActionScheduler_WPCLI_QueueRunner.

namespace Action_Scheduler\WP_CLI;

defined( 'ABSPATH' ) || exit;

/**
 * WP-CLI's progress bar, made on the first tick; each tick fires `action_scheduler/progress_tick` with the number of
 * ticks so far (ActionScheduler_DataController frees memory on it).
 */
class ProgressBar {
	protected $total_ticks;
	protected $count;
	protected $interval;
	protected $message;
	/** @var \cli\progress\Bar|\WP_CLI\NoOp|null */
	protected $progress_bar;

	public function __construct( $message, $count, $interval = 100 ) {
		if ( ! ( defined( 'WP_CLI' ) && WP_CLI ) ) {
			/* translators: %s: class name */
			throw new \Exception( sprintf( esc_html__( 'The %s class can only be run within WP CLI.', 'sidecar-scheduler' ), __CLASS__ ) );
		}
		$this->total_ticks = 0;
		$this->message     = $message;
		$this->count       = $count;
		$this->interval    = $interval;
	}

	public function tick() {
		if ( null === $this->progress_bar ) {
			$this->setup_progress_bar();
		}
		$this->progress_bar->tick();
		++$this->total_ticks;
		do_action( 'action_scheduler/progress_tick', $this->total_ticks ); // phpcs:ignore WordPress.NamingConventions.ValidHookName -- the library's name.
	}

	/** What WP-CLI's bar counted: with piped output WP-CLI gives a bar that counts nothing (null). */
	public function current() {
		return $this->progress_bar ? $this->progress_bar->current() : 0;
	}

	public function finish() {
		if ( null !== $this->progress_bar ) {
			$this->progress_bar->finish();
		}
		$this->progress_bar = null;
	}

	public function set_message( $message ) {
		$this->message = $message;
	}

	public function set_count( $count ) {
		$this->count = $count;
		$this->finish();
	}

	protected function setup_progress_bar() {
		$this->progress_bar = \WP_CLI\Utils\make_progress_bar( $this->message, $this->count, $this->interval );
	}
}
