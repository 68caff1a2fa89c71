<?php
/**
 * Runs the due WP-Cron events once, as wp-cron.php does (reschedule or unschedule each event, then fire its hook),
 * with WordPress's own lock: the doing_cron transient, which wp-cron.php and spawn_cron() check, so a wp-cron.php
 * request meanwhile stands down, and we stand down while one runs. A MySQL named lock around the whole run keeps two
 * of our runners (two sidecars' workers) from ever running at once: doing_cron alone is a read-then-write, not atomic.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cron;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- a named MySQL lock (GET_LOCK/RELEASE_LOCK) keeps two runners apart; no WordPress API offers one.

/**
 * The due-event runner.
 */
final class Runner {

	/** Runs kept in Bridge::LOG_OPTION. */
	const LOG_SIZE = 50;

	/**
	 * Runs every due event once.
	 *
	 * @return int Events run; -1 when another runner held a lock.
	 */
	public static function run_due_events() {
		global $wpdb;
		$lock = substr( DB_NAME . '.' . $wpdb->prefix . 'sidecar_wp_cron', 0, 64 );
		if ( 1 !== (int) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', $lock ) ) ) {
			return -1;
		}
		try {
			return self::run_locked();
		} finally {
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * The run itself; the named lock is held.
	 *
	 * @return int Events run; -1 when a wp-cron.php request holds doing_cron.
	 */
	private static function run_locked() {
		// Read the cron option and the transient from the database, not from this long-lived worker's cache.
		wp_cache_delete( 'alloptions', 'options' );
		wp_cache_delete( 'cron', 'options' );
		wp_cache_delete( 'doing_cron', 'transient' );
		wp_cache_delete( '_transient_doing_cron', 'options' );
		$timeout = defined( 'WP_CRON_LOCK_TIMEOUT' ) ? WP_CRON_LOCK_TIMEOUT : 60;
		$held    = get_transient( 'doing_cron' );
		if ( $held && (float) $held + $timeout > microtime( true ) ) {
			return -1; // wp-cron.php runs right now (called by a system cron, say): it runs the events.
		}
		$mine = sprintf( '%.22F', microtime( true ) );
		set_transient( 'doing_cron', $mine );
		$crons = wp_get_ready_cron_jobs();
		$ran   = 0;
		$log   = get_option( Bridge::LOG_OPTION, array() );
		$log   = is_array( $log ) ? $log : array();
		foreach ( $crons as $timestamp => $cronhooks ) {
			foreach ( $cronhooks as $hook => $keys ) {
				foreach ( $keys as $v ) {
					// The cron option is one serialized array that every writer reads, changes and writes back. Read it
					// fresh right before each change: an event another process scheduled while earlier callbacks ran
					// would otherwise be written away by this long-lived worker's cached copy.
					wp_cache_delete( 'alloptions', 'options' );
					wp_cache_delete( 'cron', 'options' );
					// As wp-cron.php: the next occurrence is scheduled, and this one removed, before the hook runs,
					// so an event whose callback dies is not run again by the next runner.
					if ( $v['schedule'] ) {
						wp_reschedule_event( $timestamp, $v['schedule'], $hook, $v['args'] );
					}
					wp_unschedule_event( $timestamp, $hook, $v['args'] );
					$started = microtime( true );
					do_action_ref_array( $hook, $v['args'] ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.DynamicHooknameFound -- each cron event's own hook, fired as wp-cron.php fires it.
					++$ran;
					array_unshift(
						$log,
						array(
							'hook'        => (string) $hook,
							'due'         => gmdate( 'Y-m-d H:i:s', (int) $timestamp ),
							'ran'         => gmdate( 'Y-m-d H:i:s', (int) $started ),
							'lateSeconds' => round( max( 0, $started - (int) $timestamp ), 3 ),
						)
					);
					// As wp-cron.php: stop when another runner took the lock meanwhile (ours timed out).
					wp_cache_delete( '_transient_doing_cron', 'options' );
					if ( get_transient( 'doing_cron' ) !== $mine ) {
						break 3;
					}
				}
			}
		}
		update_option( Bridge::LOG_OPTION, array_slice( $log, 0, self::LOG_SIZE ), false );
		if ( get_transient( 'doing_cron' ) === $mine ) {
			delete_transient( 'doing_cron' );
		}
		return $ran;
	}
}
