<?php
/** WP-CLI: `wp action-scheduler run|clean|fix-schema` (standalone mode) and `wp sidecar-scheduler status|work`. */

namespace SidecarScheduler\Cli;

defined( 'ABSPATH' ) || exit;

final class Commands {
	public static function register( $mode ) {
		\WP_CLI::add_command( 'sidecar-scheduler', SidecarCommand::class );
		\WP_CLI::add_command( 'sidecar-scheduler report', ReportCommand::class );
		\WP_CLI::add_command( 'sidecar-scheduler alerts', AlertsCommand::class );
		// In companion mode the library registers its own `action-scheduler` commands.
		if ( \SidecarScheduler\Plugin::MODE_STANDALONE === $mode ) {
			\WP_CLI::add_command( 'action-scheduler', ActionSchedulerCommand::class );
		}
	}
}
