<?php
/**
 * The schedule classes. Property names, visibility and __sleep order are part of the storage format:
 * PHP serialises them into the `schedule` column and the real library must read our rows byte-for-byte.
 */
defined( 'ABSPATH' ) || exit;

interface ActionScheduler_Schedule {
	public function next( ?DateTime $after = null );
	public function is_recurring();
}

abstract class ActionScheduler_Abstract_Schedule extends ActionScheduler_Schedule_Deprecated {
	/** @var DateTime|null In memory only. */
	private $scheduled_date = null;
	/** @var int|null Serialised. */
	protected $scheduled_timestamp = null;

	public function __construct( DateTime $date ) {
		$this->scheduled_date = $date;
	}

	abstract public function is_recurring();

	/** Next date after $after for recurring schedules, or null. */
	abstract protected function calculate_next( DateTime $after );

	public function get_next( DateTime $after ) {
		$after = clone $after;
		if ( $after > $this->scheduled_date ) {
			$after = $this->calculate_next( $after );
			return $after;
		}
		return clone $this->scheduled_date;
	}

	public function get_date() {
		return $this->scheduled_date;
	}

	public function __sleep() {
		$this->scheduled_timestamp = $this->scheduled_date->getTimestamp();
		return array( 'scheduled_timestamp' );
	}

	public function __wakeup() {
		$this->scheduled_date = as_get_datetime_object( $this->scheduled_timestamp );
		unset( $this->scheduled_timestamp );
	}
}

abstract class ActionScheduler_Abstract_RecurringSchedule extends ActionScheduler_Abstract_Schedule {
	private $first_date        = null;
	protected $first_timestamp = null;
	protected $recurrence;

	public function __construct( DateTime $date, $recurrence, ?DateTime $first = null ) {
		parent::__construct( $date );
		$this->first_date = empty( $first ) ? $date : $first;
		$this->recurrence = $recurrence;
	}

	public function is_recurring() {
		return true;
	}

	public function get_first_date() {
		return clone $this->first_date;
	}

	public function get_recurrence() {
		return $this->recurrence;
	}

	public function __sleep() {
		$sleep_params          = parent::__sleep();
		$this->first_timestamp = $this->first_date->getTimestamp();
		return array_merge( $sleep_params, array( 'first_timestamp', 'recurrence' ) );
	}

	public function __wakeup() {
		parent::__wakeup();
		if ( $this->first_timestamp > 0 ) {
			$this->first_date = as_get_datetime_object( $this->first_timestamp );
		} else {
			$this->first_date = $this->get_date();
		}
	}
}

class ActionScheduler_SimpleSchedule extends ActionScheduler_Abstract_Schedule {
	/** @var int|null Legacy duplicate of scheduled_timestamp, kept for older readers. */
	private $timestamp = null;

	public function calculate_next( DateTime $after ) {
		return null;
	}

	public function is_recurring() {
		return false;
	}

	public function __sleep() {
		$sleep_params    = parent::__sleep();
		$this->timestamp = $this->scheduled_timestamp;
		return array_merge( $sleep_params, array( 'timestamp' ) );
	}

	public function __wakeup() {
		if ( is_null( $this->scheduled_timestamp ) && ! is_null( $this->timestamp ) ) {
			$this->scheduled_timestamp = $this->timestamp;
			unset( $this->timestamp );
		}
		parent::__wakeup();
	}
}

class ActionScheduler_NullSchedule extends ActionScheduler_SimpleSchedule {
	public function __construct( ?DateTime $date = null ) {
		$this->scheduled_timestamp = null;
	}

	public function __sleep() {
		return array();
	}

	public function __wakeup() {
		$this->scheduled_timestamp = null;
	}

	public function get_date() {
		return null;
	}
}

class ActionScheduler_CanceledSchedule extends ActionScheduler_SimpleSchedule {
	/** @var null Written as N by serialize(). */
	private $timestamp = null;

	public function calculate_next( DateTime $after ) {
		return null;
	}

	public function get_next( DateTime $after ) {
		return null;
	}

	public function is_recurring() {
		return false;
	}

	public function __wakeup() {
		if ( is_null( $this->scheduled_timestamp ) && ! is_null( $this->timestamp ) ) {
			$this->scheduled_timestamp = $this->timestamp;
			unset( $this->timestamp );
		}
		parent::__wakeup();
	}
}

class ActionScheduler_IntervalSchedule extends ActionScheduler_Abstract_RecurringSchedule {
	private $start_timestamp     = null;
	private $interval_in_seconds = null;

	protected function calculate_next( DateTime $after ) {
		$after->modify( '+' . (int) $this->get_recurrence() . ' seconds' );
		return $after;
	}

	public function interval_in_seconds() {
		_deprecated_function( __METHOD__, '3.0.0', '(int)ActionScheduler_Abstract_RecurringSchedule::get_recurrence()' );
		return (int) $this->get_recurrence();
	}

	public function __sleep() {
		$sleep_params              = parent::__sleep();
		$this->start_timestamp     = $this->scheduled_timestamp;
		$this->interval_in_seconds = $this->recurrence;
		return array_merge( $sleep_params, array( 'start_timestamp', 'interval_in_seconds' ) );
	}

	public function __wakeup() {
		if ( is_null( $this->scheduled_timestamp ) && ! is_null( $this->start_timestamp ) ) {
			$this->scheduled_timestamp = $this->start_timestamp;
			unset( $this->start_timestamp );
		}
		if ( is_null( $this->recurrence ) && ! is_null( $this->interval_in_seconds ) ) {
			$this->recurrence = $this->interval_in_seconds;
			unset( $this->interval_in_seconds );
		}
		parent::__wakeup();
	}
}

class ActionScheduler_CronSchedule extends ActionScheduler_Abstract_RecurringSchedule {
	private $start_timestamp = null;
	/** @var CronExpression|null Same object as recurrence; serialised as a back-reference. */
	private $cron = null;

	/**
	 * @param DateTime              $start      The first run is the first match at or after this, minutes only.
	 * @param CronExpression|string $recurrence
	 */
	public function __construct( DateTime $start, $recurrence, ?DateTime $first = null ) {
		if ( ! is_a( $recurrence, 'CronExpression' ) ) {
			$recurrence = CronExpression::factory( $recurrence );
		}
		// The first instance is the first match at or after $start; the library keeps $start as first date.
		$date = $recurrence->getNextRunDate( $start, 0, true );
		if ( empty( $first ) ) {
			$first = $start;
		}
		parent::__construct( $date, $recurrence, $first );
	}

	protected function calculate_next( DateTime $after ) {
		return $this->recurrence->getNextRunDate( $after, 0, false );
	}

	public function get_recurrence() {
		return strval( $this->recurrence );
	}

	public function __sleep() {
		$sleep_params          = parent::__sleep();
		$this->start_timestamp = $this->scheduled_timestamp;
		$this->cron            = $this->recurrence;
		return array_merge( $sleep_params, array( 'start_timestamp', 'cron' ) );
	}

	public function __wakeup() {
		if ( is_null( $this->scheduled_timestamp ) && ! is_null( $this->start_timestamp ) ) {
			$this->scheduled_timestamp = $this->start_timestamp;
			unset( $this->start_timestamp );
		}
		if ( is_null( $this->recurrence ) && ! is_null( $this->cron ) ) {
			$this->recurrence = $this->cron;
			unset( $this->cron );
		}
		parent::__wakeup();
	}
}
