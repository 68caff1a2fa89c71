<?php
/** The library's static facade: store(), logger(), runner(), factory(), is_initialized() and the init hooks. */
defined( 'ABSPATH' ) || exit;

abstract class ActionScheduler {
	private static $plugin_file            = '';
	private static $factory                = null;
	private static $data_store_initialized = false;

	public static function factory() {
		if ( ! isset( self::$factory ) ) {
			self::$factory = new ActionScheduler_ActionFactory();
		}
		return self::$factory;
	}

	public static function store() {
		return ActionScheduler_Store::instance();
	}

	public static function logger() {
		return ActionScheduler_Logger::instance();
	}

	public static function runner() {
		return ActionScheduler_QueueRunner::instance();
	}

	public static function lock() {
		return ActionScheduler_Lock::instance();
	}

	public static function plugin_path( $path ) {
		$base = dirname( self::$plugin_file );
		return $path ? trailingslashit( $base ) . $path : $base;
	}

	public static function plugin_url( $path ) {
		return plugins_url( $path, self::$plugin_file );
	}

	/** Wires the store, logger and runner to init priority 1 and marks the API ready there, like the library. */
	public static function init( $plugin_file ) {
		self::$plugin_file = $plugin_file;
		// Every copy of the library registers its version; probes (latest_version(), get_versions()) expect one.
		ActionScheduler_Versions::instance()->register( SIDECAR_SCHEDULER_AS_VERSION, 'sidecar_scheduler_as_initialized' );
		ActionScheduler_DataController::init();
		do_action( 'action_scheduler_pre_init' );
		$store  = self::store();
		$logger = self::logger();
		$runner = self::runner();
		$ready  = function () {
			self::$data_store_initialized = true;
			do_action( 'action_scheduler_init' );
		};
		if ( did_action( 'init' ) && ! doing_action( 'init' ) ) {
			$store->init();
			$logger->init();
			$runner->init();
			$ready();
			return;
		}
		add_action( 'init', array( $store, 'init' ), 1, 0 );
		add_action( 'init', array( $logger, 'init' ), 1 );
		add_action( 'init', array( $runner, 'init' ), 1 );
		add_action( 'init', $ready, 1 );
	}

	/** Deprecated in the library since 2.0. */
	public static function get_datetime_object( $when = null, $timezone = 'UTC' ) {
		_deprecated_function( __METHOD__, '2.0', 'wcs_add_months()' );
		return as_get_datetime_object( $when, $timezone );
	}

	/** Deprecated in the library since 3.1.6; does nothing but say so. */
	public static function check_shutdown_hook( $function_name ) {
		_deprecated_function( __FUNCTION__, '3.1.6' );
	}

	/** A facade of static methods: never copied or unserialised. */
	final public function __clone() {
		trigger_error( 'ActionScheduler is a static facade and cannot be cloned.', E_USER_ERROR ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_trigger_error -- the library's guard against cloning its static facade.
	}

	final public function __wakeup() {
		trigger_error( 'ActionScheduler is a static facade and cannot be unserialized.', E_USER_ERROR ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_trigger_error -- the library's guard against unserializing its static facade.
	}

	public static function is_initialized( $function_name = null ) {
		if ( ! self::$data_store_initialized && ! empty( $function_name ) ) {
			/* translators: %s function name. */
			$message = sprintf( __( '%s() was called before the Action Scheduler data store was initialized', 'sidecar-scheduler' ), esc_attr( $function_name ) );
			_doing_it_wrong( esc_html( $function_name ), esc_html( $message ), '3.1.6' );
		}
		return self::$data_store_initialized;
	}
}
