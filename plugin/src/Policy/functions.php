<?php
/**
 * The public PHP API of policies, in both modes (no name clashes with the library's functions).
 *
 * @package SidecarScheduler
 */

defined( 'ABSPATH' ) || exit;

if ( ! function_exists( 'sidecar_scheduler_register_policy' ) ) {
	/**
	 * Registers the policy of a hook (retries, delays or backoff). Code wins over the admin screen.
	 *
	 * Example: sidecar_scheduler_register_policy( 'woocommerce_deliver_webhook_async', array( 'delays' => array( 10, 60, 600 ) ) );
	 *
	 * @param string $hook   The action's hook.
	 * @param array  $policy Settings (see README, "Policies").
	 * @return true|WP_Error An error (also reported with _doing_it_wrong()) names the bad setting; nothing is registered then.
	 */
	function sidecar_scheduler_register_policy( $hook, $policy ) {
		return sidecar_scheduler_register_policy_for( 'hook', $hook, $policy );
	}

	/**
	 * Registers the policy of a group: retries for its hooks without a policy of their own, and the group's limits
	 * (concurrency, rate, breaker).
	 *
	 * @param string $group  The group's slug.
	 * @param array  $policy Settings.
	 * @return true|WP_Error
	 */
	function sidecar_scheduler_register_group_policy( $group, $policy ) {
		return sidecar_scheduler_register_policy_for( 'group', $group, $policy );
	}

	/**
	 * Shared by both: validates, registers, and reports a refusal where developers look.
	 *
	 * @param string $scope  'hook' or 'group'.
	 * @param string $name   Name.
	 * @param array  $policy Settings.
	 * @return true|WP_Error
	 */
	function sidecar_scheduler_register_policy_for( $scope, $name, $policy ) {
		$result = SidecarScheduler\Policy\Registry::register( $scope, $name, $policy );
		if ( is_wp_error( $result ) ) {
			_doing_it_wrong( esc_html( 'sidecar_scheduler_register_' . ( 'group' === $scope ? 'group_' : '' ) . 'policy' ), esc_html( $result->get_error_message() ), '0.1.0' );
		}
		return $result;
	}
}
