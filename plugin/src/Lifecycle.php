<?php
/** Activation and deactivation: tables and the runner secret on activation; cron events removed on deactivation. */

namespace SidecarScheduler;

defined( 'ABSPATH' ) || exit;

final class Lifecycle {
	public static function activate() {
		Store\Schema::register_table_names();
		if ( Plugin::MODE_STANDALONE === Plugin::mode() ) {
			Store\Schema::maybe_install( true );
		} else {
			Store\Schema::maybe_install_own( true );
		}
		Rest\Signature::ensure_secret();
	}

	public static function deactivate() {
		wp_clear_scheduled_hook( 'action_scheduler_run_queue', array( 'WP Cron' ) );
	}
}
