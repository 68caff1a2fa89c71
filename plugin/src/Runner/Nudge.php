<?php
/**
 * Tells the sidecar that an action is due now, so it starts in milliseconds instead of at the next poll.
 *
 * Works in both modes: in companion mode it listens to the library's own `action_scheduler_stored_action` (fired by
 * the bundled copy's store), in both to `sidecar_scheduler_due_action_stored`, which our factory fires when it knows
 * the action is due and which any code that makes an action due by other means may fire too (our admin's Run now). One UDP datagram
 * per site per request, sent at shutdown: it never blocks or fails the request.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\RunnerRows;

defined( 'ABSPATH' ) || exit;

final class Nudge {
	/**
	 * Stored IDs looked up at shutdown, per table prefix. Past this many a request nudges without looking: a spurious
	 * nudge costs the sidecar one empty claim, a lookup of thousands of IDs costs more.
	 */
	const MAX_CHECKED = 200;

	/** @var array<string, true> Prefixes known to have an action due now. */
	private static $due = array();
	/** @var array<string, int[]> Prefix => stored action IDs whose due time is not known yet. */
	private static $stored = array();
	private static $armed  = false;

	public static function register() {
		add_action( 'sidecar_scheduler_due_action_stored', array( __CLASS__, 'queue' ) );
		add_action( 'action_scheduler_stored_action', array( __CLASS__, 'stored' ) );
	}

	/** An action of the current site is due now (the caller knows its schedule). */
	public static function queue() {
		if ( self::arm() ) {
			self::$due[ self::prefix() ] = true;
		}
	}

	/**
	 * The library stored an action: whether it is due is decided at shutdown, in one lookup for the request. Only in
	 * companion mode: in standalone mode our factory knows each schedule and says so, and the lookup would add a query
	 * to requests that schedule for later.
	 */
	public static function stored( $action_id ) {
		if ( \SidecarScheduler\Plugin::MODE_COMPANION !== \SidecarScheduler\Plugin::mode() || ! self::arm() ) {
			return;
		}
		$prefix = self::prefix();
		if ( isset( self::$due[ $prefix ] ) ) {
			return;
		}
		if ( ! isset( self::$stored[ $prefix ] ) ) {
			self::$stored[ $prefix ] = array();
		}
		if ( count( self::$stored[ $prefix ] ) >= self::MAX_CHECKED ) {
			self::$due[ $prefix ] = true;
			unset( self::$stored[ $prefix ] );
			return;
		}
		self::$stored[ $prefix ][] = (int) $action_id;
	}

	/** Registers the shutdown send once per request; false where nudges make no sense. */
	private static function arm() {
		if ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER ) {
			return false; // A long-lived worker's successors are picked up by its lane's next claim.
		}
		if ( ! self::address() ) {
			return false;
		}
		if ( ! self::$armed ) {
			self::$armed = true;
			// Stored during shutdown itself (another shutdown callback): send after it, still in this request.
			add_action( 'shutdown', array( __CLASS__, 'send' ), doing_action( 'shutdown' ) ? PHP_INT_MAX : 1 );
		}
		return true;
	}

	private static function prefix() {
		return (string) $GLOBALS['wpdb']->prefix;
	}

	public static function address() {
		$address = defined( Contract::CONST_NUDGE ) ? constant( Contract::CONST_NUDGE ) : '';
		$address = apply_filters( 'sidecar_scheduler_nudge_address', $address );
		return is_string( $address ) && 0 === strpos( $address, 'udp://' ) ? $address : '';
	}

	public static function send() {
		$due          = self::$due;
		$stored       = self::$stored;
		self::$due    = array();
		self::$stored = array();
		self::$armed  = false;
		foreach ( $stored as $prefix => $ids ) {
			if ( ! isset( $due[ $prefix ] ) && self::any_due( $prefix, $ids ) ) {
				$due[ $prefix ] = true;
			}
		}
		if ( ! $due ) {
			return;
		}
		$address = self::address();
		$errno   = 0;
		$errstr  = '';
		$socket  = @stream_socket_client( $address, $errno, $errstr, 0.05 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors -- a missing sidecar is normal.
		if ( ! $socket ) {
			return;
		}
		foreach ( array_keys( $due ) as $prefix ) {
			// The prefix names the site (a network's sidecar serves each site's tables); the URL is for people reading a capture.
			@fwrite( $socket, '{"site":' . wp_json_encode( home_url() ) . ',"prefix":' . wp_json_encode( (string) $prefix ) . '}' ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- a best-effort UDP datagram to the sidecar, not a file: a refused send must not warn in the page.
		}
		fclose( $socket ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fclose -- the UDP socket, not a file.
	}

	/** Whether any of these just-stored actions is pending and due now (a schedule for now or in the past). */
	private static function any_due( $prefix, array $ids ) {
		$ids = array_filter( array_map( 'intval', $ids ) );
		if ( ! $ids ) {
			return false;
		}
		return null !== RunnerRows::any_due( $prefix, $ids );
	}
}
