<?php
/**
 * Alerts that fire without anybody looking: each condition (Conditions) is evaluated by the sidecar's maintenance
 * pass (after it, in the PHP worker), by WP-Cron every minute when no sidecar runs, or by `wp sidecar-scheduler
 * alerts check`. A condition that starts firing sends one alert (unless one for the same condition went out within
 * the cool-down), and one recovery when it clears; webhook deliveries that failed are retried here.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Alerts;

use SidecarScheduler\Runner\SidecarStatus;

defined( 'ABSPATH' ) || exit;

/**
 * The evaluation and its state.
 */
final class Alerts {

	const STATE_OPTION = 'sidecar_scheduler_alert_state';
	const CRON_HOOK    = 'sidecar_scheduler_alerts';

	/**
	 * Registers the triggers.
	 */
	public static function register() {
		add_action( 'sidecar_scheduler_after_maintenance', array( __CLASS__, 'evaluate' ) );
		add_action( self::CRON_HOOK, array( __CLASS__, 'evaluate_from_cron' ) );
		add_filter( 'cron_schedules', array( __CLASS__, 'cron_schedule' ) ); // phpcs:ignore WordPress.WP.CronInterval.CronSchedulesInterval -- the alerts' WP-Cron fallback evaluates them each minute, beside the evaluation after each maintenance pass.
		add_action( 'init', array( __CLASS__, 'schedule_cron' ), 20 );
	}

	/**
	 * A one-minute WP-Cron schedule.
	 *
	 * @param array $schedules Schedules.
	 * @return array
	 */
	public static function cron_schedule( $schedules ) {
		$schedules['sidecar_scheduler_minute'] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (Sidecar Scheduler alerts)', 'sidecar-scheduler' ),
		);
		return $schedules;
	}

	/**
	 * Keeps the WP-Cron fallback scheduled when alerts are configured.
	 */
	public static function schedule_cron() {
		// Admin screens and cron runs only: a front-end request would pay a query for an option most sites lack.
		if ( ! is_admin() && ! wp_doing_cron() && ! ( defined( 'WP_CLI' ) && WP_CLI ) ) {
			return;
		}
		self::schedule_cron_now();
	}

	/**
	 * Schedules the WP-Cron fallback now if alerts are configured (after the settings are saved over REST).
	 */
	public static function schedule_cron_now() {
		$s = Settings::get();
		if ( ( $s['emails'] || $s['webhook_url'] ) && ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time() + MINUTE_IN_SECONDS, 'sidecar_scheduler_minute', self::CRON_HOOK );
		}
	}

	/**
	 * WP-Cron's evaluation stands down while a sidecar lives (its maintenance pass evaluates then).
	 */
	public static function evaluate_from_cron() {
		if ( ! SidecarStatus::is_alive() ) {
			self::evaluate();
		}
	}

	/**
	 * Evaluates every condition once, under a named lock (a second evaluator at the same moment skips), and sends
	 * what changed.
	 *
	 * @return array|null What was sent: list of { event, code }; null when another evaluator held the lock.
	 */
	public static function evaluate() {
		global $wpdb;
		$s = Settings::get();
		if ( ! $s['emails'] && ! $s['webhook_url'] ) {
			return array();
		}
		$lock = substr( DB_NAME . '.' . $wpdb->prefix . 'sidecar_alerts', 0, 64 );
		if ( 1 !== (int) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', $lock ) ) ) { // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- a named MySQL lock keeps two evaluations apart; no WordPress API offers one.
			return null;
		}
		try {
			return self::evaluate_locked( $s );
		} finally {
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- releases the named lock above.
		}
	}

	/**
	 * The evaluation itself; the caller holds the lock. State is read fresh from the database, not the cache.
	 *
	 * @param array $s Settings.
	 * @return array What was sent.
	 */
	private static function evaluate_locked( array $s ) {
		wp_cache_delete( self::STATE_OPTION, 'options' );
		wp_cache_delete( 'alloptions', 'options' );
		$state = get_option( self::STATE_OPTION, array() );
		$state = is_array( $state ) ? $state + array(
			'conditions' => array(),
			'webhooks'   => array(),
			'memory'     => array(),
		) : array(
			'conditions' => array(),
			'webhooks'   => array(),
			'memory'     => array(),
		);
		$now   = time();
		$sent  = array();
		$retry = array();
		foreach ( $state['webhooks'] as $delivery ) {
			$retry[] = $delivery['next_at'] <= $now ? Notifier::deliver( $delivery, $s ) : $delivery;
		}
		$memory = (array) $state['memory'];
		foreach ( Conditions::evaluate( $s, $memory ) as $code => $condition ) {
			list( $firing, $summary ) = $condition;
			$is_event                 = in_array( $code, Conditions::EVENTS, true );
			$c                        = isset( $state['conditions'][ $code ] ) ? $state['conditions'][ $code ] : array(
				'firing'   => false,
				'since'    => 0,
				'sent'     => 0,
				'notified' => false,
			);
			$event                    = null;
			if ( $is_event ) {
				// An event alerts for each new batch the cool-down lets through; a held-back batch is kept (its
				// memory is not taken) and goes out, with what follows it, once the cool-down is over. No recovery.
				$c['firing'] = $firing;
				if ( $firing && $now - (int) $c['sent'] >= (int) $s['cooldown_seconds'] ) {
					$event      = 'alert';
					$c['sent']  = $now;
					$c['since'] = $now;
					$memory     = array_merge( $memory, isset( $condition[2] ) ? $condition[2] : array() );
				}
			} elseif ( $firing && ! $c['firing'] ) {
				$c['firing'] = true;
				$c['since']  = $now;
				// The cool-down: no second alert for the same condition within it, even after a recovery in between.
				if ( $now - (int) $c['sent'] >= (int) $s['cooldown_seconds'] ) {
					$event         = 'alert';
					$c['sent']     = $now;
					$c['notified'] = true;
				}
			} elseif ( ! $firing && $c['firing'] ) {
				$c['firing'] = false;
				if ( $c['notified'] ) {
					$event         = 'recovery';
					$c['notified'] = false;
				}
			}
			$state['conditions'][ $code ] = $c;
			if ( $event ) {
				$retry[] = Notifier::send(
					array(
						'event'   => $event,
						'code'    => $code,
						'summary' => 'alert' === $event ? $summary : '',
						'site'    => wp_specialchars_decode( get_bloginfo( 'name' ), ENT_QUOTES ),
						'url'     => admin_url( 'tools.php?page=' . \SidecarScheduler\Admin\Page::slug() ),
						'time'    => gmdate( 'Y-m-d H:i:s', $now ),
					),
					$s
				);
				$sent[]  = array(
					'event' => $event,
					'code'  => $code,
				);
			}
		}
		$state['memory']   = $memory;
		$state['webhooks'] = array_values( array_filter( $retry ) );
		update_option( self::STATE_OPTION, $state, false );
		return $sent;
	}
}
