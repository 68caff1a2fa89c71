<?php
/** `wp sidecar-scheduler`: queue status and the execution worker the sidecar's wp-cli channel starts. */

namespace SidecarScheduler\Cli;

defined( 'ABSPATH' ) || exit;

final class SidecarCommand {
	/**
	 * Prints counts per status, past-due count and live sidecars.
	 *
	 * [--format=<format>]
	 * : table or json. Default: table.
	 */
	public function status( $args, $assoc ) {
		$data   = \SidecarScheduler\Admin\Health::overview();
		$format = isset( $assoc['format'] ) ? $assoc['format'] : 'table';
		if ( 'json' === $format ) {
			\WP_CLI::line( wp_json_encode( $data ) );
			return;
		}
		$rows = array();
		foreach ( $data['counts'] as $status => $count ) {
			$rows[] = array(
				'status' => $status,
				'count'  => $count,
			);
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array( 'status', 'count' ) );
		\WP_CLI::line( sprintf( 'past-due: %d; sidecars alive: %d; mode: %s', $data['pastDue']['count'], count( $data['sidecars'] ), $data['mode'] ) );
	}

	/**
	 * Runs the JSON-lines execution worker on stdin/stdout (started by the sidecar; not for interactive use).
	 */
	public function work( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		ini_set( 'display_errors', 'stderr' ); // phpcs:ignore WordPress.PHP.IniSet.display_errors_Disallowed, Squiz.PHP.DiscouragedFunctions.Discouraged -- the worker speaks its protocol on stdout: PHP errors must go to stderr, where the sidecar logs them.
		if ( ! defined( 'SIDECAR_SCHEDULER_WORKER' ) ) {
			define( 'SIDECAR_SCHEDULER_WORKER', true );
		}
		exit( \SidecarScheduler\Runner\Worker::run( STDIN, \SidecarScheduler\Runner\ProtocolChannel::output() ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an exit status (integer) for the sidecar, not output.
	}
}
