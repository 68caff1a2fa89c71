<?php
/** Builds actions from API calls and stored rows, and stores them (one place for the library's create() rules). */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_ActionFactory {
	/**
	 * The action object for a stored row; the priority comes as an undeclared 6th argument, so factories that
	 * override this with the library's five-parameter signature still load.
	 */
	public function get_stored_action( $status, $hook, array $args = array(), ?ActionScheduler_Schedule $schedule = null, $group = '' ) {
		$priority = func_num_args() > 5 ? (int) func_get_arg( 5 ) : 10;
		switch ( $status ) {
			case ActionScheduler_Store::STATUS_PENDING:
				$action_class = 'ActionScheduler_Action';
				break;
			case ActionScheduler_Store::STATUS_CANCELED:
				$action_class = 'ActionScheduler_CanceledAction';
				if ( ! is_null( $schedule ) && ! is_a( $schedule, 'ActionScheduler_CanceledSchedule' ) && ! is_a( $schedule, 'ActionScheduler_NullSchedule' ) ) {
					$schedule = new ActionScheduler_CanceledSchedule( $schedule->get_date() );
				}
				break;
			default:
				$action_class = 'ActionScheduler_FinishedAction';
				break;
		}
		$action_class = apply_filters( 'action_scheduler_stored_action_class', $action_class, $status, $hook, $args, $schedule, $group );
		$action       = new $action_class( $hook, $args, $schedule, $group );
		$action->set_priority( $priority );
		return apply_filters( 'action_scheduler_stored_action_instance', $action, $hook, $args, $schedule, $group, $priority );
	}

	/*
	 * The typed builders. Unlike create() (what the as_* functions use), they let the store's exceptions through,
	 * as the library's do, and take no priority (10).
	 */

	public function async( $hook, $args = array(), $group = '' ) {
		return $this->async_unique( $hook, $args, $group, false );
	}

	public function async_unique( $hook, $args = array(), $group = '', $unique = true ) {
		return $this->store_new( new ActionScheduler_Action( $hook, $args, new ActionScheduler_NullSchedule(), $group ), $unique );
	}

	public function single( $hook, $args = array(), $when = null, $group = '' ) {
		return $this->single_unique( $hook, $args, $when, $group, false );
	}

	public function single_unique( $hook, $args = array(), $when = null, $group = '', $unique = true ) {
		$schedule = new ActionScheduler_SimpleSchedule( as_get_datetime_object( $when ) );
		return $this->store_new( new ActionScheduler_Action( $hook, $args, $schedule, $group ), $unique );
	}

	public function recurring( $hook, $args = array(), $first = null, $interval = null, $group = '' ) {
		return $this->recurring_unique( $hook, $args, $first, $interval, $group, false );
	}

	/** Without an interval it is a single action. */
	public function recurring_unique( $hook, $args = array(), $first = null, $interval = null, $group = '', $unique = true ) {
		if ( empty( $interval ) ) {
			return $this->single_unique( $hook, $args, $first, $group, $unique );
		}
		$schedule = new ActionScheduler_IntervalSchedule( as_get_datetime_object( $first ), $interval );
		return $this->store_new( new ActionScheduler_Action( $hook, $args, $schedule, $group ), $unique );
	}

	public function cron( $hook, $args = array(), $base_timestamp = null, $schedule = null, $group = '' ) {
		return $this->cron_unique( $hook, $args, $base_timestamp, $schedule, $group, false );
	}

	/** Without a cron expression it is a single action. */
	public function cron_unique( $hook, $args = array(), $base_timestamp = null, $schedule = null, $group = '', $unique = true ) {
		if ( empty( $schedule ) ) {
			return $this->single_unique( $hook, $args, $base_timestamp, $group, $unique );
		}
		$cron = new ActionScheduler_CronSchedule( as_get_datetime_object( $base_timestamp ), CronExpression::factory( $schedule ) );
		return $this->store_new( new ActionScheduler_Action( $hook, $args, $cron, $group ), $unique );
	}

	/** Stores a new action and, when it is due already, tells the sidecar (sidecar_scheduler_due_action_stored). */
	private function store_new( ActionScheduler_Action $action, $unique ) {
		$action_id = $unique ? $this->store_unique_action( $action ) : $this->store( $action );
		$date      = $action->get_schedule()->get_date();
		if ( $action_id && ( ! $date || $date->getTimestamp() <= time() ) ) {
			do_action( 'sidecar_scheduler_due_action_stored', $action_id );
		}
		return $action_id;
	}

	/**
	 * The successor of a recurring action: due at get_next(now), which is the same date when the action ran early.
	 * No unique check, as in the library; priority, group, args and the first date are kept.
	 */
	public function repeat( $action ) {
		$schedule = $action->get_schedule();
		$next     = $schedule->get_next( as_get_datetime_object() );
		if ( is_null( $next ) || ! $schedule->is_recurring() ) {
			throw new InvalidArgumentException( esc_html__( 'Invalid action - must be a recurring action.', 'sidecar-scheduler' ) );
		}
		$schedule_class = get_class( $schedule );
		$new_schedule   = new $schedule_class( $next, $schedule->get_recurrence(), $schedule->get_first_date() );
		$new_action     = new ActionScheduler_Action( $action->get_hook(), $action->get_args(), $new_schedule, $action->get_group() );
		$new_action->set_priority( $action->get_priority() );
		return $this->store( $new_action );
	}

	/**
	 * @throws InvalidArgumentException For an invalid cron expression: thrown out of the API, as in the library.
	 * @throws TypeError For non-array args.
	 */
	public function create( array $options = array() ) {
		$options = array_merge(
			array(
				'type'      => 'single',
				'hook'      => '',
				'arguments' => array(),
				'group'     => '',
				'unique'    => false,
				'when'      => time(),
				'pattern'   => null,
				'priority'  => 10,
			),
			$options
		);
		// A recurring or cron call without a pattern is a single action, so callers can use one code path.
		if ( ( 'cron' === $options['type'] || 'recurring' === $options['type'] ) && empty( $options['pattern'] ) ) {
			$options['type'] = 'single';
		}
		switch ( $options['type'] ) {
			case 'async':
				$schedule = new ActionScheduler_NullSchedule();
				break;
			case 'cron':
				$schedule = new ActionScheduler_CronSchedule( as_get_datetime_object( $options['when'] ), CronExpression::factory( $options['pattern'] ) );
				break;
			case 'recurring':
				$schedule = new ActionScheduler_IntervalSchedule( as_get_datetime_object( $options['when'] ), $options['pattern'] );
				break;
			case 'single':
				$schedule = new ActionScheduler_SimpleSchedule( as_get_datetime_object( $options['when'] ) );
				break;
			default:
				error_log( "Unknown action type '{$options['type']}' specified when trying to create an action for '{$options['hook']}'." ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the library logs this to the PHP error log too.
				return 0;
		}
		$action = new ActionScheduler_Action( $options['hook'], $options['arguments'], $schedule, $options['group'] );
		$action->set_priority( $options['priority'] );

		$action_id = 0;
		try {
			$action_id = $this->store_new( $action, $options['unique'] );
		} catch ( Exception $e ) {
			/* translators: 1: action hook 2: error message */
			error_log( sprintf( __( 'Caught exception while enqueuing action "%1$s": %2$s', 'sidecar-scheduler' ), $options['hook'], $e->getMessage() ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the library logs this to the PHP error log too.
		}
		return $action_id;
	}

	protected function store( ActionScheduler_Action $action ) {
		return ActionScheduler_Store::instance()->save_action( $action );
	}

	protected function store_unique_action( ActionScheduler_Action $action ) {
		$store = ActionScheduler_Store::instance();
		if ( method_exists( $store, 'save_unique_action' ) ) {
			return $store->save_unique_action( $action );
		}
		$existing = $store->find_action(
			$action->get_hook(),
			array(
				'status' => ActionScheduler_Store::STATUS_PENDING,
				'group'  => $action->get_group(),
			)
		);
		return $existing ? 0 : $store->save_action( $action );
	}
}
