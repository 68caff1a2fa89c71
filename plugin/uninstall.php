<?php
/**
 * Uninstall: removes our options always; drops the queue tables only when the site owner opted in
 * (option sidecar_scheduler_delete_data) and no other copy of Action Scheduler is active, because they share them.
 */
defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/src/autoload.php';

$sidecar_scheduler_opted_in = (bool) get_option( 'sidecar_scheduler_delete_data', false );
$sidecar_scheduler_other    = class_exists( 'ActionScheduler_Versions', false ) || class_exists( 'ActionScheduler', false ) || function_exists( 'as_enqueue_async_action' );

if ( $sidecar_scheduler_opted_in && ! $sidecar_scheduler_other ) {
	SidecarScheduler\Store\Schema::drop_all();
} else {
	global $wpdb;
	// Our own tables are never shared.
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}sidecar_heartbeats, {$wpdb->prefix}sidecar_workers, {$wpdb->prefix}sidecar_stats" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- dropping our own custom tables; no WordPress API drops tables.
}
// Policies, pauses, retries, dead letters, rate and breaker state: ours alone, so always removed.
global $wpdb;
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}sidecar_attempts, {$wpdb->prefix}sidecar_breakers, {$wpdb->prefix}sidecar_rate" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- dropping our own custom tables; no WordPress API drops tables.
foreach ( array( 'sidecar_scheduler_policies', 'sidecar_scheduler_pauses', 'sidecar_scheduler_limits', 'sidecar_scheduler_attempts_schema', 'sidecar_scheduler_breakers_schema' ) as $sidecar_scheduler_option ) {
	delete_option( $sidecar_scheduler_option );
}
foreach ( array( 'sidecar_scheduler_secret', 'sidecar_scheduler_delete_data', 'sidecar_scheduler_settings', 'sidecar_scheduler_schema' ) as $sidecar_scheduler_option ) {
	delete_option( $sidecar_scheduler_option );
}
wp_clear_scheduled_hook( 'action_scheduler_run_queue', array( 'WP Cron' ) );
// Batches, alerts and the WP-Cron bridge: ours alone, so always removed.
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}sidecar_batches" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- dropping our own custom table; no WordPress API drops tables.
foreach ( array( 'sidecar_scheduler_batch_schema', 'sidecar_scheduler_alerts', 'sidecar_scheduler_alert_state', 'sidecar_scheduler_wp_cron_next', 'sidecar_scheduler_wp_cron_log', 'sidecar_scheduler_wp_cron_last' ) as $sidecar_scheduler_option ) {
	delete_option( $sidecar_scheduler_option );
}
wp_clear_scheduled_hook( 'sidecar_scheduler_alerts' );
