<?php
/**
 * Tells the sidecar that a due action was stored, so it starts in milliseconds instead of at the next poll.
 * One UDP datagram per request, sent at shutdown after the response: it never blocks or fails the request.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class Nudge {
	private static $pending = false;

	public static function queue() {
		if ( ! self::$pending ) {
			self::$pending = true;
			if ( did_action( 'shutdown' ) || ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER ) ) {
				return; // A long-lived worker's successors are picked up by the sidecar's own loop.
			}
			add_action( 'shutdown', array( __CLASS__, 'send' ), 1 );
		}
	}

	public static function address() {
		$address = defined( Contract::CONST_NUDGE ) ? constant( Contract::CONST_NUDGE ) : '';
		return apply_filters( 'sidecar_scheduler_nudge_address', $address );
	}

	public static function send() {
		self::$pending = false;
		$address       = self::address();
		if ( ! $address || 0 !== strpos( $address, 'udp://' ) ) {
			return;
		}
		$errno  = 0;
		$errstr = '';
		$socket = @stream_socket_client( $address, $errno, $errstr, 0.05 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors -- a missing sidecar is normal.
		if ( $socket ) {
			@fwrite( $socket, '{"site":' . wp_json_encode( home_url() ) . ',"prefix":' . wp_json_encode( $GLOBALS['wpdb']->prefix ) . '}' ); // phpcs:ignore
			fclose( $socket ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		}
	}
}
