<?php
/** The store's public face: status constants and the singleton that plugins reach with ActionScheduler::store(). */
defined( 'ABSPATH' ) || exit;

abstract class ActionScheduler_Store {
	const STATUS_COMPLETE = 'complete';
	const STATUS_PENDING  = 'pending';
	const STATUS_RUNNING  = 'in-progress';
	const STATUS_FAILED   = 'failed';
	const STATUS_CANCELED = 'canceled';
	const DEFAULT_CLASS   = 'ActionScheduler_DBStore';

	/** @var ActionScheduler_Store|null */
	private static $store = null;

	protected static $max_args_length = 191;

	public static function instance() {
		if ( empty( self::$store ) ) {
			$class       = apply_filters( 'action_scheduler_store_class', self::DEFAULT_CLASS );
			self::$store = new $class();
		}
		return self::$store;
	}

	public function init() {}

	public function get_status_labels() {
		return array(
			self::STATUS_COMPLETE => __( 'Complete', 'action-scheduler' ),
			self::STATUS_PENDING  => __( 'Pending', 'action-scheduler' ),
			self::STATUS_RUNNING  => __( 'In-progress', 'action-scheduler' ),
			self::STATUS_FAILED   => __( 'Failed', 'action-scheduler' ),
			self::STATUS_CANCELED => __( 'Canceled', 'action-scheduler' ),
		);
	}

	/** First matching ID as an int (hooks such as action_scheduler_canceled_action receive it so), or null. */
	public function query_action( $query ) {
		$query['per_page'] = 1;
		$query['offset']   = 0;
		$results           = $this->query_actions( $query );
		return empty( $results ) ? null : (int) $results[0];
	}

	public function find_action( $hook, $params = array() ) {
		$params = wp_parse_args( $params, array( 'args' => null, 'status' => self::STATUS_PENDING, 'group' => '' ) );
		// As the library: the next pending action, or the most recent one of another status; its ID as the query gives it.
		$order  = ( empty( $params['status'] ) || self::STATUS_PENDING === $params['status'] ) ? 'ASC' : 'DESC';
		$query  = array( 'hook' => $hook, 'status' => $params['status'], 'group' => $params['group'], 'orderby' => 'date', 'order' => $order, 'per_page' => 1 );
		if ( null !== $params['args'] ) {
			$query['args'] = $params['args'];
		}
		$results = $this->query_actions( $query );
		return empty( $results ) ? null : $results[0];
	}

	public function has_pending_actions_due() {
		$ids = $this->query_actions(
			array( 'date' => as_get_datetime_object(), 'status' => self::STATUS_PENDING, 'orderby' => 'none', 'per_page' => 1 )
		);
		return ! empty( $ids );
	}

	public function extra_action_counts() {
		$extra = array();
		$due   = $this->query_actions(
			array( 'status' => self::STATUS_PENDING, 'date' => as_get_datetime_object(), 'date_compare' => '<=' ),
			'count'
		);
		if ( $due ) {
			$extra['past-due'] = $due;
		}
		return apply_filters( 'action_scheduler_extra_action_counts', $extra );
	}

	protected function validate_sql_comparator( $comparison_operator ) {
		return in_array( $comparison_operator, array( '!=', '>', '>=', '<', '<=', '=' ), true ) ? $comparison_operator : '=';
	}

	/** Local-time column value as the library computes it (see the facts sheet: quirks kept on purpose). */
	protected function get_scheduled_date_string_local( ActionScheduler_Action $action, ?DateTime $scheduled_date = null ) {
		$next = null === $scheduled_date ? $action->get_schedule()->get_date() : $scheduled_date;
		if ( ! $next ) {
			// Async (NullSchedule): the library discards the converted value, so local equals GMT. Kept on purpose.
			return as_get_datetime_object()->format( 'Y-m-d H:i:s' );
		}
		ActionScheduler_TimezoneHelper::set_local_timezone( $next );
		return $next->format( 'Y-m-d H:i:s' );
	}

	protected function get_scheduled_date_string( ActionScheduler_Action $action, ?DateTime $scheduled_date = null ) {
		$next = null === $scheduled_date ? $action->get_schedule()->get_date() : $scheduled_date;
		if ( ! $next ) {
			$next = as_get_datetime_object();
		}
		$next->setTimezone( new DateTimeZone( 'UTC' ) );
		return $next->format( 'Y-m-d H:i:s' );
	}

	protected function validate_args( $args, $action_id ) {
		if ( ! is_array( $args ) ) {
			throw ActionScheduler_InvalidActionException::from_decoding_args( $action_id );
		}
	}

	protected function validate_schedule( $schedule, $action_id ) {
		if ( empty( $schedule ) || ! is_a( $schedule, 'ActionScheduler_Schedule' ) ) {
			throw ActionScheduler_InvalidActionException::from_schedule( $action_id, $schedule );
		}
	}

	protected function validate_action( ActionScheduler_Action $action ) {
		if ( strlen( wp_json_encode( $action->get_args() ) ) > static::$max_args_length ) {
			/* translators: %d: the longest args the store accepts, in bytes of JSON. */
			throw new InvalidArgumentException( sprintf( __( 'ActionScheduler_Action::$args too long. To ensure the args column can be indexed, action args should not be more than %d characters when encoded as JSON.', 'action-scheduler' ), static::$max_args_length ) );
		}
	}

	public function get_null_action() {
		return new ActionScheduler_NullAction();
	}

	abstract public function save_action( ActionScheduler_Action $action, ?DateTime $scheduled_date = null );
	abstract public function fetch_action( $action_id );
	abstract public function query_actions( $query = array(), $query_type = 'select' );
	abstract public function cancel_action( $action_id );
	abstract public function delete_action( $action_id );
	abstract public function get_date( $action_id );
	abstract public function stake_claim( $max_actions = 10, ?DateTime $before_date = null, $hooks = array(), $group = '' );
	abstract public function get_claim_count();
	abstract public function release_claim( ActionScheduler_ActionClaim $claim );
	abstract public function unclaim_action( $action_id );
	abstract public function mark_failure( $action_id );
	abstract public function log_execution( $action_id );
	abstract public function mark_complete( $action_id );
	abstract public function get_status( $action_id );
	abstract public function get_claim_id( $action_id );
	abstract public function find_actions_by_claim_id( $claim_id );
}

class ActionScheduler_InvalidActionException extends InvalidArgumentException {
	public static function from_schedule( $action_id, $schedule ) {
		/* translators: 1: action ID 2: schedule */
		return new static( sprintf( __( 'Action [%1$s] has an invalid schedule: %2$s', 'action-scheduler' ), $action_id, var_export( $schedule, true ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	}

	public static function from_decoding_args( $action_id, $args = array() ) {
		/* translators: 1: action ID 2: arguments */
		return new static( sprintf( __( 'Action [%1$s] has invalid arguments. It cannot be JSON decoded to an array. $args = %2$s', 'action-scheduler' ), $action_id, var_export( $args, true ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	}
}

/** Local wall time exactly as the library derives it: timezone_string wins; a bare offset leaves format() in UTC. */
abstract class ActionScheduler_TimezoneHelper {
	public static function set_local_timezone( DateTime $date ) {
		if ( ! is_a( $date, 'ActionScheduler_DateTime' ) ) {
			$date = as_get_datetime_object( $date->format( 'U' ) );
		}
		$tz = get_option( 'timezone_string' );
		if ( $tz ) {
			$date->setTimezone( new DateTimeZone( $tz ) );
		} else {
			$date->setUtcOffset( (float) get_option( 'gmt_offset', 0 ) * HOUR_IN_SECONDS );
		}
		return $date;
	}
}
