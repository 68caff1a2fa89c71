<?php
/**
 * PHPStan stubs for the parts of WP-CLI the plugin calls (signatures as in WP-CLI 2.11, which scripts/stack.sh
 * installs). The registries here serve no WP-CLI stubs package; this file is read by PHPStan only, never loaded.
 */

// phpcs:ignoreFile -- stubs for static analysis, not plugin code.

class WP_CLI {
	/** @param string $name @param callable|object|string $callable @param array<string, mixed> $args */
	public static function add_command( $name, $callable, $args = array() ) { return true; }
	/** @param string $message */
	public static function line( $message = '' ) {}
	/** @param string $message */
	public static function log( $message ) {}
	/** @param string $message */
	public static function success( $message ) {}
	/** @param string $message */
	public static function warning( $message ) {}
	/**
	 * @param string|\WP_Error|\Exception|\Throwable $message
	 * @param bool|int $exit
	 * @return ($exit is false ? void : never)
	 */
	public static function error( $message, $exit = true ) {}
	/** @return \WP_CLI\Runner */
	public static function get_runner() { return new \WP_CLI\Runner(); }
}
