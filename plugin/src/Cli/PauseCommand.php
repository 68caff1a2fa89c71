<?php
/**
 * `wp sidecar-scheduler pause|resume <group|hook> <name>` and `wp sidecar-scheduler paused`.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cli;

use SidecarScheduler\Policy\Pauses;

defined( 'ABSPATH' ) || exit;

/**
 * Pause and resume from WP-CLI.
 */
final class PauseCommand {
	/**
	 * Pauses a group or hook: its actions stay pending and no runner claims them until it is resumed.
	 *
	 * <scope>
	 * : group or hook.
	 *
	 * <name>
	 * : The group slug or hook.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function pause( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		list( $scope, $name ) = $args;
		$p                    = Pauses::pause( $scope, $name );
		if ( is_wp_error( $p ) ) {
			\WP_CLI::error( $p->get_error_message() );
		}
		/* translators: 1: hook or group 2: name 3: who 4: when */
		\WP_CLI::success( sprintf( __( '%1$s "%2$s" paused by %3$s at %4$s UTC.', 'sidecar-scheduler' ), ucfirst( $scope ), $name, $p['by'], $p['atGmt'] ) );
	}

	/**
	 * Resumes a paused group or hook.
	 *
	 * <scope>
	 * : group or hook.
	 *
	 * <name>
	 * : The group slug or hook.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function resume( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		list( $scope, $name ) = $args;
		$r                    = Pauses::resume( $scope, $name );
		if ( is_wp_error( $r ) ) {
			\WP_CLI::error( $r->get_error_message() );
		}
		/* translators: 1: hook or group 2: name */
		\WP_CLI::success( sprintf( __( '%1$s "%2$s" resumed.', 'sidecar-scheduler' ), ucfirst( $scope ), $name ) );
	}

	/**
	 * Lists paused groups and hooks.
	 *
	 * [--format=<format>]
	 * : table or json. Default: table.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function paused( $args, $assoc ) {
		$rows = Pauses::listing();
		if ( isset( $assoc['format'] ) && 'json' === $assoc['format'] ) {
			\WP_CLI::line( wp_json_encode( $rows ) );
			return;
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array( 'scope', 'name', 'by', 'atGmt' ) );
	}

	/**
	 * Lists the groups' circuit breakers: state, consecutive failures, until when open, times opened, last reason.
	 *
	 * [--format=<format>]
	 * : table or json. Default: table.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function breakers( $args, $assoc ) {
		$rows = \SidecarScheduler\Policy\Breakers::listing();
		if ( isset( $assoc['format'] ) && 'json' === $assoc['format'] ) {
			\WP_CLI::line( wp_json_encode( $rows ) );
			return;
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array( 'group', 'state', 'consecutive', 'untilGmt', 'opens', 'reason' ) );
	}
}
