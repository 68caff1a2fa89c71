<?php
/**
 * Alert settings: recipients, webhook, cool-down and thresholds, from the option sidecar_scheduler_alerts with the
 * filter sidecar_scheduler_alert_settings over it (code wins).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Alerts;

defined( 'ABSPATH' ) || exit;

/**
 * Reads the alert settings with their defaults.
 */
final class Settings {

	const OPTION = 'sidecar_scheduler_alerts';

	/**
	 * The settings.
	 *
	 * @return array
	 */
	public static function get() {
		$defaults = array(
			'emails'                  => array(),
			'webhook_url'             => '',
			'webhook_secret'          => '',
			'cooldown_seconds'        => HOUR_IN_SECONDS,
			'past_due_seconds'        => 600,
			'stuck_seconds'           => 600,
			'failure_rate'            => 0.1,
			'failure_min_count'       => 10,
			'webhook_retry_seconds'   => 60,
			'webhook_max_attempts'    => 5,
			'backlog_count'           => 1000,
			'backlog_growing_minutes' => 10,
			'group_failure_rate'      => 0.1,
			'group_failure_min_count' => 10,
		);
		$stored   = get_option( self::OPTION, array() );
		$settings = array_merge( $defaults, is_array( $stored ) ? $stored : array() );
		$settings = (array) apply_filters( 'sidecar_scheduler_alert_settings', $settings );
		// Thresholds that are not numbers, or below their floor, fall back to the default instead of firing on 0.
		foreach ( array( 'backlog_count', 'backlog_growing_minutes', 'group_failure_min_count' ) as $key ) {
			$settings[ $key ] = is_numeric( $settings[ $key ] ) && (int) $settings[ $key ] >= 1 ? (int) $settings[ $key ] : $defaults[ $key ];
		}
		$rate                           = $settings['group_failure_rate'];
		$settings['group_failure_rate'] = is_numeric( $rate ) && $rate > 0 && $rate <= 1 ? (float) $rate : $defaults['group_failure_rate'];
		$settings['emails']             = array_values( array_filter( array_map( 'trim', (array) $settings['emails'] ), 'is_email' ) );
		return $settings;
	}
}
