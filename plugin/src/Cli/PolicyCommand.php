<?php
/**
 * `wp sidecar-scheduler policies list|set|delete`: the policies in force and the admin screen's own.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cli;

use SidecarScheduler\Policy\Registry;

defined( 'ABSPATH' ) || exit;

/**
 * Lists and edits policies (screen policies; code policies are changed in code and win).
 */
final class PolicyCommand {
	/**
	 * Lists every policy: where it comes from and whether it is in force.
	 *
	 * [--format=<format>]
	 * : table or json. Default: table.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function list( $args, $assoc ) {
		$data = Registry::listing();
		if ( isset( $assoc['format'] ) && 'json' === $assoc['format'] ) {
			\WP_CLI::line( wp_json_encode( $data ) );
			return;
		}
		$rows = array();
		foreach ( $data['policies'] as $p ) {
			$rows[] = array(
				'scope'  => $p['scope'],
				'name'   => $p['name'],
				'source' => $p['source'],
				'active' => $p['active'] ? 'yes' : 'no (code wins)',
				'policy' => wp_json_encode( $p['policy'] ),
			);
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array( 'scope', 'name', 'source', 'active', 'policy' ) );
		foreach ( $data['errors'] as $e ) {
			\WP_CLI::warning( $e );
		}
	}

	/**
	 * Saves a policy as the admin screen does (validated; code policies of the same name still win).
	 *
	 * <scope>
	 * : hook or group.
	 *
	 * <name>
	 * : The hook or group slug.
	 *
	 * <json>
	 * : The policy as JSON, e.g. '{"delays":[10,60,600]}'.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function set( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		list( $scope, $name, $json ) = $args;
		$policy                      = json_decode( $json, true );
		if ( null === $policy && 'null' !== trim( $json ) ) {
			/* translators: %s: JSON error */
			\WP_CLI::error( sprintf( __( 'The policy is not valid JSON: %s', 'sidecar-scheduler' ), json_last_error_msg() ) );
		}
		$saved = Registry::save_screen( $scope, $name, is_array( $policy ) ? $policy : $json );
		if ( is_wp_error( $saved ) ) {
			\WP_CLI::error( $saved->get_error_message() );
		}
		$code = Registry::code();
		if ( isset( $code[ $scope ][ $name ] ) ) {
			/* translators: 1: hook or group 2: name */
			\WP_CLI::warning( sprintf( __( 'Saved, but the %1$s policy "%2$s" is also set in code, and code wins.', 'sidecar-scheduler' ), $scope, $name ) );
		}
		\WP_CLI::success( wp_json_encode( $saved ) );
	}

	/**
	 * Removes a policy saved on the screen (or with `set`).
	 *
	 * <scope>
	 * : hook or group.
	 *
	 * <name>
	 * : The hook or group slug.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function delete( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		list( $scope, $name ) = $args;
		$screen               = Registry::screen();
		if ( ! isset( $screen[ $scope ][ $name ] ) ) {
			/* translators: 1: hook or group 2: name */
			\WP_CLI::error( sprintf( __( 'There is no %1$s policy "%2$s" saved on the screen.', 'sidecar-scheduler' ), $scope, $name ) );
		}
		Registry::save_screen( $scope, $name, null );
		\WP_CLI::success( __( 'Policy removed.', 'sidecar-scheduler' ) );
	}
}
