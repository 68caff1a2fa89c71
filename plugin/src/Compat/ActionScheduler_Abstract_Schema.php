<?php
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- checking the queue tables reads information about custom tables; no WordPress API covers it.

/**
 * The library's table-maker base, which plugins call to recreate the queue tables (`( new ActionScheduler_StoreSchema()
 * )->register_tables( true )`, often in test set-ups) or to check them (tables_exist()). Each subclass names its
 * tables and their CREATE statements (SidecarScheduler\Store\Schema holds them) and keeps its version in the option
 * "schema-<class>", as the library does, so either implementation sees the other's tables as up to date.
 */
abstract class ActionScheduler_Abstract_Schema {
	/** @var int The version whose tables the definitions describe. */
	protected $schema_version = 1;
	/** @var string|int The version stored in the option, read by register_tables(). */
	protected $db_version;
	/** @var string[] Table names without the prefix. */
	protected $tables = array();

	public function init() {}

	/** Registers the names on $wpdb and, when the stored version is older or $force_update, runs dbDelta() per table. */
	public function register_tables( $force_update = false ) {
		global $wpdb;
		foreach ( $this->tables as $table ) {
			$wpdb->tables[] = $table;
			$wpdb->$table   = $this->get_full_table_name( $table );
		}
		$this->db_version = get_option( 'schema-' . static::class, 0 );
		if ( ! $force_update && ! version_compare( (string) $this->db_version, (string) $this->schema_version, '<' ) ) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		foreach ( $this->tables as $table ) {
			do_action( 'action_scheduler_before_schema_update', $table, $this->db_version );
			$definition = $this->get_table_definition( $table );
			if ( ! $definition ) {
				continue;
			}
			foreach ( dbDelta( $definition ) as $full_name => $change ) {
				if ( 0 === strpos( $change, 'Created table' ) ) {
					do_action( 'action_scheduler/created_table', $full_name, $table ); // phpcs:ignore WordPress.NamingConventions.ValidHookName -- the library's name.
				}
			}
		}
		// "<version>.0.<time>": the time makes the value change, so the update is written even by a racing request.
		update_option( 'schema-' . static::class, $this->schema_version . '.0.' . time() );
	}

	/** The CREATE TABLE statement for one of $this->tables. */
	abstract protected function get_table_definition( $table );

	protected function get_full_table_name( $table ) {
		return $GLOBALS['wpdb']->prefix . $table;
	}

	public function tables_exist() {
		global $wpdb;
		foreach ( $this->tables as $table ) {
			$name = $wpdb->prefix . $table;
			if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
				return false;
			}
		}
		return true;
	}
}
