<?php
/**
 * Where policies come from and which one applies. Code (sidecar_scheduler_register_policy() and the
 * sidecar_scheduler_policies filter) wins over the admin screen's option, name by name; a hook's own policy wins over
 * its group's. With nothing registered, has_any() is false without a query, and nothing else here runs.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Policy registry.
 */
final class Registry {
	const OPTION = 'sidecar_scheduler_policies';

	/**
	 * Policies registered in PHP: scope => name => normal form.
	 *
	 * @var array
	 */
	private static $code = array(
		'hook'  => array(),
		'group' => array(),
	);

	/**
	 * Registers a policy from code.
	 *
	 * @param string $scope  'hook' or 'group'.
	 * @param string $name   Hook or group slug.
	 * @param array  $policy Settings.
	 * @return true|\WP_Error
	 */
	public static function register( $scope, $name, $policy ) {
		$valid = Validator::validate( $scope, $name, $policy );
		if ( is_wp_error( $valid ) ) {
			return $valid;
		}
		self::$code[ $scope ][ $name ] = $valid;
		return true;
	}

	/**
	 * Forgets a code policy (tests and plugins that register conditionally).
	 *
	 * @param string $scope 'hook' or 'group'.
	 * @param string $name  Name.
	 * @return void
	 */
	public static function unregister( $scope, $name ) {
		unset( self::$code[ $scope ][ $name ] );
	}

	/**
	 * Whether any policy could apply. Cheap: the screen option is autoloaded once it exists.
	 *
	 * @return bool
	 */
	public static function has_any() {
		if ( self::$code['hook'] || self::$code['group'] || has_filter( 'sidecar_scheduler_policies' ) ) {
			return true;
		}
		$screen = Limits::autoloaded( self::OPTION ); // No query on a site that never saved one.
		return is_array( $screen ) && ( ! empty( $screen['hook'] ) || ! empty( $screen['group'] ) );
	}

	/**
	 * Code policies after the filter, each validated; invalid ones from the filter are left out and reported.
	 *
	 * @param array $errors Filled with WP_Error messages of refused filter entries.
	 * @return array scope => name => policy.
	 */
	public static function code( &$errors = array() ) {
		$errors = array();
		$all    = self::$code;
		if ( has_filter( 'sidecar_scheduler_policies' ) ) {
			/**
			 * Policies from code: array( 'hook' => array( hook => policy ), 'group' => array( slug => policy ) ).
			 *
			 * @param array $policies The policies registered with sidecar_scheduler_register_policy().
			 */
			$filtered = apply_filters( 'sidecar_scheduler_policies', $all );
			$all      = array(
				'hook'  => array(),
				'group' => array(),
			);
			foreach ( array( 'hook', 'group' ) as $scope ) {
				foreach ( isset( $filtered[ $scope ] ) && is_array( $filtered[ $scope ] ) ? $filtered[ $scope ] : array() as $name => $policy ) {
					$valid = Validator::validate( $scope, (string) $name, $policy );
					if ( is_wp_error( $valid ) ) {
						$errors[] = $valid->get_error_message();
						continue;
					}
					$all[ $scope ][ $name ] = $valid;
				}
			}
		}
		return $all;
	}

	/**
	 * Policies saved on the admin screen.
	 *
	 * @return array scope => name => policy.
	 */
	public static function screen() {
		$saved = get_option( self::OPTION );
		return array(
			'hook'  => isset( $saved['hook'] ) && is_array( $saved['hook'] ) ? $saved['hook'] : array(),
			'group' => isset( $saved['group'] ) && is_array( $saved['group'] ) ? $saved['group'] : array(),
		);
	}

	/**
	 * Saves (or with null, removes) a screen policy after validation.
	 *
	 * @param string     $scope  'hook' or 'group'.
	 * @param string     $name   Name.
	 * @param array|null $policy Settings, or null to remove.
	 * @return array|true|\WP_Error The normal form saved, true when removed.
	 */
	public static function save_screen( $scope, $name, $policy ) {
		$target = Validator::check_target( $scope, $name );
		if ( is_wp_error( $target ) ) {
			return $target;
		}
		$saved = self::screen();
		if ( null === $policy ) {
			unset( $saved[ $scope ][ $name ] );
			update_option( self::OPTION, $saved, true );
			Limits::publish();
			return true;
		}
		$valid = Validator::validate( $scope, $name, $policy );
		if ( is_wp_error( $valid ) ) {
			return $valid;
		}
		$saved[ $scope ][ $name ] = $valid;
		update_option( self::OPTION, $saved, true );
		Limits::publish();
		return $valid;
	}

	/**
	 * The policies in force: code over screen, name by name.
	 *
	 * @return array scope => name => policy.
	 */
	public static function effective() {
		$code   = self::code();
		$screen = self::screen();
		return array(
			'hook'  => array_merge( $screen['hook'], $code['hook'] ),
			'group' => array_merge( $screen['group'], $code['group'] ),
		);
	}

	/**
	 * Every policy with where it comes from, for the screen, REST and WP-CLI.
	 *
	 * @return array{policies: array[], errors: string[]}
	 */
	public static function listing() {
		$errors = array();
		$code   = self::code( $errors );
		$screen = self::screen();
		$rows   = array();
		foreach ( array( 'group', 'hook' ) as $scope ) {
			foreach ( $code[ $scope ] as $name => $policy ) {
				$rows[] = array(
					'scope'           => $scope,
					'name'            => (string) $name,
					'policy'          => $policy,
					'source'          => 'code',
					'active'          => true,
					'overridesScreen' => isset( $screen[ $scope ][ $name ] ),
				);
			}
			foreach ( $screen[ $scope ] as $name => $policy ) {
				$rows[] = array(
					'scope'           => $scope,
					'name'            => (string) $name,
					'policy'          => $policy,
					'source'          => 'screen',
					'active'          => ! isset( $code[ $scope ][ $name ] ),
					'overridesScreen' => false,
				);
			}
		}
		return array(
			'policies' => $rows,
			'errors'   => $errors,
		);
	}

	/**
	 * The retry policy of an action: its hook's, else its group's; null when neither sets retries.
	 *
	 * @param string $hook  Hook.
	 * @param string $group Group slug.
	 * @return array|null array( 'policy' => ..., 'scope' => ..., 'name' => ... ).
	 */
	public static function retry_policy_for( $hook, $group ) {
		$all = self::effective();
		if ( isset( $all['hook'][ $hook ] ) && isset( $all['hook'][ $hook ]['retries'] ) ) {
			return array(
				'policy' => $all['hook'][ $hook ],
				'scope'  => 'hook',
				'name'   => $hook,
			);
		}
		if ( '' !== (string) $group && isset( $all['group'][ $group ] ) && isset( $all['group'][ $group ]['retries'] ) ) {
			return array(
				'policy' => $all['group'][ $group ],
				'scope'  => 'group',
				'name'   => $group,
			);
		}
		return null;
	}
}
