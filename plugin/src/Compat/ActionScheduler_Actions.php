<?php
/** The action value objects that store queries return; the class tells the status, as in the library. */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_Action {
	protected $hook = '';
	protected $args = array();
	/** @var ActionScheduler_Schedule */
	protected $schedule = null;
	protected $group    = '';
	protected $priority = 10;

	public function __construct( $hook, array $args = array(), ?ActionScheduler_Schedule $schedule = null, $group = '' ) {
		$schedule = empty( $schedule ) ? new ActionScheduler_NullSchedule() : $schedule;
		$this->set_hook( $hook );
		$this->set_schedule( $schedule );
		$this->set_args( $args );
		$this->set_group( $group );
	}

	/** Runs the hook's callbacks with the args as positional parameters (keys dropped). */
	public function execute() {
		$hook = $this->get_hook();
		if ( ! has_action( $hook ) ) {
			// phpcs:disable WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the hook name verbatim, as the library writes it into the log; printed as text, never as HTML.
			throw new Exception(
				sprintf(
					/* translators: 1: action hook. */
					__( 'Scheduled action for %1$s will not be executed as no callbacks are registered.', 'sidecar-scheduler' ),
					$hook
				)
			);
			// phpcs:enable WordPress.Security.EscapeOutput.ExceptionNotEscaped
		}
		do_action_ref_array( $hook, array_values( $this->get_args() ) );
	}

	protected function set_hook( $hook ) {
		$this->hook = $hook;
	}

	public function get_hook() {
		return $this->hook;
	}

	protected function set_schedule( ActionScheduler_Schedule $schedule ) {
		$this->schedule = $schedule;
	}

	public function get_schedule() {
		return $this->schedule;
	}

	protected function set_args( array $args ) {
		$this->args = $args;
	}

	public function get_args() {
		return $this->args;
	}

	protected function set_group( $group ) {
		$this->group = $group;
	}

	public function get_group() {
		return $this->group;
	}

	public function is_finished() {
		return false;
	}

	public function set_priority( $priority ) {
		if ( $priority < 0 ) {
			$priority = 0;
		} elseif ( $priority > 255 ) {
			$priority = 255;
		}
		$this->priority = (int) $priority;
	}

	public function get_priority() {
		return $this->priority;
	}
}

class ActionScheduler_FinishedAction extends ActionScheduler_Action {
	public function execute() {
		// Finished actions never run again.
	}

	public function is_finished() {
		return true;
	}
}

class ActionScheduler_CanceledAction extends ActionScheduler_FinishedAction {
	public function __construct( $hook, array $args = array(), ?ActionScheduler_Schedule $schedule = null, $group = '' ) {
		parent::__construct( $hook, $args, $schedule, $group );
		if ( is_null( $schedule ) ) {
			$this->set_schedule( new ActionScheduler_NullSchedule() );
		}
	}
}

class ActionScheduler_NullAction extends ActionScheduler_Action {
	public function __construct( $hook = '', array $args = array(), ?ActionScheduler_Schedule $schedule = null ) {
		$this->set_schedule( new ActionScheduler_NullSchedule() );
	}

	public function execute() {
		// Nothing to run: the row could not be read.
	}
}

class ActionScheduler_ActionClaim {
	private $id         = '';
	private $action_ids = array();

	public function __construct( $id, array $action_ids ) {
		$this->id         = $id;
		$this->action_ids = $action_ids;
	}

	public function get_id() {
		return $this->id;
	}

	public function get_actions() {
		return $this->action_ids;
	}
}

class ActionScheduler_LogEntry {
	protected $action_id = '';
	protected $message   = '';
	protected $date;

	public function __construct( $action_id, $message, $date = null ) {
		$this->action_id = $action_id;
		$this->message   = $message;
		$this->date      = $date ? $date : new ActionScheduler_DateTime();
	}

	public function get_date() {
		return $this->date;
	}

	public function get_action_id() {
		return $this->action_id;
	}

	public function get_message() {
		return $this->message;
	}
}
