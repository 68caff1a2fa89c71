<?php
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- creating and checking the queue tables is DDL on custom tables; no WordPress API covers it.

/** The logs table (schema 3), as the library defines it. */
class ActionScheduler_LoggerSchema extends ActionScheduler_Abstract_Schema {
	const LOG_TABLE = 'actionscheduler_logs';

	protected $schema_version = 3;

	public function __construct() {
		$this->tables = array( self::LOG_TABLE );
	}

	public function init() {
		add_action( 'action_scheduler_before_schema_update', array( $this, 'update_schema_3_0' ), 10, 2 );
	}

	protected function get_table_definition( $table ) {
		return \SidecarScheduler\Store\Schema::definition( $table );
	}

	/** Logs tables from before schema 3 had NOT NULL dates: made nullable with the zero date, as the library does. */
	public function update_schema_3_0( $table, $db_version ) {
		global $wpdb;
		if ( self::LOG_TABLE !== $table || version_compare( $db_version, '3', '>=' ) ) {
			return;
		}
		$name = $wpdb->prefix . self::LOG_TABLE;
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
			return;
		}
		$default = ActionScheduler_StoreSchema::DEFAULT_DATE;
		$wpdb->query( "ALTER TABLE {$name} MODIFY COLUMN log_date_gmt datetime NULL default '{$default}', MODIFY COLUMN log_date_local datetime NULL default '{$default}'" ); // phpcs:ignore WordPress.DB.PreparedSQL -- fixed names.
	}
}
