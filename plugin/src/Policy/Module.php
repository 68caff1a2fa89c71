<?php
/**
 * Registers policies, retries and dead letters in one place (called from Plugin, in both modes).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Hook registration of the policy features.
 */
final class Module {
	/**
	 * Loads the API and adds the hooks.
	 *
	 * @return void
	 */
	public static function register() {
		require_once __DIR__ . '/functions.php';
		Retries::register();
		Pauses::register();
		Limits::register();
		Breakers::register();
		add_action( 'admin_notices', array( \SidecarScheduler\Admin\PauseBanner::class, 'render' ) );
		add_action( 'rest_api_init', array( \SidecarScheduler\Rest\PolicyController::class, 'register_routes' ) );
		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			// After Plugin::choose_mode() (plugins_loaded, 1) has added the parent `sidecar-scheduler` command.
			add_action( 'plugins_loaded', array( __CLASS__, 'register_cli' ), 2 );
		}
	}

	/**
	 * WP-CLI subcommands.
	 *
	 * @return void
	 */
	public static function register_cli() {
		\WP_CLI::add_command( 'sidecar-scheduler policies', \SidecarScheduler\Cli\PolicyCommand::class );
		\WP_CLI::add_command( 'sidecar-scheduler dead-letters', \SidecarScheduler\Cli\DeadLettersCommand::class );
		$pause = new \SidecarScheduler\Cli\PauseCommand();
		\WP_CLI::add_command( 'sidecar-scheduler pause', array( $pause, 'pause' ) );
		\WP_CLI::add_command( 'sidecar-scheduler resume', array( $pause, 'resume' ) );
		\WP_CLI::add_command( 'sidecar-scheduler paused', array( $pause, 'paused' ) );
		\WP_CLI::add_command( 'sidecar-scheduler breakers', array( $pause, 'breakers' ) );
	}
}
