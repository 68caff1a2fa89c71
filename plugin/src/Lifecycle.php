<?php
/** Activation and deactivation: tables and the runner secret on activation; cron events removed on deactivation. */

namespace SidecarScheduler;

defined( 'ABSPATH' ) || exit;

final class Lifecycle {
	public static function activate() {
		Store\Schema::register_table_names();
		if ( Plugin::MODE_STANDALONE === Plugin::mode() ) {
			Store\Schema::maybe_install( true );
			// The queue lives in the tables, so the library's post-to-table migration is complete. The library deletes
			// this flag whenever a plugin is deactivated while it runs (its own deactivation included): without it, a
			// copy of the library activated later on this site would start on its hybrid store and migrate (tested).
			update_option( 'action_scheduler_migration_status', 'complete' );
		} else {
			Store\Schema::maybe_install_own( true );
		}
		Rest\Signature::ensure_secret();
	}

	public static function deactivate() {
		wp_clear_scheduled_hook( 'action_scheduler_run_queue', array( 'WP Cron' ) );
	}
}
