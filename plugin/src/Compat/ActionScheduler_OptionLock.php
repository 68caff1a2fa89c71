<?php
defined( 'ABSPATH' ) || exit;

/** The option-row lock the async loopback runner uses (facts §9). */
class ActionScheduler_OptionLock {
	private static $instance = null;

	public static function instance() {
		if ( empty( self::$instance ) ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	public function get_duration( $lock_type ) {
		return apply_filters( 'action_scheduler_lock_duration', 60, $lock_type );
	}

	public function is_locked( $lock_type ) {
		return $this->get_expiration( $lock_type ) >= time();
	}

	public function get_expiration( $lock_type ) {
		$value = get_option( 'action_scheduler_lock_' . $lock_type );
		if ( ! $value ) {
			return 0;
		}
		$parts = explode( '|', $value );
		return (int) end( $parts );
	}

	/** INSERT when absent, else a compare-and-swap UPDATE of an expired value: two requests cannot both win. */
	public function set( $lock_type ) {
		global $wpdb;
		$name  = 'action_scheduler_lock_' . $lock_type;
		$value = uniqid( '', true ) . '|' . ( time() + $this->get_duration( $lock_type ) );
		$rows  = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", $name, $value ) );
		if ( ! $rows ) {
			$old = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $name ) );
			$parts = explode( '|', (string) $old );
			if ( (int) end( $parts ) >= time() ) {
				return false;
			}
			$rows = $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->options} SET option_value = %s WHERE option_name = %s AND option_value = %s", $value, $name, $old ) );
		}
		wp_cache_delete( $name, 'options' );
		wp_cache_delete( 'notoptions', 'options' );
		return (bool) $rows;
	}
}
