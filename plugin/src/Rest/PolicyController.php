<?php
/**
 * REST routes of policies and dead letters under sidecar-scheduler/v1 (same capability and nonce as the admin API).
 *
 * @package SidecarScheduler
 *
 * Over 300 lines because it declares the argument schemas of every policy, pause, breaker and dead-letter route;
 * the handlers themselves are short.
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;
use SidecarScheduler\DeadLetter\DeadLetters;
use SidecarScheduler\Policy\Registry;

defined( 'ABSPATH' ) || exit;

/**
 * Policies and dead letters over REST.
 */
final class PolicyController {
	/**
	 * Registers the routes.
	 *
	 * @return void
	 */
	public static function register_routes() {
		$ns     = Contract::REST_NAMESPACE;
		$perm   = array( RouteParts::class, 'can_manage' );
		$target = array(
			'scope' => array(
				'type'     => 'string',
				'enum'     => array( 'hook', 'group' ),
				'required' => true,
			),
			'name'  => array(
				'type'      => 'string',
				'minLength' => 1,
				'maxLength' => 255,
				'required'  => true,
			),
		);
		register_rest_route(
			$ns,
			'/policies',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'list_policies' ),
					'permission_callback' => $perm,
					'args'                => array(),
				),
				// Route level: WordPress reads a route's schema only here, not inside one of its endpoints.
				'schema' => array( __CLASS__, 'policies_schema' ),
			)
		);
		register_rest_route(
			$ns,
			'/policies/(?P<scope>hook|group)/(?P<name>[^/]+)',
			array(
				array(
					'methods'             => 'PUT',
					'callback'            => array( __CLASS__, 'save_policy' ),
					'permission_callback' => $perm,
					'args'                => $target + array(
						// The policy's own rules (and messages) are Validator's; the schema only says it is an object.
						'policy' => array(
							'type'     => 'object',
							'required' => true,
						),
					),
				),
				array(
					'methods'             => 'DELETE',
					'callback'            => array( __CLASS__, 'delete_policy' ),
					'permission_callback' => $perm,
					'args'                => $target,
				),
			)
		);
		register_rest_route(
			$ns,
			'/pauses',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'list_pauses' ),
					'permission_callback' => $perm,
					'args'                => array(),
				),
				array(
					'methods'             => 'POST',
					'callback'            => array( __CLASS__, 'pause' ),
					'permission_callback' => $perm,
					'args'                => $target,
				),
				'schema' => array( __CLASS__, 'pauses_schema' ),
			)
		);
		register_rest_route(
			$ns,
			'/pauses/(?P<scope>hook|group)/(?P<name>[^/]+)',
			array(
				'methods'             => 'DELETE',
				'callback'            => array( __CLASS__, 'resume' ),
				'permission_callback' => $perm,
				'args'                => $target,
			)
		);
		register_rest_route(
			$ns,
			'/breakers',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'list_breakers' ),
					'permission_callback' => $perm,
					'args'                => array(),
				),
				'schema' => array( __CLASS__, 'breakers_schema' ),
			)
		);
		$filter = RouteParts::hook_group_args();
		register_rest_route(
			$ns,
			'/dead-letters',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'list_dead_letters' ),
					'permission_callback' => $perm,
					'args'                => $filter + RouteParts::page_args(),
				),
				'schema' => array( __CLASS__, 'dead_letters_schema' ),
			)
		);
		register_rest_route(
			$ns,
			'/dead-letters/(?P<op>retry|discard)',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'dead_letter_op' ),
				'permission_callback' => $perm,
				'args'                => RouteParts::bulk_args( array( 'retry', 'discard' ), $filter ),
			)
		);
	}

	/**
	 * GET /policies.
	 *
	 * @return \WP_REST_Response
	 */
	public static function list_policies() {
		return rest_ensure_response( Registry::listing() );
	}

	/**
	 * PUT /policies/{scope}/{name}: saves a screen policy; code still wins (the answer says so).
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function save_policy( \WP_REST_Request $r ) {
		$scope = (string) $r['scope'];
		$name  = rawurldecode( (string) $r['name'] );
		$saved = Registry::save_screen( $scope, $name, $r['policy'] );
		if ( is_wp_error( $saved ) ) {
			return $saved;
		}
		$code = Registry::code();
		return rest_ensure_response(
			array(
				'scope'            => $scope,
				'name'             => $name,
				'policy'           => $saved,
				'source'           => 'screen',
				'overriddenByCode' => isset( $code[ $scope ][ $name ] ),
			)
		);
	}

	/**
	 * DELETE /policies/{scope}/{name}: removes a screen policy (code policies are removed in code).
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function delete_policy( \WP_REST_Request $r ) {
		$scope  = (string) $r['scope'];
		$name   = rawurldecode( (string) $r['name'] );
		$screen = Registry::screen();
		if ( ! isset( $screen[ $scope ][ $name ] ) ) {
			$code = Registry::code();
			$msg  = isset( $code[ $scope ][ $name ] )
				/* translators: 1: hook or group 2: name */
				? sprintf( __( 'The %1$s policy "%2$s" is set in code (sidecar_scheduler_register_policy() or the sidecar_scheduler_policies filter); remove it there.', 'sidecar-scheduler' ), $scope, $name )
				/* translators: 1: hook or group 2: name */
				: sprintf( __( 'There is no %1$s policy "%2$s" on the screen.', 'sidecar-scheduler' ), $scope, $name );
			return new \WP_Error( 'sidecar_scheduler_no_policy', $msg, array( 'status' => isset( $code[ $scope ][ $name ] ) ? 409 : 404 ) );
		}
		Registry::save_screen( $scope, $name, null );
		return rest_ensure_response(
			array(
				'deleted' => true,
				'scope'   => $scope,
				'name'    => $name,
			)
		);
	}

	/**
	 * GET /dead-letters.
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response
	 */
	public static function list_dead_letters( \WP_REST_Request $r ) {
		$page = DeadLetters::page(
			array(
				'hook'  => $r['hook'],
				'group' => $r['group'],
			),
			(int) $r['page'],
			(int) $r['per_page']
		);
		return rest_ensure_response( $page + array( 'totalPages' => (int) ceil( $page['total'] / max( 1, (int) $r['per_page'] ) ) ) );
	}

	/**
	 * POST /dead-letters/retry|discard on IDs or on all matching a filter.
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function dead_letter_op( \WP_REST_Request $r ) {
		$refused = RouteParts::bulk_without_target( $r );
		if ( $refused ) {
			return $refused;
		}
		$ids    = $r['ids'];
		$filter = (array) $r['filter'];
		if ( $ids ) {
			$filter['ids'] = array_map( 'intval', $ids );
		}
		$result = 'retry' === $r['op'] ? DeadLetters::rerun( $filter ) : DeadLetters::discard( $filter );
		return rest_ensure_response( array( 'op' => (string) $r['op'] ) + $result );
	}

	/**
	 * GET /breakers.
	 *
	 * @return \WP_REST_Response
	 */
	public static function list_breakers() {
		return rest_ensure_response( \SidecarScheduler\Policy\Breakers::listing() );
	}

	/**
	 * Schema of /breakers.
	 *
	 * @return array
	 */
	public static function breakers_schema() {
		$date = array( 'type' => array( 'string', 'null' ) );
		return array(
			'$schema' => 'http://json-schema.org/draft-04/schema#',
			'title'   => 'sidecar-scheduler-breakers',
			'type'    => 'array',
			'items'   => array(
				'type'       => 'object',
				'properties' => array(
					'group'       => array( 'type' => 'string' ),
					'state'       => array(
						'type' => 'string',
						'enum' => array( 'closed', 'open', 'half-open' ),
					),
					'consecutive' => array(
						'type'        => 'integer',
						'description' => 'consecutive failures counted',
					),
					'openedGmt'   => $date,
					'untilGmt'    => $date,
					'trialGmt'    => $date,
					'opens'       => array(
						'type'        => 'integer',
						'description' => 'times it opened',
					),
					'reason'      => array(
						'type'        => 'string',
						'description' => 'why it last moved',
					),
				),
			),
		);
	}

	/**
	 * GET /pauses.
	 *
	 * @return \WP_REST_Response
	 */
	public static function list_pauses() {
		return rest_ensure_response( \SidecarScheduler\Policy\Pauses::listing() );
	}

	/**
	 * POST /pauses { scope, name }.
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function pause( \WP_REST_Request $r ) {
		$p = \SidecarScheduler\Policy\Pauses::pause( (string) $r['scope'], (string) $r['name'] );
		return is_wp_error( $p ) ? $p : rest_ensure_response(
			array(
				'scope' => (string) $r['scope'],
				'name'  => (string) $r['name'],
			) + $p
		);
	}

	/**
	 * DELETE /pauses/{scope}/{name}: resume.
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function resume( \WP_REST_Request $r ) {
		$done = \SidecarScheduler\Policy\Pauses::resume( (string) $r['scope'], rawurldecode( (string) $r['name'] ) );
		return is_wp_error( $done ) ? $done : rest_ensure_response( array( 'resumed' => true ) );
	}

	/**
	 * Schema of /pauses.
	 *
	 * @return array
	 */
	public static function pauses_schema() {
		return array(
			'$schema' => 'http://json-schema.org/draft-04/schema#',
			'title'   => 'sidecar-scheduler-pauses',
			'type'    => 'array',
			'items'   => array(
				'type'       => 'object',
				'properties' => self::target_properties() + array(
					'by'     => array(
						'type'        => 'string',
						'description' => 'user login, or WP-CLI and the system user',
					),
					'userId' => array( 'type' => 'integer' ),
					'atGmt'  => array( 'type' => 'string' ),
				),
			),
		);
	}

	/**
	 * The scope and name of a policy or pause, in a response schema.
	 *
	 * @return array
	 */
	private static function target_properties() {
		return array(
			'scope' => array(
				'type' => 'string',
				'enum' => array( 'hook', 'group' ),
			),
			'name'  => array( 'type' => 'string' ),
		);
	}

	/**
	 * Schema of GET /policies.
	 *
	 * @return array
	 */
	public static function policies_schema() {
		$number = array( 'type' => 'number' );
		return array(
			'$schema'    => 'http://json-schema.org/draft-04/schema#',
			'title'      => 'sidecar-scheduler-policies',
			'type'       => 'object',
			'properties' => array(
				'policies' => array(
					'type'  => 'array',
					'items' => array(
						'type'       => 'object',
						'properties' => self::target_properties() + array(
							'source'          => array(
								'type'        => 'string',
								'enum'        => array( 'code', 'screen' ),
								'description' => 'code wins over screen',
							),
							'active'          => array(
								'type'        => 'boolean',
								'description' => 'false for a screen policy that code overrides',
							),
							'overridesScreen' => array( 'type' => 'boolean' ),
							'policy'          => array(
								'type'       => 'object',
								'properties' => array(
									'retries'     => array(
										'type'    => 'integer',
										'minimum' => 0,
										'maximum' => 50,
									),
									'delays'      => array(
										'type'  => 'array',
										'items' => array(
											'type'    => 'integer',
											'minimum' => 0,
										),
									),
									'backoff'     => array(
										'type'       => 'object',
										'properties' => array(
											'base'   => $number,
											'factor' => $number,
											'max'    => $number,
											'jitter' => $number,
										),
									),
									'concurrency' => array(
										'type'    => 'integer',
										'minimum' => 1,
									),
									'rate'        => array(
										'type'       => 'object',
										'properties' => array(
											'limit' => array( 'type' => 'integer' ),
											'per'   => array(
												'type' => 'string',
												'enum' => array( 'second', 'minute' ),
											),
										),
									),
									'breaker'     => array(
										'type'       => 'object',
										'properties' => array(
											'failures' => $number,
											'rate'     => $number,
											'window'   => $number,
											'min_runs' => $number,
											'cooldown' => $number,
										),
									),
								),
							),
						),
					),
				),
				'errors'   => array(
					'type'        => 'array',
					'items'       => array( 'type' => 'string' ),
					'description' => 'filter entries refused, with why',
				),
			),
		);
	}

	/**
	 * Schema of GET /dead-letters.
	 *
	 * @return array
	 */
	public static function dead_letters_schema() {
		return array(
			'$schema'    => 'http://json-schema.org/draft-04/schema#',
			'title'      => 'sidecar-scheduler-dead-letters',
			'type'       => 'object',
			'properties' => array(
				'total'      => array( 'type' => 'integer' ),
				'totalPages' => array( 'type' => 'integer' ),
				'items'      => array(
					'type'  => 'array',
					'items' => array(
						'type'       => 'object',
						'properties' => array(
							'id'              => array(
								'type'        => 'integer',
								'description' => 'the action that failed its last attempt',
							),
							'originId'        => array(
								'type'        => 'integer',
								'description' => 'the first attempt of its chain',
							),
							'hook'            => array( 'type' => 'string' ),
							'group'           => array( 'type' => 'string' ),
							'attempts'        => array( 'type' => 'integer' ),
							'lastError'       => array( 'type' => 'string' ),
							'firstFailureGmt' => array( 'type' => 'string' ),
							'lastFailureGmt'  => array( 'type' => 'string' ),
							'status'          => array( 'type' => 'string' ),
						),
					),
				),
			),
		);
	}
}
