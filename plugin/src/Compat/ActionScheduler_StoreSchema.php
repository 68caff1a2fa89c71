<?php
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- creating and checking the queue tables is DDL on custom tables; no WordPress API covers it.

/** The actions, claims and groups tables (schema 7), as the library defines them. */
class ActionScheduler_StoreSchema extends ActionScheduler_Abstract_Schema {
	const ACTIONS_TABLE = 'actionscheduler_actions';
	const CLAIMS_TABLE  = 'actionscheduler_claims';
	const GROUPS_TABLE  = 'actionscheduler_groups';
	const DEFAULT_DATE  = '0000-00-00 00:00:00';

	protected $schema_version = 7;

	public function __construct() {
		$this->tables = array( self::ACTIONS_TABLE, self::CLAIMS_TABLE, self::GROUPS_TABLE );
	}

	public function init() {
		add_action( 'action_scheduler_before_schema_update', array( $this, 'update_schema_5_0' ), 10, 2 );
	}

	protected function get_table_definition( $table ) {
		return \SidecarScheduler\Store\Schema::definition( $table );
	}

	/**
	 * Tables from before schema 5 had NOT NULL dates, which dbDelta() cannot relax and which servers in NO_ZERO_DATE
	 * mode refuse: make them nullable with the zero date as default, as the library's update does.
	 */
	public function update_schema_5_0( $table, $db_version ) {
		global $wpdb;
		if ( self::ACTIONS_TABLE !== $table || version_compare( $db_version, '5', '>=' ) ) {
			return;
		}
		$name = $wpdb->prefix . self::ACTIONS_TABLE;
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
			return;
		}
		$columns = array();
		foreach ( array( 'scheduled_date_gmt', 'scheduled_date_local', 'last_attempt_gmt', 'last_attempt_local' ) as $column ) {
			$columns[] = "MODIFY COLUMN {$column} datetime NULL default '" . self::DEFAULT_DATE . "'";
		}
		$wpdb->query( "ALTER TABLE {$name} " . implode( ', ', $columns ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- fixed names.
	}
}
