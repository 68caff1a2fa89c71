<?php
/** A DateTime that can carry a manual UTC offset, as Action Scheduler's does (used for gmt_offset sites). */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_DateTime extends DateTime {
	/** @var int Seconds east of UTC when the zone is a bare offset. */
	protected $utcOffset = 0; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	#[\ReturnTypeWillChange]
	public function getTimestamp() {
		return $this->utcOffset ? $this->format( 'U' ) - $this->utcOffset : parent::getTimestamp();
	}

	public function setUtcOffset( $offset ) {
		$this->utcOffset = intval( $offset );
		return $this;
	}

	#[\ReturnTypeWillChange]
	public function getOffset() {
		return $this->utcOffset ? $this->utcOffset : parent::getOffset();
	}

	#[\ReturnTypeWillChange]
	public function setTimezone( $timezone ) {
		$this->utcOffset = 0;
		parent::setTimezone( $timezone );
		return $this;
	}

	public function getOffsetTimestamp() {
		return $this->getTimestamp() + $this->getOffset();
	}
}
