<?php
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the lock is one atomic statement on its options row; get_option()/update_option() and their cache cannot compare-and-set, and a cached expiry would let two runners hold it.

/** The option-row lock the async loopback runner uses (facts §9): "<unique id>|<expiry>" in the options table. */
class ActionScheduler_OptionLock extends ActionScheduler_Lock {
	/** Expiry of the lock as stored now (read from the table, not the options cache), false when none is held. */
	public function get_expiration( $lock_type ) {
		global $wpdb;
		$value = (string) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $this->get_key( $lock_type ) ) );
		$parts = explode( '|', $value );
		// The value is the expiry alone (older locks) or the holder's ID, a pipe and the expiry.
		if ( count( $parts ) <= 2 && is_numeric( end( $parts ) ) ) {
			return (int) end( $parts );
		}
		return false;
	}

	protected function get_key( $lock_type ) {
		return 'action_scheduler_lock_' . $lock_type;
	}

	/** INSERT when absent, else a compare-and-swap UPDATE of an expired value: two requests cannot both win. */
	public function set( $lock_type ) {
		global $wpdb;
		$name  = $this->get_key( $lock_type );
		$value = uniqid( '', true ) . '|' . ( time() + $this->get_duration( $lock_type ) );
		$rows  = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", $name, $value ) );
		if ( ! $rows ) {
			$old   = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $name ) );
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
