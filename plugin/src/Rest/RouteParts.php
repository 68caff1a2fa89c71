<?php
/**
 * What the REST controllers under sidecar-scheduler/v1 share: who may call them and the argument schemas that
 * several routes take the same way (an action or batch ID, paging, filters by hook and group, a bulk operation).
 * The nonce is WordPress' own (cookie authentication checks X-WP-Nonce before any permission callback).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Rest;

defined( 'ABSPATH' ) || exit;

/**
 * Shared permission callback and argument schemas.
 */
final class RouteParts {

	/**
	 * The capability of the admin API (filter sidecar_scheduler_capability; manage_options by default).
	 *
	 * @return string
	 */
	public static function capability() {
		return apply_filters( 'sidecar_scheduler_capability', 'manage_options' );
	}

	/**
	 * Permission callback of the admin API's routes.
	 *
	 * @return bool
	 */
	public static function can_manage() {
		return current_user_can( self::capability() );
	}

	/**
	 * A required positive integer {id} from the route.
	 *
	 * @return array
	 */
	public static function id_arg() {
		return array(
			'id' => array(
				'type'     => 'integer',
				'minimum'  => 1,
				'required' => true,
			),
		);
	}

	/**
	 * page (from 1) and per_page (1 to 200, 20 by default).
	 *
	 * @return array
	 */
	public static function page_args() {
		return array(
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
		);
	}

	/**
	 * Optional hook and group filters, as long as the columns they match.
	 *
	 * @return array
	 */
	public static function hook_group_args() {
		return array(
			'hook'  => array(
				'type'      => 'string',
				'maxLength' => 191,
				'default'   => '',
			),
			'group' => array(
				'type'      => 'string',
				'maxLength' => 255,
				'default'   => '',
			),
		);
	}

	/**
	 * A bulk operation: one of $ops, on up to 1,000 ids or on what matches a filter of $filter's properties.
	 *
	 * @param string[] $ops    The operations.
	 * @param array    $filter The filter's properties (argument schemas).
	 * @return array
	 */
	public static function bulk_args( array $ops, array $filter ) {
		return array(
			'op'     => array(
				'type'     => 'string',
				'enum'     => $ops,
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
				'properties'           => $filter,
				'additionalProperties' => false,
			),
		);
	}

	/**
	 * The error of a bulk request with neither ids nor a filter (null when it has one of them).
	 *
	 * @param \WP_REST_Request $r Request.
	 * @return \WP_Error|null
	 */
	public static function bulk_without_target( \WP_REST_Request $r ) {
		if ( empty( $r['ids'] ) && null === $r['filter'] ) {
			return new \WP_Error( 'sidecar_scheduler_bulk_target', __( 'Give either ids or a filter.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		return null;
	}
}
