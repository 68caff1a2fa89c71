<?php
/** The store's public face: status constants and the singleton that plugins reach with ActionScheduler::store(). */
defined( 'ABSPATH' ) || exit;

abstract class ActionScheduler_Store extends ActionScheduler_Store_Deprecated {
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
			self::STATUS_COMPLETE => __( 'Complete', 'sidecar-scheduler' ),
			self::STATUS_PENDING  => __( 'Pending', 'sidecar-scheduler' ),
			self::STATUS_RUNNING  => __( 'In-progress', 'sidecar-scheduler' ),
			self::STATUS_FAILED   => __( 'Failed', 'sidecar-scheduler' ),
			self::STATUS_CANCELED => __( 'Canceled', 'sidecar-scheduler' ),
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
		$params = wp_parse_args(
			$params,
			array(
				'args'   => null,
				'status' => self::STATUS_PENDING,
				'group'  => '',
			)
		);
		// As the library: the next pending action, or the most recent one of another status; its ID as the query gives it.
		$order = ( empty( $params['status'] ) || self::STATUS_PENDING === $params['status'] ) ? 'ASC' : 'DESC';
		$query = array(
			'hook'     => $hook,
			'status'   => $params['status'],
			'group'    => $params['group'],
			'orderby'  => 'date',
			'order'    => $order,
			'per_page' => 1,
		);
		if ( null !== $params['args'] ) {
			$query['args'] = $params['args'];
		}
		$results = $this->query_actions( $query );
		return empty( $results ) ? null : $results[0];
	}

	public function has_pending_actions_due() {
		$ids = $this->query_actions(
			array(
				'date'     => as_get_datetime_object(),
				'status'   => self::STATUS_PENDING,
				'orderby'  => 'none',
				'per_page' => 1,
			)
		);
		return ! empty( $ids );
	}

	public function extra_action_counts() {
		$extra = array();
		$due   = $this->query_actions(
			array(
				'status'       => self::STATUS_PENDING,
				'date'         => as_get_datetime_object(),
				'date_compare' => '<=',
			),
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
			throw ActionScheduler_InvalidActionException::from_decoding_args( $action_id ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the message holds var_export() output verbatim, as the library's does; printed as text, never as HTML.
		}
	}

	protected function validate_schedule( $schedule, $action_id ) {
		if ( empty( $schedule ) || ! is_a( $schedule, 'ActionScheduler_Schedule' ) ) {
			throw ActionScheduler_InvalidActionException::from_schedule( $action_id, $schedule ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the message holds var_export() output verbatim, as the library's does; printed as text, never as HTML.
		}
	}

	protected function validate_action( ActionScheduler_Action $action ) {
		if ( strlen( wp_json_encode( $action->get_args() ) ) > static::$max_args_length ) {
			/* translators: %d: the longest args the store accepts, in bytes of JSON. */
			throw new InvalidArgumentException( sprintf( esc_html__( 'ActionScheduler_Action::$args too long. To ensure the args column can be indexed, action args should not be more than %d characters when encoded as JSON.', 'sidecar-scheduler' ), (int) static::$max_args_length ) );
		}
	}

	protected function get_null_action() {
		return new ActionScheduler_NullAction();
	}

	/**
	 * Cancels every pending action of a hook, one cancel_action() at a time, 1000 per bulk hook. Stores with a faster
	 * way (ActionScheduler_DBStore: one UPDATE per batch) override this.
	 */
	public function cancel_actions_by_hook( $hook ) {
		$this->cancel_pending_matching( array( 'hook' => $hook ) );
	}

	public function cancel_actions_by_group( $group ) {
		$this->cancel_pending_matching( array( 'group' => $group ) );
	}

	private function cancel_pending_matching( array $query ) {
		do {
			$action_ids = $this->query_actions(
				array_merge(
					$query,
					array(
						'status'   => self::STATUS_PENDING,
						'per_page' => 1000,
						'orderby'  => 'none',
					)
				)
			);
			foreach ( $action_ids as $action_id ) {
				$this->cancel_action( $action_id );
			}
			do_action( 'action_scheduler_bulk_cancel_actions', $action_ids );
		} while ( ! empty( $action_ids ) );
	}

	/** A posts-table store marks the actions it migrated; the table store has nothing to mark. */
	public function mark_migrated( $action_id ) {}

	abstract public function save_action( ActionScheduler_Action $action, ?DateTime $scheduled_date = null );
	abstract public function fetch_action( $action_id );
	abstract public function query_actions( $query = array(), $query_type = 'select' );
	/** Counts per status (status => count). */
	abstract public function action_counts();
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

class ActionScheduler_InvalidActionException extends InvalidArgumentException implements ActionScheduler_Exception {
	public static function from_schedule( $action_id, $schedule ) {
		/* translators: 1: action ID 2: schedule */
		return new static( sprintf( __( 'Action [%1$s] has an invalid schedule: %2$s', 'sidecar-scheduler' ), $action_id, var_export( $schedule, true ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_var_export -- the library's message shows the bad schedule as var_export() does.
	}

	public static function from_decoding_args( $action_id, $args = array() ) {
		/* translators: 1: action ID 2: arguments */
		return new static( sprintf( __( 'Action [%1$s] has invalid arguments. It cannot be JSON decoded to an array. $args = %2$s', 'sidecar-scheduler' ), $action_id, var_export( $args, true ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_var_export -- the library's message shows the bad args as var_export() does.
	}
}

/** Local wall time exactly as the library derives it: timezone_string wins; a bare offset leaves format() in UTC. */
abstract class ActionScheduler_TimezoneHelper {
	/** @var DateTimeZone|null get_local_timezone()'s answer, kept until it is asked to reset. */
	private static $local_timezone = null;

	public static function set_local_timezone( DateTime $date ) {
		if ( ! is_a( $date, 'ActionScheduler_DateTime' ) ) {
			$date = as_get_datetime_object( $date->format( 'U' ) );
		}
		if ( get_option( 'timezone_string' ) ) {
			$date->setTimezone( new DateTimeZone( self::get_local_timezone_string() ) );
		} else {
			$date->setUtcOffset( self::get_local_timezone_offset() );
		}
		return $date;
	}

	/**
	 * The site's zone name; for a bare offset, a zone that has that offset (whole hours only, as the library reads
	 * gmt_offset as an integer), or '' when none does, 'UTC' for offset 0.
	 */
	protected static function get_local_timezone_string( $reset = false ) {
		$timezone = get_option( 'timezone_string' );
		if ( $timezone ) {
			return $timezone;
		}
		$offset = intval( get_option( 'gmt_offset', 0 ) ) * HOUR_IN_SECONDS;
		if ( 0 === $offset ) {
			return 'UTC';
		}
		$timezone = timezone_name_from_abbr( '', $offset );
		if ( $timezone ) {
			return $timezone;
		}
		$dst_now = (bool) date( 'I' ); // phpcs:ignore WordPress.DateTime.RestrictedFunctions -- the runtime's own DST state.
		foreach ( timezone_abbreviations_list() as $zones ) {
			foreach ( $zones as $zone ) {
				if ( $zone['timezone_id'] && (bool) $zone['dst'] === $dst_now && intval( $zone['offset'] ) === $offset ) {
					return $zone['timezone_id'];
				}
			}
		}
		return '';
	}

	/** Seconds east of UTC now: the zone's current offset, or gmt_offset (which may be fractional, e.g. 5.5). */
	protected static function get_local_timezone_offset() {
		$timezone = get_option( 'timezone_string' );
		if ( $timezone ) {
			return ( new DateTimeZone( $timezone ) )->getOffset( new DateTime( 'now' ) );
		}
		return floatval( get_option( 'gmt_offset', 0 ) ) * HOUR_IN_SECONDS;
	}

	/** Deprecated since 2.1.0: a DateTimeZone for the site (offset sites get a zone with that whole-hour offset, or UTC). */
	public static function get_local_timezone( $reset = false ) {
		_deprecated_function( __FUNCTION__, '2.1.0', 'ActionScheduler_TimezoneHelper::set_local_timezone()' );
		if ( $reset ) {
			self::$local_timezone = null;
		}
		if ( ! isset( self::$local_timezone ) ) {
			$name = get_option( 'timezone_string' );
			if ( empty( $name ) ) {
				$offset = absint( get_option( 'gmt_offset' ) ) * HOUR_IN_SECONDS;
				$name   = 0 === $offset ? 'UTC' : self::zone_for_offset( $offset );
			}
			self::$local_timezone = new DateTimeZone( $name );
		}
		return self::$local_timezone;
	}

	/**
	 * A zone name with this offset, with DST first, then without; else UTC. (The library also scans the abbreviation
	 * list, comparing a bool with date('I')'s string, which never matches: UTC is what it ends with too.)
	 */
	private static function zone_for_offset( $offset ) {
		foreach ( array( 1, 0 ) as $is_dst ) {
			$name = timezone_name_from_abbr( '', $offset, $is_dst );
			if ( false !== $name ) {
				return $name;
			}
		}
		return 'UTC';
	}
}
