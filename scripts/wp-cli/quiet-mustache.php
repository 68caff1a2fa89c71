<?php
/**
 * Prepended to the native stack's WP-CLI (scripts/stack.sh): drops the PHP 8.1+ deprecation notices that raise inside
 * Mustache 2.13's own files (trim(null) when WP-CLI renders its help templates). The registry here serves no newer
 * Mustache; every other notice, from WordPress, plugins or WP-CLI, reaches PHP's normal handling unchanged.
 */
set_error_handler(
	static function ( $errno, $errstr, $errfile ) {
		return E_DEPRECATED === $errno && false !== strpos( $errfile, '/vendor/mustache/mustache/' );
	},
	E_DEPRECATED
);
