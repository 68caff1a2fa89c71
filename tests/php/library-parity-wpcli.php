<?php
/**
 * Loaded with `wp --require=…` by library-parity.test.ts: a CLI plugin's own command, `wp parity-runner`, built on
 * the library's ActionScheduler_WPCLI_QueueRunner (setup() / run() until nothing is claimed).
 */
WP_CLI::add_command(
	'parity-runner',
	function () {
		add_action( 'parity_cli_ok', '__return_null' );
		add_action( 'parity_cli_throw', function () {
			throw new RuntimeException( 'parity cli boom' );
		} );
		add_action( 'action_scheduler/progress_tick', function ( $ticks ) { // phpcs:ignore WordPress.NamingConventions.ValidHookName
			WP_CLI::log( "tick {$ticks}" );
		} );
		$runner = new ActionScheduler_WPCLI_QueueRunner( null, null, new ActionScheduler_QueueCleaner( null, 10 ) );
		$found  = $runner->setup( 2, array( 'parity_cli_ok', 'parity_cli_throw' ) );
		$counts = array();
		while ( $found > 0 ) {
			$counts[] = array( $found, $runner->run() );
			$found    = $runner->setup( 2 );
		}
		WP_CLI::log( 'counts ' . wp_json_encode( $counts ) );
		WP_CLI::log( 'classes ' . wp_json_encode( array( get_parent_class( $runner ), class_exists( 'Action_Scheduler\WP_CLI\ProgressBar', false ) ) ) );
	}
);

// The class surface under WP-CLI, where the WP-CLI runner classes exist too.
WP_CLI::add_command(
	'parity-surface',
	function () {
		require __DIR__ . '/library-parity-surface.php';
	}
);
