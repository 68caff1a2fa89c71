<?php
/**
 * Boot: decides standalone or companion mode once every plugin has loaded, then registers all hooks in one place.
 */

namespace SidecarScheduler;

defined( 'ABSPATH' ) || exit;

final class Plugin {
	const MODE_STANDALONE = 'standalone';
	const MODE_COMPANION  = 'companion';

	private static $mode = null;
	private static $file = '';

	public static function boot( $file ) {
		self::$file = $file;
		// Policies (retries, dead letters, limits): their PHP API exists from the moment plugins load, in both modes.
		Policy\Module::register();
		// The sidecar's worker runs actions through subclasses of whichever store and logger get loaded: their class
		// filters must be in place before any copy of the library creates them (plugins_loaded).
		Runner\WorkerClasses::install();
		// Priority 1 on plugins_loaded: every plugin file (and any bundled copy's registration) has been read by now,
		// and this is where the library itself initialises, so as_* exist from the same moment as with the library.
		add_action( 'plugins_loaded', array( __CLASS__, 'choose_mode' ), 1 );
		if ( did_action( 'plugins_loaded' ) ) { // Loaded late (e.g. from a test harness).
			self::choose_mode();
		}
	}

	/** Another copy announces itself by its version registry or its classes; then we must declare nothing that clashes. */
	public static function another_copy_present() {
		return class_exists( 'ActionScheduler_Versions', false ) || class_exists( 'ActionScheduler', false ) || function_exists( 'as_enqueue_async_action' );
	}

	public static function choose_mode() {
		if ( null !== self::$mode ) {
			return;
		}
		self::$mode = self::another_copy_present() ? self::MODE_COMPANION : self::MODE_STANDALONE;
		if ( self::MODE_STANDALONE === self::$mode ) {
			self::boot_standalone();
		}
		self::register_common_hooks();
	}

	public static function mode() {
		return self::$mode;
	}

	private static function boot_standalone() {
		sidecar_scheduler_register_compat_autoloader();
		require_once dirname( self::$file ) . '/functions.php';
		if ( apply_filters( 'action_scheduler_load_deprecated_functions', true ) ) {
			require_once dirname( self::$file ) . '/deprecated-functions.php';
		}
		// Declaring ActionScheduler now means a theme-bundled copy finds the library initialised and does not load its functions.
		class_exists( 'ActionScheduler' );
		class_exists( 'ActionScheduler_Versions' );
		add_action( 'init', array( Store\Schema::class, 'maybe_install' ), 0 );
		\ActionScheduler::init( self::$file );
		add_action( 'action_scheduler_init', array( Runner\RecurringGuard::class, 'schedule' ) );
		// The guard action needs a callback of its own, or it would fail with "no callbacks registered".
		add_action( Runner\RecurringGuard::HOOK, '__return_null', 0 );
	}

	private static function register_common_hooks() {
		Store\Schema::register_table_names();
		add_action( 'init', array( Store\Schema::class, 'maybe_install_own' ), 0 );
		add_action( 'init', array( Runner\Fallback::class, 'register' ), 5 );
		add_action( 'rest_api_init', array( Rest\RunnerController::class, 'register_routes' ) );
		add_action( 'rest_api_init', array( Rest\AdminController::class, 'register_routes' ) );
		add_action( 'rest_api_init', array( Rest\InsightController::class, 'register_routes' ) );
		add_action( 'rest_api_init', array( Rest\BatchController::class, 'register_routes' ) );
		add_action( 'rest_api_init', array( Rest\AlertsController::class, 'register_routes' ) );
		require_once __DIR__ . '/Batch/functions.php';
		Batch\Batches::register();
		Alerts\Alerts::register();
		Cron\Bridge::register();
		add_action( 'rest_api_init', array( Rest\CronController::class, 'register_routes' ) );
		Runner\Nudge::register();
		add_action( 'admin_menu', array( Admin\Page::class, 'register' ) );
		add_filter( 'site_status_tests', array( Admin\Health::class, 'site_status_tests' ) );
		add_filter( 'site_status_tests', array( SiteHealth\Tests::class, 'register' ) );
		add_filter( 'debug_information', array( SiteHealth\Info::class, 'add' ) );
		add_action( 'plugins_loaded', array( __CLASS__, 'load_textdomain' ), 5 );
		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			Cli\Commands::register( self::$mode );
		}
	}

	public static function load_textdomain() {
		load_plugin_textdomain( 'sidecar-scheduler', false, dirname( plugin_basename( self::$file ) ) . '/languages' );
	}

	public static function file() {
		return self::$file;
	}
}
