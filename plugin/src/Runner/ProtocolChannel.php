<?php
/**
 * Where the worker writes its protocol lines. The sidecar starts workers with a fourth pipe (file descriptor 3)
 * and names it in SIDECAR_SCHEDULER_PROTOCOL_FD: the protocol then has that channel to itself, and whatever plugin
 * code prints (echo, fwrite(STDOUT), WP_CLI::log(), a JSON-looking line) goes to stdout/stderr, which the sidecar
 * logs as the worker's output instead of parsing it. Without the variable (a worker started by hand) it is stdout.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class ProtocolChannel {
	/** The variable that names the protocol's descriptor (the contract's, shared with the sidecar). */
	const FD_ENV = \SidecarScheduler\Contract::PROTOCOL_FD_ENV;

	/** @var resource|null The descriptor output() opened, if any. */
	private static $opened = null;

	/** True for the protocol's own descriptor: nothing else writes there, so callbacks' output need not be held back. */
	public static function is_dedicated( $stream ) {
		return null !== self::$opened && $stream === self::$opened;
	}

	/** @return resource */
	public static function output() {
		$fd = getenv( self::FD_ENV );
		if ( is_string( $fd ) && ctype_digit( $fd ) && (int) $fd > 2 ) {
			$stream = @fopen( 'php://fd/' . (int) $fd, 'wb' ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged, WordPress.WP.AlternativeFunctions.file_system_operations_fopen -- the protocol's file descriptor from the sidecar, not a file; when it is not open we say so below and use stdout.
			if ( $stream ) {
				self::$opened = $stream;
				return $stream;
			}
			fwrite( STDERR, 'Sidecar Scheduler: ' . self::FD_ENV . "={$fd} is not an open file descriptor; the protocol goes to stdout.\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- a warning on stderr, where the sidecar logs it; not a file.
		}
		return STDOUT;
	}
}
