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
		$defaults           = array(
			'emails'                => array(),
			'webhook_url'           => '',
			'webhook_secret'        => '',
			'cooldown_seconds'      => HOUR_IN_SECONDS,
			'past_due_seconds'      => 600,
			'stuck_seconds'         => 600,
			'failure_rate'          => 0.1,
			'failure_min_count'     => 10,
			'webhook_retry_seconds' => 60,
			'webhook_max_attempts'  => 5,
		);
		$stored             = get_option( self::OPTION, array() );
		$settings           = array_merge( $defaults, is_array( $stored ) ? $stored : array() );
		$settings           = (array) apply_filters( 'sidecar_scheduler_alert_settings', $settings );
		$settings['emails'] = array_values( array_filter( array_map( 'trim', (array) $settings['emails'] ), 'is_email' ) );
		return $settings;
	}
}
