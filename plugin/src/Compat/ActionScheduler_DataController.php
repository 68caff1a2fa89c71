<?php
defined( 'ABSPATH' ) || exit;

/**
 * The library's data controller: which store and logger classes are in use, the migration flag, and the memory relief
 * long WP-CLI runs get every `--free-memory-on` actions. Sidecar Scheduler only ever uses the custom tables, so the
 * migration is complete by construction; the flag methods still read and write the library's option, which a copy of
 * the library installed later goes by.
 */
class ActionScheduler_DataController {
	const DATASTORE_CLASS = 'ActionScheduler_DBStore';
	const LOGGER_CLASS    = 'ActionScheduler_DBLogger';
	const STATUS_FLAG     = 'action_scheduler_migration_status';
	const STATUS_COMPLETE = 'complete';
	const MIN_PHP_VERSION = '5.5';

	/** @var ActionScheduler_DataController|null */
	private static $instance;
	/** @var int Seconds to sleep each time memory is freed (`--pause`). */
	private static $sleep_time = 0;
	/** @var int Free memory every this many actions of a batch; 0 never. */
	private static $free_ticks = 50;

	public static function dependencies_met() {
		return version_compare( PHP_VERSION, self::MIN_PHP_VERSION, '>=' ) && apply_filters( 'action_scheduler_migration_dependencies_met', true );
	}

	/** Always true here: this store has no posts-table phase to migrate from. */
	public static function is_migration_complete() {
		return true;
	}

	public static function mark_migration_complete() {
		update_option( self::STATUS_FLAG, self::STATUS_COMPLETE );
	}

	public static function mark_migration_incomplete() {
		delete_option( self::STATUS_FLAG );
	}

	/** Filter callbacks (`action_scheduler_store_class` / `_logger_class`): the table store and logger. */
	public static function set_store_class( $class ) {
		return self::DATASTORE_CLASS;
	}

	public static function set_logger_class( $class ) {
		return self::LOGGER_CLASS;
	}

	public static function set_sleep_time( $sleep_time ) {
		self::$sleep_time = (int) $sleep_time;
	}

	public static function set_free_ticks( $free_ticks ) {
		self::$free_ticks = (int) $free_ticks;
	}

	/** Hooked on `action_scheduler/progress_tick` (fired by the WP-CLI runner after each action of a batch). */
	public static function maybe_free_memory( $ticks ) {
		if ( self::$free_ticks && 0 === $ticks % self::$free_ticks ) {
			self::free_memory();
		}
	}

	/** Pauses if asked to, then drops the query log and the in-memory object cache, with the library's warnings. */
	public static function free_memory() {
		global $wpdb;
		if ( self::$sleep_time > 0 ) {
			/* translators: %d: amount of time */
			\WP_CLI::warning( sprintf( _n( 'Stopped the insanity for %d second', 'Stopped the insanity for %d seconds', self::$sleep_time, 'sidecar-scheduler' ), self::$sleep_time ) );
			sleep( self::$sleep_time );
		}
		\WP_CLI::warning( __( 'Attempting to reduce used memory...', 'sidecar-scheduler' ) );
		$wpdb->queries = array();
		if ( function_exists( 'wp_cache_flush_runtime' ) ) {
			wp_cache_flush_runtime();
		} elseif ( ! wp_using_ext_object_cache() ) {
			wp_cache_flush();
		}
	}

	/** Called once from ActionScheduler::init(). */
	public static function init() {
		add_action( 'action_scheduler/progress_tick', array( __CLASS__, 'maybe_free_memory' ) ); // phpcs:ignore WordPress.NamingConventions.ValidHookName -- the library's name.
	}

	public static function instance() {
		if ( ! isset( self::$instance ) ) {
			self::$instance = new static();
		}
		return self::$instance;
	}
}
