<?php
/**
 * Loaded with `wp --require=…` by library-parity.test.ts before WordPress: prints a line whenever the queue hooks
 * fire, so the output shows when a run starts and ends a batch, and gives the test's actions their callbacks.
 */
WP_CLI::add_wp_hook( 'action_scheduler_before_process_queue', function () {
	WP_CLI::log( 'hook: action_scheduler_before_process_queue' );
} );
WP_CLI::add_wp_hook( 'action_scheduler_after_process_queue', function () {
	WP_CLI::log( 'hook: action_scheduler_after_process_queue' );
} );
WP_CLI::add_wp_hook( 'parity_cli_ok', '__return_null' );
WP_CLI::add_wp_hook( 'parity_cli_throw', function () {
	throw new RuntimeException( 'parity cli boom' );
} );
