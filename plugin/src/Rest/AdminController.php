<?php
/**
 * The admin page's REST API under sidecar-scheduler/v1: health, groups, the actions list, row and bulk actions.
 * Admin\Health and Admin\Actions return data and throw Admin\ActionError; this turns them into responses and errors.
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Admin\ActionError;
use SidecarScheduler\Admin\Actions;
use SidecarScheduler\Admin\Health;
use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class AdminController {
	/** HTTP status of each kind of Admin\ActionError. */
	const STATUS_OF = array(
		ActionError::NOT_FOUND   => 404,
		ActionError::CONFLICT    => 409,
		ActionError::BAD_REQUEST => 400,
		ActionError::FAILED      => 500,
	);

	public static function register_routes() {
		$ns   = Contract::REST_NAMESPACE;
		$perm = array( RouteParts::class, 'can_manage' );
		$id   = RouteParts::id_arg();
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
				'args'                => self::filter_args() + RouteParts::page_args() + array(
					'orderby' => array(
						'type'    => 'string',
						'enum'    => array( 'date', 'hook', 'group', 'modified', 'action_id' ),
						'default' => 'date',
					),
					'order'   => array(
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
				'args'                => RouteParts::bulk_args( array( 'run', 'cancel', 'retry', 'delete' ), self::filter_args() ),
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
		) + RouteParts::hook_group_args() + array(
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
		return $item ? rest_ensure_response( $item ) : self::error( ActionError::not_found( (int) $r['id'] ) );
	}

	public static function delete_action( \WP_REST_Request $r ) {
		try {
			Actions::apply( 'delete', (int) $r['id'] );
		} catch ( ActionError $e ) {
			return self::error( $e );
		}
		return rest_ensure_response(
			array(
				'deleted' => true,
				'id'      => (int) $r['id'],
			)
		);
	}

	public static function row_action( \WP_REST_Request $r ) {
		try {
			return rest_ensure_response( Actions::apply( $r['op'], (int) $r['id'] ) );
		} catch ( ActionError $e ) {
			return self::error( $e );
		}
	}

	public static function bulk( \WP_REST_Request $r ) {
		$refused = RouteParts::bulk_without_target( $r );
		if ( $refused ) {
			return $refused;
		}
		$ids = $r['ids'];
		return rest_ensure_response( Actions::bulk( $r['op'], $ids ? array_map( 'intval', $ids ) : null, (array) $r['filter'] ) );
	}

	/** The REST error of a refused operation: its code and message, and the status of its kind. */
	private static function error( ActionError $e ) {
		return new \WP_Error( $e->error_code(), $e->getMessage(), array( 'status' => self::STATUS_OF[ $e->kind() ] ) );
	}
}
