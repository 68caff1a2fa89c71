<?php
/**
 * Execution worker without WP-CLI: php plugin/bin/worker.php --path=/var/www/html [--url=https://site]
 * Speaks the same JSON-lines protocol as `wp sidecar-scheduler work`. Exit codes: 0 stdin closed, 2 bad usage, 3 WordPress failed to boot.
 *
 * Everything above the require of wp-load.php runs before WordPress exists: no WP_Filesystem, wp_parse_url() or
 * escaping functions yet, so this part uses PHP's own (each suppressed sniff below says why). The protocol itself is
 * written by Worker through ProtocolChannel (fd 3 when the sidecar opened it, else stdout).
 */
if ( PHP_SAPI !== 'cli' ) {
	exit( 2 );
}
// --role=maintenance (the maintenance pass's own worker) only names the process for `ps`; it changes nothing here.
$sidecar_scheduler_opts = getopt( '', array( 'path:', 'url:', 'role:' ) );
if ( empty( $sidecar_scheduler_opts['path'] ) || ! is_file( rtrim( $sidecar_scheduler_opts['path'], '/' ) . '/wp-load.php' ) ) {
	fwrite( STDERR, "usage: php worker.php --path=<WordPress root containing wp-load.php> [--url=<site url>] [--role=maintenance]\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- before WordPress loads: a usage error on stderr, where the sidecar logs it.
	exit( 2 );
}
ini_set( 'display_errors', 'stderr' ); // phpcs:ignore WordPress.PHP.IniSet, Squiz.PHP.DiscouragedFunctions.Discouraged -- stdout is the protocol stream.
$sidecar_scheduler_url = isset( $sidecar_scheduler_opts['url'] ) ? $sidecar_scheduler_opts['url'] : '';
if ( $sidecar_scheduler_url ) {
	$_SERVER['HTTP_HOST'] = sidecar_scheduler_url_host( $sidecar_scheduler_url );
	// Multisite resolves the site from host and path, so a subdirectory site needs its path here.
	$sidecar_scheduler_path = parse_url( $sidecar_scheduler_url, PHP_URL_PATH ); // phpcs:ignore WordPress.WP.AlternativeFunctions.parse_url_parse_url -- before WordPress loads (no wp_parse_url() yet).
	$_SERVER['REQUEST_URI'] = $sidecar_scheduler_path ? $sidecar_scheduler_path : '/';
	$_SERVER['HTTPS']       = 'https' === parse_url( $sidecar_scheduler_url, PHP_URL_SCHEME ) ? 'on' : ''; // phpcs:ignore WordPress.WP.AlternativeFunctions.parse_url_parse_url -- before WordPress loads (no wp_parse_url() yet).
} else {
	$_SERVER['HTTP_HOST'] = 'localhost';
}

/** The Host header a request to $url carries: the host, and the port when the URL names one. */
function sidecar_scheduler_url_host( $url ) {
	$host = parse_url( $url, PHP_URL_HOST ); // phpcs:ignore WordPress.WP.AlternativeFunctions.parse_url_parse_url -- before WordPress loads (no wp_parse_url() yet).
	$port = parse_url( $url, PHP_URL_PORT ); // phpcs:ignore WordPress.WP.AlternativeFunctions.parse_url_parse_url -- before WordPress loads (no wp_parse_url() yet).
	return $port ? "$host:$port" : $host;
}
define( 'SIDECAR_SCHEDULER_WORKER', true );
define( 'DOING_CRON', true ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedConstantFound -- WordPress' own constant: like WP-CLI runners, no front-end side effects, no cron spawning.
require rtrim( $sidecar_scheduler_opts['path'], '/' ) . '/wp-load.php';
if ( ! class_exists( 'SidecarScheduler\\Runner\\Worker' ) || ! class_exists( 'ActionScheduler', false ) ) {
	fwrite( STDERR, "Sidecar Scheduler is not active on this site, or no Action Scheduler is loaded.\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- a boot failure on stderr, where the sidecar logs it; WP_Filesystem is for files, not the process's own streams.
	exit( 3 );
}
exit( SidecarScheduler\Runner\Worker::run( STDIN, SidecarScheduler\Runner\ProtocolChannel::output() ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an exit status (integer) for the sidecar, not output.
