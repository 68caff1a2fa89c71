<?php
/**
 * Publishes the groups' limits (concurrency, rate, breaker) for the sidecar, which cannot run PHP filters: the
 * effective set (code over screen) goes as JSON into the autoloaded option sidecar_scheduler_limits whenever a PHP
 * process that sees every plugin's code (the sidecar's worker, WP-CLI, an admin screen) finds it changed. With no
 * policy the option does not exist and reading it costs nothing (alloptions).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Group limits for the sidecar.
 */
final class Limits {
	const OPTION = 'sidecar_scheduler_limits';

	/**
	 * Publishes on init in the worker, WP-CLI and admin requests.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'init', array( __CLASS__, 'maybe_publish' ), 20 );
	}

	/**
	 * Last value seen per option, for when the options cache was flushed (see autoloaded()).
	 *
	 * @var array
	 */
	private static $last = array();

	/**
	 * An autoloaded option's value, never at the cost of a query: read from the loaded options only. The sidecar's
	 * worker flushes the options cache between batches; this check runs on every action's hooks and is almost always
	 * "nothing configured", so it does not reload all options itself: until some other code reads an option again, it
	 * answers with what it saw last.
	 *
	 * @param string $name Option.
	 * @return mixed|null
	 */
	public static function autoloaded( $name ) {
		$all = wp_cache_get( 'alloptions', 'options' );
		if ( ! is_array( $all ) ) {
			return isset( self::$last[ $name ] ) ? self::$last[ $name ] : null;
		}
		self::$last[ $name ] = isset( $all[ $name ] ) ? maybe_unserialize( $all[ $name ] ) : null;
		return self::$last[ $name ];
	}

	/**
	 * Publishes when run where plugins' code is known and the set changed.
	 *
	 * @return void
	 */
	public static function maybe_publish() {
		if ( ! ( defined( 'SIDECAR_SCHEDULER_WORKER' ) || ( defined( 'WP_CLI' ) && WP_CLI ) || is_admin() ) ) {
			return;
		}
		self::publish();
	}

	/**
	 * The limits in force, per group slug.
	 *
	 * @return array slug => array( concurrency?, rate?, breaker? ).
	 */
	public static function current() {
		if ( ! Registry::has_any() ) {
			return array();
		}
		$out = array();
		foreach ( Registry::effective()['group'] as $slug => $p ) {
			$limits = array_intersect_key( $p, array_flip( array( 'concurrency', 'rate', 'breaker' ) ) );
			if ( $limits ) {
				$out[ (string) $slug ] = $limits;
			}
		}
		ksort( $out );
		return $out;
	}

	/**
	 * Writes the option if it differs from what is in force.
	 *
	 * @return bool Whether it was written.
	 */
	public static function publish() {
		$want   = self::current();
		$stored = self::autoloaded( self::OPTION );
		$json   = $want ? wp_json_encode( array( 'groups' => (object) $want ) ) : null;
		if ( null === $json ) {
			if ( null !== $stored ) {
				delete_option( self::OPTION );
				return true;
			}
			return false;
		}
		if ( $stored === $json ) {
			return false;
		}
		// The sidecar limits groups by ID: each limited group gets its row before its first action is stored.
		foreach ( $want as $slug => $limits ) {
			Pauses::ensure_group( (string) $slug );
			if ( isset( $limits['breaker'] ) ) {
				\SidecarScheduler\Store\BreakersTable::ensure(); // The sidecar's claim reads it.
			}
		}
		update_option( self::OPTION, $json, true );
		return true;
	}
}
