<?php
/**
 * Execution worker without WP-CLI: php plugin/bin/worker.php --path=/var/www/html [--url=https://site]
 * Speaks the same JSON-lines protocol as `wp sidecar-scheduler work`. Exit codes: 0 stdin closed, 2 bad usage, 3 WordPress failed to boot.
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 2 );
}
$sidecar_opts = getopt( '', array( 'path:', 'url:' ) );
if ( empty( $sidecar_opts['path'] ) || ! is_file( rtrim( $sidecar_opts['path'], '/' ) . '/wp-load.php' ) ) {
	fwrite( STDERR, "usage: php worker.php --path=<WordPress root containing wp-load.php> [--url=<site url>]\n" );
	exit( 2 );
}
ini_set( 'display_errors', 'stderr' ); // phpcs:ignore WordPress.PHP.IniSet -- stdout is the protocol stream.
$sidecar_url = isset( $sidecar_opts['url'] ) ? $sidecar_opts['url'] : '';
if ( $sidecar_url ) {
	$_SERVER['HTTP_HOST']   = wp_parse_url_host( $sidecar_url );
	// Multisite resolves the site from host and path, so a subdirectory site needs its path here.
	$sidecar_path           = parse_url( $sidecar_url, PHP_URL_PATH ); // phpcs:ignore WordPress.WP.AlternativeFunctions
	$_SERVER['REQUEST_URI'] = $sidecar_path ? $sidecar_path : '/';
	$_SERVER['HTTPS']       = 'https' === parse_url( $sidecar_url, PHP_URL_SCHEME ) ? 'on' : ''; // phpcs:ignore WordPress.WP.AlternativeFunctions
} else {
	$_SERVER['HTTP_HOST'] = 'localhost';
}
function wp_parse_url_host( $url ) {
	$host = parse_url( $url, PHP_URL_HOST ); // phpcs:ignore WordPress.WP.AlternativeFunctions
	$port = parse_url( $url, PHP_URL_PORT ); // phpcs:ignore WordPress.WP.AlternativeFunctions
	return $port ? "$host:$port" : $host;
}
define( 'SIDECAR_SCHEDULER_WORKER', true );
define( 'DOING_CRON', true ); // Like WP-CLI runners: no front-end side effects, no cron spawning.
require rtrim( $sidecar_opts['path'], '/' ) . '/wp-load.php';
if ( ! class_exists( 'SidecarScheduler\\Runner\\Worker' ) || ! class_exists( 'ActionScheduler', false ) ) {
	fwrite( STDERR, "Sidecar Scheduler is not active on this site, or no Action Scheduler is loaded.\n" );
	exit( 3 );
}
exit( SidecarScheduler\Runner\Worker::run( STDIN, SidecarScheduler\Runner\ProtocolChannel::output() ) );
