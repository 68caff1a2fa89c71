<?php
/**
 * WP-Cron on time: with DISABLE_WP_CRON set, nothing runs WP-Cron events unless something calls wp-cron.php. While a
 * sidecar serves the site, one pending action (hook sidecar_scheduler_wp_cron, group sidecar-wp-cron) is kept
 * scheduled for the moment the next WP-Cron event is due; the sidecar wakes exactly then (it sleeps until the next
 * due action), and one of its PHP workers runs the due events as wp-cron.php does. Without DISABLE_WP_CRON, or
 * without a sidecar, nothing changes: WordPress runs its events itself.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cron;

use SidecarScheduler\Runner\SidecarStatus;

defined( 'ABSPATH' ) || exit;

/**
 * Keeps the bridge action at the next event's time and runs due events.
 */
final class Bridge {

	const HOOK  = 'sidecar_scheduler_wp_cron';
	const GROUP = 'sidecar-wp-cron';
	/** The bridge action's time as we last scheduled it (an autoloaded option: comparing costs no query). */
	const NEXT_OPTION = 'sidecar_scheduler_wp_cron_next';
	/** The last runs: hook, due, ran, late seconds (for the admin). */
	const LOG_OPTION = 'sidecar_scheduler_wp_cron_log';
	/** The last run: when, and how many events it ran (-1: another runner held the lock). */
	const LAST_OPTION = 'sidecar_scheduler_wp_cron_last';
	/** Seconds before looking again when another runner holds the lock. */
	const RETRY_SECONDS = 5;

	/** @var bool Re-entry guard: scheduling the bridge action must not react to its own writes. */
	private static $busy = false;

	/**
	 * Registers the hooks.
	 */
	public static function register() {
		add_action( self::HOOK, array( __CLASS__, 'run' ) );
		if ( ! self::wanted() ) {
			return;
		}
		// Every change of the cron option (an event scheduled, run, unscheduled) may bring the next event forward.
		add_action( 'update_option_cron', array( __CLASS__, 'sync' ), 20 );
		add_action( 'add_option_cron', array( __CLASS__, 'sync' ), 20 );
		// The sidecar's worker checks once at boot (the bridge may be missing on a site that just turned it on).
		if ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER ) {
			add_action( 'init', array( __CLASS__, 'sync' ), 30 );
		}
	}

	/**
	 * Whether WordPress leaves its events to somebody else.
	 *
	 * @return bool
	 */
	public static function wanted() {
		/**
		 * Whether a live sidecar runs WP-Cron's events when DISABLE_WP_CRON is set (default true). A site whose
		 * system cron already calls wp-cron.php may turn it off; both at once are safe (doing_cron).
		 */
		return defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON && apply_filters( 'sidecar_scheduler_run_wp_cron', true );
	}

	/**
	 * The earliest WP-Cron event's timestamp, or 0.
	 *
	 * @return int
	 */
	public static function next_event_time() {
		$crons = _get_cron_array();
		if ( ! is_array( $crons ) || ! $crons ) {
			return 0;
		}
		$times = array_filter( array_keys( $crons ), 'is_numeric' );
		return $times ? (int) min( $times ) : 0;
	}

	/**
	 * Keeps one bridge action at the next event's time; moves it when an earlier event appears.
	 */
	public static function sync() {
		if ( self::$busy || ! self::wanted() || ! function_exists( 'as_schedule_single_action' ) || ! did_action( 'action_scheduler_init' ) ) {
			return;
		}
		if ( ! ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER ) && ! SidecarStatus::is_alive() ) {
			return; // Without a sidecar nothing changes: nobody would run the bridge action.
		}
		$next = self::next_event_time();
		if ( ! $next ) {
			return;
		}
		$recorded = (int) get_option( self::NEXT_OPTION, 0 );
		// A bridge still waiting (in the future) at or before the next event: nothing to do. One whose time has come
		// may be running right now with an older copy of the cron option, so it is replaced: a second bridge run
		// is harmless (the named lock and doing_cron), an event left for the one after it would be a minute late.
		if ( $recorded && $recorded <= $next && $recorded > time() && as_next_scheduled_action( self::HOOK, array(), self::GROUP ) ) {
			return;
		}
		self::$busy = true;
		try {
			as_unschedule_all_actions( self::HOOK, array(), self::GROUP );
			as_schedule_single_action( $next, self::HOOK, array(), self::GROUP );
			update_option( self::NEXT_OPTION, $next, true );
		} finally {
			self::$busy = false;
		}
	}

	/**
	 * The bridge action's callback: runs the due events, as wp-cron.php does, in the sidecar's worker only.
	 */
	public static function run() {
		if ( ! self::wanted() ) {
			return;
		}
		$in_worker = defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER;
		if ( $in_worker || SidecarStatus::is_alive() ) {
			// Our own changes of the cron option while running need no bridge moves: one sync at the end does.
			self::$busy = true;
			try {
				$result = Runner::run_due_events();
			} finally {
				self::$busy = false;
			}
			// What the last run did (events run, or -1: another runner held a lock), for the admin and for tests.
			update_option(
				self::LAST_OPTION,
				array(
					'at'     => gmdate( 'Y-m-d H:i:s' ),
					'result' => $result,
				),
				false
			);
			if ( -1 === $result ) {
				// Another runner (wp-cron.php, or our other sidecar) holds the lock: look again in a few seconds,
				// not at the events' time, which has passed (that would run this action again at once, in a loop).
				self::$busy = true;
				try {
					as_schedule_single_action( time() + self::RETRY_SECONDS, self::HOOK, array(), self::GROUP );
					update_option( self::NEXT_OPTION, time() + self::RETRY_SECONDS, true );
				} finally {
					self::$busy = false;
				}
				return;
			}
		}
		delete_option( self::NEXT_OPTION );
		// Events other processes scheduled while this ran are in the database, not in this worker's cache.
		wp_cache_delete( 'alloptions', 'options' );
		wp_cache_delete( 'cron', 'options' );
		self::sync();
	}
}
