<?php
/**
 * REST: alert settings and state under sidecar-scheduler/v1: GET /alerts (settings without the secret, and each
 * condition now with its last alert) and POST /alerts (validated; a code filter still wins over what is saved).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Alerts\Alerts;
use SidecarScheduler\Alerts\Conditions;
use SidecarScheduler\Alerts\Settings;
use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

/**
 * The alert routes.
 */
final class AlertsController {

	/**
	 * Registers the routes (rest_api_init).
	 */
	public static function register_routes() {
		register_rest_route(
			Contract::REST_NAMESPACE,
			'/alerts',
			array(
				array(
					'methods'             => 'GET',
					'callback'            => array( __CLASS__, 'show' ),
					'permission_callback' => array( RouteParts::class, 'can_manage' ),
				),
				array(
					'methods'             => 'POST',
					'callback'            => array( __CLASS__, 'save' ),
					'permission_callback' => array( RouteParts::class, 'can_manage' ),
					'args'                => array(
						'emails'                  => array(
							'type'     => 'array',
							'items'    => array( 'type' => 'string' ),
							'maxItems' => 20,
						),
						'webhook_url'             => array(
							'type'      => 'string',
							'maxLength' => 2000,
						),
						'webhook_secret'          => array(
							'type'      => 'string',
							'maxLength' => 200,
						),
						'cooldown_seconds'        => array(
							'type'    => 'integer',
							'minimum' => 0,
							'maximum' => WEEK_IN_SECONDS,
						),
						'past_due_seconds'        => array(
							'type'    => 'integer',
							'minimum' => 60,
							'maximum' => WEEK_IN_SECONDS,
						),
						'stuck_seconds'           => array(
							'type'    => 'integer',
							'minimum' => 60,
							'maximum' => WEEK_IN_SECONDS,
						),
						'failure_rate'            => array(
							'type'    => 'number',
							'minimum' => 0.01,
							'maximum' => 1,
						),
						'failure_min_count'       => array(
							'type'    => 'integer',
							'minimum' => 1,
							'maximum' => 100000,
						),
						'backlog_count'           => array(
							'type'    => 'integer',
							'minimum' => 1,
							'maximum' => 100000000,
						),
						'backlog_growing_minutes' => array(
							'type'    => 'integer',
							'minimum' => 1,
							'maximum' => 1440,
						),
						'group_failure_rate'      => array(
							'type'    => 'number',
							'minimum' => 0.01,
							'maximum' => 1,
						),
						'group_failure_min_count' => array(
							'type'    => 'integer',
							'minimum' => 1,
							'maximum' => 100000,
						),
					),
				),
			)
		);
	}

	/**
	 * Settings (the secret only as whether it is set) and the conditions now.
	 *
	 * @return \WP_REST_Response
	 */
	public static function show() {
		$s     = Settings::get();
		$state = get_option( Alerts::STATE_OPTION, array() );
		$conds = array();
		// A copy of what the evaluations remember (the backlog's samples, the last dead letter seen), so that a growing
		// backlog or new dead letters show as firing here too; this view never writes it back.
		$memory = isset( $state['memory'] ) && is_array( $state['memory'] ) ? $state['memory'] : array();
		foreach ( Conditions::evaluate( $s, $memory ) as $code => $c ) {
			$st      = isset( $state['conditions'][ $code ] ) ? $state['conditions'][ $code ] : array();
			$conds[] = array(
				'code'     => $code,
				'firing'   => (bool) $c[0],
				'summary'  => $c[0] ? $c[1] : '',
				'lastSent' => empty( $st['sent'] ) ? null : gmdate( 'Y-m-d H:i:s', (int) $st['sent'] ),
			);
		}
		$out                       = array_intersect_key( $s, array_flip( array( 'emails', 'webhook_url', 'cooldown_seconds', 'past_due_seconds', 'stuck_seconds', 'failure_rate', 'failure_min_count', 'backlog_count', 'backlog_growing_minutes', 'group_failure_rate', 'group_failure_min_count' ) ) );
		$out['webhook_secret_set'] = '' !== (string) $s['webhook_secret'];
		$out['pending_webhooks']   = isset( $state['webhooks'] ) ? count( $state['webhooks'] ) : 0;
		$out['conditions']         = $conds;
		return rest_ensure_response( $out );
	}

	/**
	 * Saves the given settings (others kept); an invalid address or URL is a 400 naming it, and nothing is saved.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @return \WP_REST_Response|\WP_Error
	 */
	public static function save( \WP_REST_Request $request ) {
		$stored = get_option( Settings::OPTION, array() );
		$stored = is_array( $stored ) ? $stored : array();
		$params = $request->get_json_params();
		foreach ( array( 'emails', 'webhook_url', 'webhook_secret', 'cooldown_seconds', 'past_due_seconds', 'stuck_seconds', 'failure_rate', 'failure_min_count', 'backlog_count', 'backlog_growing_minutes', 'group_failure_rate', 'group_failure_min_count' ) as $key ) {
			if ( is_array( $params ) && array_key_exists( $key, $params ) ) {
				$stored[ $key ] = $request[ $key ];
			}
		}
		if ( isset( $stored['emails'] ) ) {
			$stored['emails'] = array_values( array_filter( array_map( 'trim', (array) $stored['emails'] ) ) );
			foreach ( $stored['emails'] as $email ) {
				if ( ! is_email( $email ) ) {
					/* translators: %s: address */
					return new \WP_Error( 'sidecar_scheduler_alert_email', sprintf( __( '"%s" is not an email address.', 'sidecar-scheduler' ), $email ), array( 'status' => 400 ) );
				}
			}
		}
		if ( ! empty( $stored['webhook_url'] ) && ! preg_match( '#^https?://#i', (string) $stored['webhook_url'] ) ) {
			return new \WP_Error( 'sidecar_scheduler_alert_webhook', __( 'The webhook URL must start with http:// or https://.', 'sidecar-scheduler' ), array( 'status' => 400 ) );
		}
		update_option( Settings::OPTION, $stored, false );
		Alerts::schedule_cron_now();
		return self::show();
	}
}
