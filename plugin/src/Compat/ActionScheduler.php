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
		return ActionScheduler_OptionLock::instance();
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

	public static function is_initialized( $function_name = null ) {
		if ( ! self::$data_store_initialized && ! empty( $function_name ) ) {
			/* translators: %s function name. */
			$message = sprintf( __( '%s() was called before the Action Scheduler data store was initialized', 'action-scheduler' ), esc_attr( $function_name ) );
			_doing_it_wrong( esc_html( $function_name ), esc_html( $message ), '3.1.6' );
		}
		return self::$data_store_initialized;
	}
}

/**
 * The version registry. Sidecar Scheduler declares it only in standalone mode, after every plugin has loaded, so a
 * copy bundled by a theme sees an initialised library and stays out of the way instead of redeclaring functions.
 */
class ActionScheduler_Versions {
	private static $instance = null;
	private $versions        = array();

	public static function instance() {
		if ( empty( self::$instance ) ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	public function register( $version_string, $initialization_callback ) {
		if ( isset( $this->versions[ $version_string ] ) ) {
			return false;
		}
		$this->versions[ $version_string ] = $initialization_callback;
		return true;
	}

	public function get_versions() {
		return $this->versions;
	}

	public function latest_version() {
		$keys = array_keys( $this->versions );
		if ( empty( $keys ) ) {
			return false;
		}
		uasort( $keys, 'version_compare' );
		return end( $keys );
	}

	public function latest_version_callback() {
		$latest = $this->latest_version();
		return ( empty( $latest ) || ! isset( $this->versions[ $latest ] ) ) ? '__return_null' : $this->versions[ $latest ];
	}

	/** Nothing to initialise: Sidecar Scheduler is already the running implementation. */
	public static function initialize_latest_version() {}
}

/** The option-row lock the async loopback runner uses (facts §9). */
class ActionScheduler_OptionLock {
	private static $instance = null;

	public static function instance() {
		if ( empty( self::$instance ) ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	public function get_duration( $lock_type ) {
		return apply_filters( 'action_scheduler_lock_duration', 60, $lock_type );
	}

	public function is_locked( $lock_type ) {
		return $this->get_expiration( $lock_type ) >= time();
	}

	public function get_expiration( $lock_type ) {
		$value = get_option( 'action_scheduler_lock_' . $lock_type );
		if ( ! $value ) {
			return 0;
		}
		$parts = explode( '|', $value );
		return (int) end( $parts );
	}

	/** INSERT when absent, else a compare-and-swap UPDATE of an expired value: two requests cannot both win. */
	public function set( $lock_type ) {
		global $wpdb;
		$name  = 'action_scheduler_lock_' . $lock_type;
		$value = uniqid( '', true ) . '|' . ( time() + $this->get_duration( $lock_type ) );
		$rows  = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", $name, $value ) );
		if ( ! $rows ) {
			$old = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $name ) );
			$parts = explode( '|', (string) $old );
			if ( (int) end( $parts ) >= time() ) {
				return false;
			}
			$rows = $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->options} SET option_value = %s WHERE option_name = %s AND option_value = %s", $value, $name, $old ) );
		}
		wp_cache_delete( $name, 'options' );
		wp_cache_delete( 'notoptions', 'options' );
		return (bool) $rows;
	}
}
