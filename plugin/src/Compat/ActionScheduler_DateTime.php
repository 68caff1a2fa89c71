<?php
/** A DateTime that can carry a manual UTC offset, as Action Scheduler's does (used for gmt_offset sites). */
defined( 'ABSPATH' ) || exit;

class ActionScheduler_DateTime extends DateTime {
	/** @var int Seconds east of UTC when the zone is a bare offset. */
	protected $utcOffset = 0;

	/**
	 * The instant itself: a manual offset changes only what getOffset() reports, never the moment. The stores set the
	 * offset on the schedule's own date object (to compute the *_local column) before serialising it, so subtracting
	 * the offset here shifted every stored timestamp on a "UTC+5:30" site.
	 */
	#[\ReturnTypeWillChange]
	public function getTimestamp() { // phpcs:ignore Generic.CodeAnalysis.UselessOverridingMethod.Found -- the override carries #[\ReturnTypeWillChange] and the comment above on why the offset is not applied.
		return parent::getTimestamp();
	}

	/** Returns nothing, as the library's does. */
	public function setUtcOffset( $offset ) {
		$this->utcOffset = intval( $offset );
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
