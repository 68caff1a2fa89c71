<?php
/**
 * Cron expressions with Action Scheduler's semantics: UTC (the caller passes UTC dates), minute resolution,
 * day-of-month AND day-of-week, L / W / # / ?, month and weekday names, an optional year field and macros.
 * Class and property names match the library's bundled cron classes because they are serialised into the
 * `schedule` column (cronParts, fieldFactory, fields) and must round-trip with the real library.
 *
 * Over 300 lines because it is one parser and evaluator for the whole cron grammar the library accepts; its class and
 * property names are serialised into the schedule column, so it stays one class.
 */
defined( 'ABSPATH' ) || exit;

class CronExpression {
	const MINUTE  = 0;
	const HOUR    = 1;
	const DAY     = 2;
	const MONTH   = 3;
	const WEEKDAY = 4;
	const YEAR    = 5;

	/** @var string[] */
	private $cronParts;
	/** @var CronExpression_FieldFactory */
	private $fieldFactory;

	/** Coarse fields first, so a mismatch jumps as far as possible in one step. */
	private static $order = array( self::YEAR, self::MONTH, self::DAY, self::WEEKDAY, self::HOUR, self::MINUTE );

	private static $macros = array(
		'@yearly'   => '0 0 1 1 *',
		'@annually' => '0 0 1 1 *',
		'@monthly'  => '0 0 1 * *',
		'@weekly'   => '0 0 * * 0',
		'@daily'    => '0 0 * * *',
		'@hourly'   => '0 * * * *',
	);

	public static function factory( $expression, ?CronExpression_FieldFactory $fieldFactory = null ) {
		if ( isset( self::$macros[ $expression ] ) ) {
			$expression = self::$macros[ $expression ];
		}
		return new self( $expression, $fieldFactory ? $fieldFactory : new CronExpression_FieldFactory() );
	}

	public function __construct( $expression, CronExpression_FieldFactory $fieldFactory ) {
		$this->fieldFactory = $fieldFactory;
		$this->setExpression( $expression );
	}

	public function setExpression( $value ) {
		$this->cronParts = preg_split( '/\s/', (string) $value, -1, PREG_SPLIT_NO_EMPTY );
		if ( count( $this->cronParts ) < 5 ) {
			throw new InvalidArgumentException( $value . ' is not a valid CRON expression' ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the caller's expression verbatim; printed as text, never as HTML.
		}
		foreach ( $this->cronParts as $position => $part ) {
			$this->setPart( $position, $part );
		}
		return $this;
	}

	public function setPart( $position, $value ) {
		if ( ! $this->fieldFactory->getField( $position )->validate( $value ) ) {
			throw new InvalidArgumentException( 'Invalid CRON field value ' . $value . ' as position ' . $position ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the caller's expression verbatim; printed as text, never as HTML.
		}
		$this->cronParts[ $position ] = $value;
		return $this;
	}

	public function getExpression( $part = null ) {
		if ( null === $part ) {
			return implode( ' ', $this->cronParts );
		}
		return isset( $this->cronParts[ $part ] ) ? $this->cronParts[ $part ] : null;
	}

	public function __toString() {
		return $this->getExpression();
	}

	public function getNextRunDate( $currentTime = 'now', $nth = 0, $allowCurrentDate = false ) {
		return $this->getRunDate( $currentTime, $nth, false, $allowCurrentDate );
	}

	public function getPreviousRunDate( $currentTime = 'now', $nth = 0, $allowCurrentDate = false ) {
		return $this->getRunDate( $currentTime, $nth, true, $allowCurrentDate );
	}

	public function isDue( $currentTime = 'now' ) {
		$date = $currentTime instanceof DateTime ? clone $currentTime : new DateTime( $currentTime );
		$date->setTime( (int) $date->format( 'H' ), (int) $date->format( 'i' ), 0 );
		try {
			return $this->getNextRunDate( $date, 0, true ) == $date; // phpcs:ignore Universal.Operators.StrictComparisons.LooseEqual -- DateTime objects compare by instant with ==; === would compare object identity.
		} catch ( Exception $e ) {
			return false;
		}
	}

	/**
	 * Walks forward (or back) field by field. The DateTime passed in has its seconds zeroed in place,
	 * as the library's does: callers rely on that for the stored first_timestamp.
	 */
	/** The next ($invert: previous) $total run dates, as getNextRunDate() would give them for nth = 0, 1, … */
	public function getMultipleRunDates( $total, $currentTime = 'now', $invert = false, $allowCurrentDate = false ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName -- the library's parameter names (named arguments).
		$dates = array();
		$count = max( 0, (int) $total );
		for ( $nth = 0; $nth < $count; $nth++ ) {
			$dates[] = $this->getRunDate( $currentTime, $nth, $invert, $allowCurrentDate );
		}
		return $dates;
	}

	protected function getRunDate( $currentTime = null, $nth = 0, $invert = false, $allowCurrentDate = false ) {
		if ( $currentTime instanceof DateTime ) {
			$current = $currentTime;
		} else {
			$current = new DateTime( $currentTime ? $currentTime : 'now' );
		}
		$current->setTime( (int) $current->format( 'H' ), (int) $current->format( 'i' ), 0 );
		$next = clone $current;
		$nth  = (int) $nth;

		for ( $i = 0; $i < 1000; $i++ ) {
			foreach ( self::$order as $position ) {
				$part = $this->getExpression( $position );
				if ( null === $part ) {
					continue;
				}
				$field     = $this->fieldFactory->getField( $position );
				$satisfied = false;
				foreach ( array_map( 'trim', explode( ',', $part ) ) as $list_part ) {
					if ( $field->isSatisfiedBy( $next, $list_part ) ) {
						$satisfied = true;
						break;
					}
				}
				if ( ! $satisfied ) {
					$field->increment( $next, $invert );
					continue 2;
				}
			}
			if ( ( ! $allowCurrentDate && $next == $current ) || --$nth > -1 ) { // phpcs:ignore Universal.Operators.StrictComparisons.LooseEqual -- DateTime objects compare by instant with ==; === would compare object identity.
				$this->fieldFactory->getField( self::MINUTE )->increment( $next, $invert );
				continue;
			}
			return $next;
		}
		throw new RuntimeException( 'Impossible CRON expression' );
	}
}

class CronExpression_FieldFactory {
	/** @var CronExpression_AbstractField[] Filled lazily; serialised with the expression. */
	private $fields = array();

	public function getField( $position ) {
		if ( ! isset( $this->fields[ $position ] ) ) {
			switch ( $position ) {
				case 0:
					$this->fields[ $position ] = new CronExpression_MinutesField();
					break;
				case 1:
					$this->fields[ $position ] = new CronExpression_HoursField();
					break;
				case 2:
					$this->fields[ $position ] = new CronExpression_DayOfMonthField();
					break;
				case 3:
					$this->fields[ $position ] = new CronExpression_MonthField();
					break;
				case 4:
					$this->fields[ $position ] = new CronExpression_DayOfWeekField();
					break;
				case 5:
					$this->fields[ $position ] = new CronExpression_YearField();
					break;
				default:
					throw new InvalidArgumentException( esc_html( $position ) . ' is not a valid position' );
			}
		}
		return $this->fields[ $position ];
	}
}

interface CronExpression_FieldInterface {
	public function isSatisfiedBy( DateTime $date, $value );
	public function increment( DateTime $date, $invert = false );
	public function validate( $value );
}

abstract class CronExpression_AbstractField implements CronExpression_FieldInterface {
	/** Compares one list element ('*', 'a', 'a-b', '*\/n', 'a-b/n', 'a/n') with the date's value. */
	public function isSatisfied( $date_value, $value ) {
		if ( false !== strpos( $value, '/' ) ) {
			return $this->isInIncrementsOfRanges( $date_value, $value );
		}
		if ( false !== strpos( $value, '-' ) ) {
			list( $from, $to ) = array_pad( explode( '-', $value, 2 ), 2, null );
			return $date_value >= $from && $date_value <= $to;
		}
		return '*' === $value || $date_value == $value; // phpcs:ignore Universal.Operators.StrictComparisons -- '05' matches '5'.
	}

	public function isInIncrementsOfRanges( $date_value, $value ) {
		$parts = array_map( 'trim', explode( '/', $value, 2 ) );
		$step  = isset( $parts[1] ) ? (int) $parts[1] : 0;
		if ( $step <= 0 ) {
			return false;
		}
		if ( '*' === $parts[0] || '0' === $parts[0] ) {
			return 0 === (int) $date_value % $step;
		}
		$range  = explode( '-', $parts[0], 2 );
		$offset = (int) $range[0];
		$to     = isset( $range[1] ) ? (int) $range[1] : (int) $date_value;
		if ( $date_value < $offset || $date_value > $to ) {
			return false;
		}
		for ( $i = $offset; $i <= $to; $i += $step ) {
			if ( $i == $date_value ) { // phpcs:ignore Universal.Operators.StrictComparisons.LooseEqual -- cron field values are strings, the dates integers: the comparison is numeric on purpose.
				return true;
			}
		}
		return false;
	}
}

class CronExpression_MinutesField extends CronExpression_AbstractField {
	public function isSatisfiedBy( DateTime $date, $value ) {
		return $this->isSatisfied( $date->format( 'i' ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		$date->modify( $invert ? '-1 minute' : '+1 minute' );
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-0-9]+/', $value );
	}
}

class CronExpression_HoursField extends CronExpression_AbstractField {
	public function isSatisfiedBy( DateTime $date, $value ) {
		return $this->isSatisfied( $date->format( 'H' ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		// An hour is stepped in UTC and converted back, as the library does, so a DST change in between neither
		// repeats nor skips an hour of the walk.
		$zone = $date->getTimezone();
		$date->setTimezone( new DateTimeZone( 'UTC' ) );
		if ( $invert ) {
			$date->modify( '-1 hour' );
			$date->setTime( (int) $date->format( 'H' ), 59 );
		} else {
			$date->modify( '+1 hour' );
			$date->setTime( (int) $date->format( 'H' ), 0 );
		}
		$date->setTimezone( $zone );
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-0-9]+/', $value );
	}
}

class CronExpression_DayOfMonthField extends CronExpression_AbstractField {
	/** The weekday nearest to $target_day in that month, never crossing into another month. */
	public static function getNearestWeekday( $year, $month, $target_day ) {
		$target = new DateTime( sprintf( '%04d-%02d-%02d', $year, $month, $target_day ), new DateTimeZone( 'UTC' ) );
		if ( (int) $target->format( 'N' ) < 6 ) {
			return $target;
		}
		$last = (int) $target->format( 't' );
		foreach ( array( -1, 1, -2, 2 ) as $shift ) {
			$day = (int) $target_day + $shift;
			if ( $day > 0 && $day <= $last ) {
				$target->setDate( (int) $year, (int) $month, $day );
				if ( (int) $target->format( 'N' ) < 6 && (int) $target->format( 'm' ) === (int) $month ) {
					return $target;
				}
			}
		}
		return null;
	}

	public function isSatisfiedBy( DateTime $date, $value ) {
		if ( '?' === $value ) {
			return true;
		}
		if ( 'L' === $value ) {
			return $date->format( 'd' ) === $date->format( 't' );
		}
		$w = strpos( $value, 'W' );
		if ( $w ) {
			$nearest = self::getNearestWeekday( $date->format( 'Y' ), $date->format( 'm' ), substr( $value, 0, $w ) );
			return $nearest && $date->format( 'j' ) === $nearest->format( 'j' );
		}
		return $this->isSatisfied( $date->format( 'd' ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		if ( $invert ) {
			$date->modify( 'previous day' );
			$date->setTime( 23, 59 );
		} else {
			$date->modify( 'next day' );
			$date->setTime( 0, 0 );
		}
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-\?LW0-9A-Za-z]+/', $value );
	}
}

class CronExpression_MonthField extends CronExpression_AbstractField {
	public function isSatisfiedBy( DateTime $date, $value ) {
		$value = str_ireplace( array( 'JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC' ), array_map( 'strval', range( 1, 12 ) ), $value );
		return $this->isSatisfied( $date->format( 'm' ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		// The month moves first with PHP's overflow (Jan 31 + 1 month is Mar 3, so February is skipped), then to
		// that month's first (or last) day: the library steps this way, and its 1000-step limit on impossible or
		// far dates depends on it (e.g. "0 0 29 2 *" from 2025 is "Impossible CRON expression" there).
		$date->modify( $invert ? '-1 month' : '+1 month' );
		if ( $invert ) {
			$date->setDate( (int) $date->format( 'Y' ), (int) $date->format( 'n' ), (int) $date->format( 't' ) );
			$date->setTime( 23, 59 );
		} else {
			$date->setDate( (int) $date->format( 'Y' ), (int) $date->format( 'n' ), 1 );
			$date->setTime( 0, 0 );
		}
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-0-9A-Z]+/', $value );
	}
}

class CronExpression_DayOfWeekField extends CronExpression_AbstractField {
	public function isSatisfiedBy( DateTime $date, $value ) {
		if ( '?' === $value ) {
			return true;
		}
		$value = str_ireplace( array( 'SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT' ), array_map( 'strval', range( 0, 6 ) ), $value );
		$year  = (int) $date->format( 'Y' );
		$month = (int) $date->format( 'n' );
		$last  = (int) $date->format( 't' );

		$l = strpos( $value, 'L' );
		if ( $l ) { // "5L": the last Friday of the month.
			$weekday = (int) str_replace( '7', '0', substr( $value, 0, $l ) );
			$probe   = clone $date;
			$day     = $last;
			$probe->setDate( $year, $month, $day );
			while ( (int) $probe->format( 'w' ) !== $weekday && $day > 1 ) {
				$probe->setDate( $year, $month, --$day );
			}
			return (int) $date->format( 'j' ) === $day;
		}

		if ( strpos( $value, '#' ) ) { // "1#2": the second Monday.
			list( $weekday, $nth ) = array_map( 'intval', explode( '#', $value, 2 ) );
			if ( 0 === $weekday ) {
				$weekday = 7;
			}
			if ( $weekday < 1 || $weekday > 7 ) {
				throw new InvalidArgumentException( 'Weekday must be a value between 0 and 7. ' . (int) $weekday . ' given' );
			}
			if ( $nth < 1 || $nth > 5 ) {
				throw new InvalidArgumentException( 'There are never more than 5 of a given weekday in a month' );
			}
			if ( (int) $date->format( 'N' ) !== $weekday ) {
				return false;
			}
			return (int) ceil( (int) $date->format( 'j' ) / 7 ) === $nth;
		}

		if ( strpos( $value, '-' ) ) {
			$parts = explode( '-', $value );
			if ( '7' === $parts[0] ) {
				$parts[0] = '0';
			} elseif ( '0' === $parts[1] ) {
				$parts[1] = '7';
			}
			$value = implode( '-', $parts );
		}
		// Sunday is 0 or 7: use ISO numbering (1-7) when the field mentions 7.
		$format = in_array( '7', str_split( $value ), true ) ? 'N' : 'w';
		return $this->isSatisfied( $date->format( $format ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		if ( $invert ) {
			$date->modify( '-1 day' );
			$date->setTime( 23, 59, 0 );
		} else {
			$date->modify( '+1 day' );
			$date->setTime( 0, 0, 0 );
		}
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-0-9A-Z]+/', $value );
	}
}

class CronExpression_YearField extends CronExpression_AbstractField {
	public function isSatisfiedBy( DateTime $date, $value ) {
		return $this->isSatisfied( $date->format( 'Y' ), $value );
	}

	public function increment( DateTime $date, $invert = false ) {
		if ( $invert ) {
			$date->modify( '-1 year' );
			$date->setDate( (int) $date->format( 'Y' ), 12, 31 );
			$date->setTime( 23, 59, 0 );
		} else {
			$date->modify( '+1 year' );
			$date->setDate( (int) $date->format( 'Y' ), 1, 1 );
			$date->setTime( 0, 0, 0 );
		}
		return $this;
	}

	public function validate( $value ) {
		return (bool) preg_match( '/[\*,\/\-0-9]+/', $value );
	}
}
