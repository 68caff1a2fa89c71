<?php
/**
 * REST: GET sidecar-scheduler/v1/failing-hooks, the failing-hooks report of the admin screen (last hour and day).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;
use SidecarScheduler\Insight\FailingHooks;

defined( 'ABSPATH' ) || exit;

/**
 * Registers the report route; the same capability as the rest of the admin API.
 */
final class InsightController {

	/**
	 * Registers the route (rest_api_init).
	 */
	public static function register_routes() {
		register_rest_route(
			Contract::REST_NAMESPACE,
			'/failing-hooks',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'failing_hooks' ),
				'permission_callback' => array( RouteParts::class, 'can_manage' ),
				'args'                => array(
					'window' => array(
						'type'    => 'string',
						'enum'    => array( '', 'hour', 'day' ),
						'default' => '',
					),
				),
			)
		);
	}

	/**
	 * Both windows, or the one asked for.
	 *
	 * @param \WP_REST_Request $request The request.
	 * @return \WP_REST_Response
	 */
	public static function failing_hooks( \WP_REST_Request $request ) {
		$report = FailingHooks::report();
		if ( $request['window'] ) {
			$report = array(
				'generatedAt'      => $report['generatedAt'],
				$request['window'] => $report[ $request['window'] ],
			);
		}
		return rest_ensure_response( $report );
	}
}
