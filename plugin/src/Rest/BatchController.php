<?php
/**
 * REST: batches under sidecar-scheduler/v1: GET /batches (the newest, unfinished first), GET /batches/{id} (one
 * batch's progress, for a plugin's own UI to poll) and POST /batches/{id}/cancel.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Batch\Batches;
use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

/**
 * The batch routes.
 */
final class BatchController {

	/**
	 * Who may read and cancel batches: the admin API's capability unless filtered (a plugin whose importer shop
	 * managers use may allow theirs with sidecar_scheduler_batch_capability).
	 *
	 * @return bool
	 */
	public static function can_see() {
		$cap = apply_filters( 'sidecar_scheduler_batch_capability', RouteParts::capability() );
		return current_user_can( $cap );
	}

	/**
	 * Registers the routes (rest_api_init).
	 */
	public static function register_routes() {
		$ns   = Contract::REST_NAMESPACE;
		$perm = array( __CLASS__, 'can_see' );
		$id   = RouteParts::id_arg();
		register_rest_route(
			$ns,
			'/batches',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'index' ),
				'permission_callback' => $perm,
				'args'                => array(
					'per_page' => array(
						'type'    => 'integer',
						'minimum' => 1,
						'maximum' => 100,
						'default' => 20,
					),
				),
			)
		);
		register_rest_route(
			$ns,
			'/batches/(?P<id>\d+)',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'show' ),
				'permission_callback' => $perm,
				'args'                => $id,
			)
		);
		register_rest_route(
			$ns,
			'/batches/(?P<id>\d+)/cancel',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'cancel' ),
				'permission_callback' => $perm,
				'args'                => $id,
			)
		);
	}

	/**
	 * The newest batches.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @return \WP_REST_Response
	 */
	public static function index( \WP_REST_Request $request ) {
		return rest_ensure_response( Batches::recent( (int) $request['per_page'] ) );
	}

	/**
	 * One batch's progress.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function show( \WP_REST_Request $request ) {
		$progress = Batches::progress( (int) $request['id'] );
		if ( ! $progress ) {
			/* translators: %d: batch ID */
			return new \WP_Error( 'sidecar_scheduler_batch_not_found', sprintf( __( 'Batch %d does not exist.', 'sidecar-scheduler' ), (int) $request['id'] ), array( 'status' => 404 ) );
		}
		return rest_ensure_response( $progress );
	}

	/**
	 * Cancels a batch.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function cancel( \WP_REST_Request $request ) {
		$result = Batches::cancel( (int) $request['id'] );
		return is_wp_error( $result ) ? $result : rest_ensure_response( $result );
	}
}
