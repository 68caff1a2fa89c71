<?php
defined( 'ABSPATH' ) || exit;

/**
 * The lock type ActionScheduler::lock() returns: a named lock that expires by itself. Which class is used can be
 * changed with `action_scheduler_lock_class`, as in the library; the default is the options-table lock.
 */
abstract class ActionScheduler_Lock {
	/** @var ActionScheduler_Lock|null */
	private static $locker = null;

	/** @var int Seconds a lock lasts unless `action_scheduler_lock_duration` says otherwise. */
	protected static $lock_duration = MINUTE_IN_SECONDS;

	/** True while a lock of this type is held and has not expired. */
	public function is_locked( $lock_type ) {
		return $this->get_expiration( $lock_type ) >= time();
	}

	/** Takes the lock; false when someone else holds it. */
	abstract public function set( $lock_type );

	/** Unix time at which the lock expires, or 0/false when none is held. */
	abstract public function get_expiration( $lock_type );

	protected function get_duration( $lock_type ) {
		return apply_filters( 'action_scheduler_lock_duration', self::$lock_duration, $lock_type );
	}

	public static function instance() {
		if ( empty( self::$locker ) ) {
			$class        = apply_filters( 'action_scheduler_lock_class', 'ActionScheduler_OptionLock' );
			self::$locker = new $class();
		}
		return self::$locker;
	}
}
