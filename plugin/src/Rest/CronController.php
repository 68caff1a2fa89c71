<?php
/**
 * REST: GET sidecar-scheduler/v1/wp-cron: whether WP-Cron is left to the sidecar, the next WP-Cron events (late ones
 * say by how much) and the last runs with how late each started.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;
use SidecarScheduler\Cron\Bridge;
use SidecarScheduler\Runner\SidecarStatus;

defined( 'ABSPATH' ) || exit;

/**
 * The WP-Cron route.
 */
final class CronController {

	/**
	 * Registers the route (rest_api_init).
	 */
	public static function register_routes() {
		register_rest_route(
			Contract::REST_NAMESPACE,
			'/wp-cron',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'show' ),
				'permission_callback' => array( RouteParts::class, 'can_manage' ),
			)
		);
	}

	/**
	 * The state of WP-Cron.
	 *
	 * @return \WP_REST_Response
	 */
	public static function show() {
		$now   = time();
		$next  = array();
		$crons = _get_cron_array();
		foreach ( is_array( $crons ) ? $crons : array() as $timestamp => $hooks ) {
			foreach ( (array) $hooks as $hook => $keys ) {
				foreach ( (array) $keys as $v ) {
					$next[] = array(
						'hook'        => (string) $hook,
						'due'         => gmdate( 'Y-m-d H:i:s', (int) $timestamp ),
						'schedule'    => $v['schedule'] ? (string) $v['schedule'] : '',
						'lateSeconds' => max( 0, $now - (int) $timestamp ),
					);
					if ( count( $next ) >= 20 ) {
						break 3;
					}
				}
			}
		}
		$log = get_option( Bridge::LOG_OPTION, array() );
		return rest_ensure_response(
			array(
				'disabled'  => Bridge::wanted(),
				'bySidecar' => Bridge::wanted() && SidecarStatus::is_alive(),
				'next'      => $next,
				'recent'    => is_array( $log ) ? array_slice( $log, 0, 10 ) : array(),
			)
		);
	}
}
