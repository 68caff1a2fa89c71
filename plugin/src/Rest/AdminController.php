<?php
/** The admin page's REST API under sidecar-scheduler/v1: health, groups, the actions list, row and bulk actions. */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Admin\Actions;
use SidecarScheduler\Admin\Health;
use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class AdminController {
	public static function can_manage() {
		return current_user_can( apply_filters( 'sidecar_scheduler_capability', 'manage_options' ) );
	}

	public static function register_routes() {
		$ns   = Contract::REST_NAMESPACE;
		$perm = array( __CLASS__, 'can_manage' );
		$id   = array(
			'id' => array(
				'type'     => 'integer',
				'minimum'  => 1,
				'required' => true,
			),
		);
		register_rest_route(
			$ns,
			'/overview',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'overview' ),
				'permission_callback' => $perm,
				'args'                => array(),
			)
		);
		register_rest_route(
			$ns,
			'/groups',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'groups' ),
				'permission_callback' => $perm,
				'args'                => array(),
			)
		);
		register_rest_route(
			$ns,
			'/actions',
			array(
				'methods'             => 'GET',
				'callback'            => array( __CLASS__, 'list_actions' ),
				'permission_callback' => $perm,
				'args'                => self::filter_args() + array(
					'page'     => array(
						'type'    => 'integer',
						'minimum' => 1,
						'default' => 1,
					),
					'per_page' => array(
						'type'    => 'integer',
						'minimum' => 1,
						'maximum' => 200,
						'default' => 20,
					),
					'orderby'  => array(
						'type'    => 'string',
						'enum'    => array( 'date', 'hook', 'group', 'modified', 'action_id' ),
						'default' => 'date',
					),
					'order'    => array(
						'type'    => 'string',
						'enum'    => array( 'asc', 'desc', 'ASC', 'DESC' ),
						'default' => 'desc',
					),
				),
			)
		);
		register_rest_route(
			$ns,
			'/actions/(?P<id>\d+)',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'get_action' ),
					'permission_callback' => $perm,
					'args'                => $id,
				),
				array(
					'methods'             => 'DELETE',
					'callback'            => array( __CLASS__, 'delete_action' ),
					'permission_callback' => $perm,
					'args'                => $id,
				),
			)
		);
		register_rest_route(
			$ns,
			'/actions/(?P<id>\d+)/(?P<op>run|cancel|retry)',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'row_action' ),
				'permission_callback' => $perm,
				'args'                => $id + array(
					'op' => array(
						'type'     => 'string',
						'enum'     => array( 'run', 'cancel', 'retry' ),
						'required' => true,
					),
				),
			)
		);
		register_rest_route(
			$ns,
			'/actions/bulk',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'bulk' ),
				'permission_callback' => $perm,
				'args'                => array(
					'op'     => array(
						'type'     => 'string',
						'enum'     => array( 'run', 'cancel', 'retry', 'delete' ),
						'required' => true,
					),
					'ids'    => array(
						'type'     => 'array',
						'items'    => array(
							'type'    => 'integer',
							'minimum' => 1,
						),
						'maxItems' => 1000,
					),
					'filter' => array(
						'type'                 => 'object',
						'properties'           => self::filter_args(),
						'additionalProperties' => false,
					),
				),
			)
		);
	}

	private static function filter_args() {
		return array(
			'status' => array(
				'type'    => 'string',
				'enum'    => array( '', 'pending', 'in-progress', 'complete', 'failed', 'canceled', 'past-due' ),
				'default' => '',
			),
			'group'  => array(
				'type'      => 'string',
				'maxLength' => 255,
				'default'   => '',
			),
			'hook'   => array(
				'type'      => 'string',
				'maxLength' => 191,
				'default'   => '',
			),
			'search' => array(
				'type'      => 'string',
				'maxLength' => 191,
				'default'   => '',
			),
		);
	}

	public static function overview() {
		return rest_ensure_response( Health::overview() );
	}

	public static function groups() {
		return rest_ensure_response( Health::groups() );
	}

	public static function list_actions( \WP_REST_Request $r ) {
		return rest_ensure_response( Actions::page( $r->get_params() ) );
	}

	public static function get_action( \WP_REST_Request $r ) {
		$item = Actions::detail( (int) $r['id'] );
		return $item ? rest_ensure_response( $item ) : self::not_found( (int) $r['id'] );
	}

	public static function delete_action( \WP_REST_Request $r ) {
		$result = Actions::apply( 'delete', (int) $r['id'] );
		return is_wp_error( $result ) ? $result : rest_ensure_response(
			array(
				'deleted' => true,
				'id'      => (int) $r['id'],
			)
		);
	}

	public static function row_action( \WP_REST_Request $r ) {
		$result = Actions::apply( $r['op'], (int) $r['id'] );
		return is_wp_error( $result ) ? $result : rest_ensure_response( $result );
	}

	public static function bulk( \WP_REST_Request $r ) {
		$ids = $r['ids'];
		if ( empty( $ids ) && null === $r['filter'] ) {
			return new \WP_Error( 'sidecar_scheduler_bulk_target', __( 'Give either ids or a filter.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		return rest_ensure_response( Actions::bulk( $r['op'], $ids ? array_map( 'intval', $ids ) : null, (array) $r['filter'] ) );
	}

	public static function not_found( $id ) {
		/* translators: %d: action ID */
		return new \WP_Error( 'sidecar_scheduler_not_found', sprintf( __( 'Action %d does not exist.', 'sidecar-scheduler' ), $id ), array( 'status' => 404 ) );
	}
}
