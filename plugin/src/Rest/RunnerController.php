<?php
/**
 * The signed runner route for the sidecar's `rest` channel: runs one claimed batch and returns each result. Only actions
 * pending under the claim the request names run; anything else is refused with 409 and nothing runs.
 */

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
					'op' => array(
						'type'     => 'string',
						'required' => true,
						'enum'     => array( Contract::OP_BATCH, Contract::OP_FAIL, Contract::OP_CLEAN, Contract::OP_SETTINGS ),
					),
				),
			)
		);
	}

	public static function execute( \WP_REST_Request $request ) {
		$payload = json_decode( $request->get_body(), true );
		if ( ! is_array( $payload ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'The body must be a JSON object.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		if ( Contract::OP_BATCH === $payload['op'] && ( empty( $payload['ids'] ) || ! is_array( $payload['ids'] ) ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'A batch needs a non-empty ids array.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		if ( Contract::OP_FAIL === $payload['op'] && empty( $payload['id'] ) ) {
			return new \WP_Error( 'sidecar_scheduler_bad_request', __( 'fail needs an id.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		if ( Contract::OP_BATCH === $payload['op'] ) {
			$refused = self::not_claimed_by( array_map( 'intval', $payload['ids'] ), isset( $payload['claim'] ) ? (int) $payload['claim'] : 0 );
			if ( $refused ) {
				/* translators: %s: action IDs */
				return new \WP_Error( 'sidecar_scheduler_not_claimed', sprintf( __( 'Not run: action(s) %s are not pending under the claim this request names.', 'sidecar-scheduler' ), implode( ', ', $refused ) ), array( 'status' => 409 ) );
			}
		}
		$stream = fopen( 'php://temp', 'w+' ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fopen -- in-memory php://temp streams between this request and the in-process worker, not files.
		$in     = fopen( 'php://temp', 'w+' ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fopen -- in-memory php://temp streams between this request and the in-process worker, not files.
		fwrite( $in, wp_json_encode( $payload ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- in-memory php://temp streams between this request and the in-process worker, not files.
		rewind( $in );
		\SidecarScheduler\Runner\Worker::run( $in, $stream );
		rewind( $stream );
		$messages = array();
		while ( ( $line = fgets( $stream ) ) !== false ) { // phpcs:ignore Generic.CodeAnalysis.AssignmentInCondition.FoundInWhileCondition -- the usual read-until-false loop over fgets().
			$messages[] = json_decode( $line, true );
		}
		if ( ob_get_level() > 0 ) {
			ob_end_clean();
		}
		return rest_ensure_response( array( 'messages' => $messages ) );
	}

	/**
	 * The IDs of a batch that the caller's claim does not hold (or that are no longer pending): a signed request runs
	 * only what its sender claimed. Checked again, atomically, when each action starts (CommitPipeline::start_action()), since a
	 * request can arrive late (nginx gave up on it and the sidecar released the claim meanwhile).
	 *
	 * @return int[]
	 */
	private static function not_claimed_by( array $ids, $claim_id ) {
		if ( $claim_id <= 0 ) {
			return $ids;
		}
		return array_values( array_diff( $ids, \SidecarScheduler\Store\ActionRows::held_by_claim( $ids, $claim_id ) ) );
	}
}
