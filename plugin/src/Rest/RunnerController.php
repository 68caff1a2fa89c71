<?php
/** The signed runner route for the sidecar's `rest` channel: runs one claimed batch and returns each result. */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class RunnerController {
	public static function register_routes() {
		register_rest_route(
			Contract::REST_NAMESPACE,
			Contract::REST_RUN_ROUTE,
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'execute' ),
				'permission_callback' => array( Signature::class, 'verify' ),
				'args'                => array(
					'op' => array( 'type' => 'string', 'required' => true, 'enum' => array( 'batch', 'fail', 'clean', 'settings' ) ),
				),
			)
		);
	}

	public static function execute( \WP_REST_Request $request ) {
		$payload = json_decode( $request->get_body(), true );
		if ( ! is_array( $payload ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'The body must be a JSON object.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		if ( 'batch' === $payload['op'] && ( empty( $payload['ids'] ) || ! is_array( $payload['ids'] ) ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'A batch needs a non-empty ids array.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		if ( 'fail' === $payload['op'] && empty( $payload['id'] ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'fail needs an id.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		$stream = fopen( 'php://temp', 'w+' ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		$in     = fopen( 'php://temp', 'w+' ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		fwrite( $in, wp_json_encode( $payload ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions
		rewind( $in );
		\SidecarScheduler\Runner\Worker::run( $in, $stream );
		rewind( $stream );
		$messages = array();
		while ( ( $line = fgets( $stream ) ) !== false ) { // phpcs:ignore WordPress.CodeAnalysis.AssignmentInCondition
			$messages[] = json_decode( $line, true );
		}
		if ( ob_get_level() > 0 ) {
			ob_end_clean();
		}
		return rest_ensure_response( array( 'messages' => $messages ) );
	}
}
