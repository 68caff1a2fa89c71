<?php
/**
 * Creates the four actionscheduler tables with the library's exact DDL and schema options (so any copy of the
 * library reads and keeps them), plus our own index for the claim query and our two sidecar tables.
 *
 * Over 300 lines because the library's exact DDL for four tables, our own tables and indexes, their verification,
 * and the upgrade steps that run under one lock belong together.
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- creating, checking and dropping custom tables is DDL; no WordPress API covers it.

final class Schema {
	public static function register_table_names() {
		global $wpdb;
		foreach ( array( Contract::TABLE_ACTIONS, Contract::TABLE_CLAIMS, Contract::TABLE_GROUPS, Contract::TABLE_LOGS, Contract::TABLE_HEARTBEATS, Contract::TABLE_STATS ) as $table ) {
			$wpdb->$table   = $wpdb->prefix . $table;
			$wpdb->tables[] = $table;
		}
		$wpdb->tables = array_unique( $wpdb->tables );
	}

	/** The stored option reads "7.0.<time>"; anything below the version we ship triggers dbDelta. */
	private static function needs_update( $option, $version ) {
		$stored = get_option( $option, 0 );
		return version_compare( (string) $stored, $version . '.0', '<' );
	}

	/** The last failed upgrade (what is missing, the database's error): shown in the admin and Site Health until fixed. */
	const ERROR_OPTION = 'sidecar_scheduler_schema_error';
	/** After a failed upgrade, the next try waits this long (it is retried by the next admin page, WP-CLI or worker). */
	const RETRY_SECONDS = 60;
	/** @var string The database's answer to the statement that failed in this run (later queries clear wpdb's). */
	private static $last_error = '';

	/**
	 * Schema changes run once, from where a slow ALTER is acceptable: an admin screen, WP-CLI or the sidecar's worker
	 * (and activation), never a front-end request, which only creates the tables of a site that has none yet. One
	 * process at a time (a named lock; the others skip it), and the version options move only once every table and
	 * index is verified to exist; a failure is recorded (ERROR_OPTION) and retried after RETRY_SECONDS.
	 */
	public static function maybe_install( $force = false ) {
		self::register_table_names();
		$first  = ! get_option( Contract::SCHEMA_STORE_OPTION );
		$store  = $force || self::needs_update( Contract::SCHEMA_STORE_OPTION, Contract::SCHEMA_STORE_VERSION );
		$logger = $force || self::needs_update( Contract::SCHEMA_LOGGER_OPTION, Contract::SCHEMA_LOGGER_VERSION );
		$verify = $force || self::should_verify_tables();
		if ( ! $store && ! $logger && ! $verify && ! self::own_needs_update( $force ) ) {
			return;
		}
		if ( ! $force && ( ! ( self::upgrade_context() || ( $first && ! self::tables_exist() ) ) || get_transient( 'sidecar_scheduler_schema_retry' ) ) ) {
			return;
		}
		if ( ! self::lock( $force ? 10 : 0 ) ) {
			return; // Another process is changing the schema right now.
		}
		try {
			if ( $store ) {
				self::update_store_schema();
			}
			if ( $logger ) {
				self::update_logger_schema();
			}
			if ( $verify ) {
				if ( $force || self::missing( self::LIBRARY_TABLES ) ) {
					// A table or index was dropped behind the schema option's back: recreate it (the library does this
					// from its admin screen). Rows in the other tables are untouched.
					self::update_store_schema();
					self::update_logger_schema();
				}
				set_transient( 'sidecar_scheduler_tables_verified', 1, 10 * MINUTE_IN_SECONDS );
			}
			if ( self::upgrade_context() || $force ) {
				self::install_own( $force );
				self::record( self::missing( array_merge( self::LIBRARY_TABLES, self::OWN_TABLES ) ) );
			}
		} finally {
			self::unlock();
		}
	}

	const LIBRARY_TABLES = array( 'actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups', 'actionscheduler_logs' );
	const OWN_TABLES     = array( Contract::TABLE_HEARTBEATS, Contract::TABLE_STATS );

	/** Admin screens, WP-CLI and the sidecar's workers: where a schema change may take its time. */
	private static function upgrade_context() {
		return ( is_admin() && ! wp_doing_ajax() ) || ( defined( 'WP_CLI' ) && WP_CLI ) || ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER );
	}

	/** Only admin screens, WP-CLI and workers look (at most every 10 minutes): front-end requests never pay for it. */
	private static function should_verify_tables() {
		return self::upgrade_context() && ! get_transient( 'sidecar_scheduler_tables_verified' );
	}

	/** A MySQL named lock per site: concurrent requests do not run the same ALTER TABLE twice. */
	private static function lock( $wait ) {
		global $wpdb;
		return 1 === (int) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', self::lock_name(), $wait ) );
	}

	private static function unlock() {
		global $wpdb;
		$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', self::lock_name() ) );
	}

	private static function lock_name() {
		global $wpdb;
		return substr( DB_NAME . '.' . $wpdb->prefix . 'sidecar_schema', 0, 64 );
	}

	/**
	 * What should exist and does not, among these tables (short names; ours included when asked): "table" for a
	 * missing table, "table.index" for a missing index. Read from the definitions, so it never drifts from them.
	 *
	 * @return string[]
	 */
	public static function missing( array $tables ) {
		global $wpdb;
		$missing = array();
		foreach ( $tables as $table ) {
			$sql  = in_array( $table, self::OWN_TABLES, true ) ? self::own_definition( $table ) : self::definition( $table );
			$name = $wpdb->prefix . $table;
			if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
				$missing[] = $table;
				continue;
			}
			$have = array_map( 'strtolower', (array) $wpdb->get_col( "SHOW INDEX FROM {$name}", 2 ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- our own table name.
			preg_match_all( '/^\s*(PRIMARY KEY|KEY\s+(\w+))/mi', $sql, $m );
			$want = array_map(
				'strtolower',
				array_map(
					function ( $primary, $key ) {
						return $key ? $key : 'PRIMARY';
					},
					$m[1],
					$m[2]
				)
			);
			if ( 'actionscheduler_actions' === $table ) {
				$want = array_merge( $want, array_keys( self::own_indexes() ) );
			}
			foreach ( array_diff( $want, $have ) as $index ) {
				$missing[] = $table . '.' . $index;
			}
		}
		return $missing;
	}

	/** Records the outcome: what is missing (and the last database error) until a later run finds nothing missing. */
	private static function record( array $missing ) {
		global $wpdb;
		if ( ! $missing ) {
			delete_option( self::ERROR_OPTION );
			delete_transient( 'sidecar_scheduler_schema_retry' );
			return;
		}
		update_option(
			self::ERROR_OPTION,
			array(
				'time'    => time(),
				'missing' => array_values( $missing ),
				'error'   => (string) ( self::$last_error ? self::$last_error : $wpdb->last_error ),
			),
			false
		);
		set_transient( 'sidecar_scheduler_schema_retry', 1, self::RETRY_SECONDS );
	}

	/** The recorded failure, or null when the schema is complete. @return array{time: int, missing: string[], error: string}|null */
	public static function error() {
		$error = get_option( self::ERROR_OPTION );
		return is_array( $error ) && ! empty( $error['missing'] ) ? $error : null;
	}

	public static function tables_exist() {
		global $wpdb;
		foreach ( array( 'actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups', 'actionscheduler_logs' ) as $table ) {
			$name = $wpdb->prefix . $table;
			if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $name ) ) ) !== $name ) {
				return false;
			}
		}
		return true;
	}

	private static function dbdelta( $table_short, $sql ) {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		do_action( 'action_scheduler_before_schema_update', $table_short, get_option( Contract::SCHEMA_STORE_OPTION ) );
		$full    = $wpdb->prefix . $table_short;
		$existed = $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $full ) ) ) === $full;
		dbDelta( $sql );
		if ( $wpdb->last_error ) {
			self::$last_error = $wpdb->last_error;
		}
		if ( ! $existed ) {
			do_action( 'action_scheduler/created_table', $full, $table_short );
		}
	}

	/**
	 * The library's CREATE TABLE statement for one of the four tables (by its name without prefix), or '' for any
	 * other: what dbDelta() gets here and from ActionScheduler_StoreSchema / _LoggerSchema::get_table_definition().
	 */
	public static function definition( $table_short ) {
		global $wpdb;
		$c        = $wpdb->get_charset_collate();
		$max      = 191;
		$hook_len = $max - 20 - 8;
		$p        = $wpdb->prefix;
		switch ( $table_short ) {
			case 'actionscheduler_actions':
				return "CREATE TABLE {$p}actionscheduler_actions (
				action_id bigint(20) unsigned NOT NULL auto_increment,
				hook varchar(191) NOT NULL,
				status varchar(20) NOT NULL,
				scheduled_date_gmt datetime NULL default '0000-00-00 00:00:00',
				scheduled_date_local datetime NULL default '0000-00-00 00:00:00',
				priority tinyint unsigned NOT NULL default '10',
				args varchar($max),
				schedule longtext,
				group_id bigint(20) unsigned NOT NULL default '0',
				attempts int(11) NOT NULL default '0',
				last_attempt_gmt datetime NULL default '0000-00-00 00:00:00',
				last_attempt_local datetime NULL default '0000-00-00 00:00:00',
				claim_id bigint(20) unsigned NOT NULL default '0',
				extended_args varchar(8000) DEFAULT NULL,
				PRIMARY KEY  (action_id),
				KEY hook_status_scheduled_date_gmt (hook($hook_len), status, scheduled_date_gmt),
				KEY status_scheduled_date_gmt (status, scheduled_date_gmt),
				KEY scheduled_date_gmt (scheduled_date_gmt),
				KEY args (args($max)),
				KEY group_id (group_id),
				KEY last_attempt_gmt (last_attempt_gmt),
				KEY claim_id_status_scheduled_date_gmt (claim_id, status, scheduled_date_gmt)
			) $c";
			case 'actionscheduler_claims':
				return "CREATE TABLE {$p}actionscheduler_claims (
				claim_id bigint(20) unsigned NOT NULL auto_increment,
				date_created_gmt datetime NULL default '0000-00-00 00:00:00',
				PRIMARY KEY  (claim_id),
				KEY date_created_gmt (date_created_gmt)
			) $c";
			case 'actionscheduler_groups':
				return "CREATE TABLE {$p}actionscheduler_groups (
				group_id bigint(20) unsigned NOT NULL auto_increment,
				slug varchar(255) NOT NULL,
				PRIMARY KEY  (group_id),
				KEY slug (slug($max))
			) $c";
			case 'actionscheduler_logs':
				return "CREATE TABLE {$p}actionscheduler_logs (
				log_id bigint(20) unsigned NOT NULL auto_increment,
				action_id bigint(20) unsigned NOT NULL,
				message text NOT NULL,
				log_date_gmt datetime NULL default '0000-00-00 00:00:00',
				log_date_local datetime NULL default '0000-00-00 00:00:00',
				PRIMARY KEY  (log_id),
				KEY action_id (action_id),
				KEY log_date_gmt (log_date_gmt)
			) $c";
		}
		return '';
	}

	private static function update_store_schema() {
		$tables = array( 'actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups' );
		foreach ( $tables as $table ) {
			self::dbdelta( $table, self::definition( $table ) );
		}
		// The version moves only when what it promises is there (dbDelta reports no failure of its own).
		if ( ! self::missing_library_parts( $tables ) ) {
			update_option( Contract::SCHEMA_STORE_OPTION, Contract::SCHEMA_STORE_VERSION . '.0.' . time() );
		}
	}

	private static function update_logger_schema() {
		self::dbdelta( 'actionscheduler_logs', self::definition( 'actionscheduler_logs' ) );
		if ( ! self::missing_library_parts( array( 'actionscheduler_logs' ) ) ) {
			update_option( Contract::SCHEMA_LOGGER_OPTION, Contract::SCHEMA_LOGGER_VERSION . '.0.' . time() );
		}
	}

	/** missing() without our own indexes: the library's version options promise only the library's schema. */
	private static function missing_library_parts( array $tables ) {
		$own = array_map(
			function ( $index ) {
				return 'actionscheduler_actions.' . $index;
			},
			array_keys( self::own_indexes() )
		);
		return array_values( array_diff( self::missing( $tables ), $own ) );
	}

	private static function own_needs_update( $force ) {
		return $force || (int) get_option( Contract::SCHEMA_SIDECAR_OPTION, 0 ) < Contract::SCHEMA_SIDECAR_VERSION;
	}

	/**
	 * Our own tables and indexes (the library's dbDelta never drops an index it does not know), on the same terms as
	 * maybe_install(): from admin, WP-CLI, the worker or activation only, one process at a time, verified before the
	 * version option moves. Hooked on init in both modes (in companion mode the library owns its four tables).
	 */
	public static function maybe_install_own( $force = false ) {
		self::register_table_names();
		if ( ! self::own_needs_update( $force ) || ( ! $force && ( ! self::upgrade_context() || get_transient( 'sidecar_scheduler_schema_retry' ) ) ) ) {
			return;
		}
		if ( ! self::lock( $force ? 10 : 0 ) ) {
			return;
		}
		try {
			self::install_own( $force );
			// In companion mode the library makes its own tables (maybe later in this request): only judge them once
			// they exist.
			self::record( self::missing( array_merge( self::tables_exist() ? self::LIBRARY_TABLES : array(), self::OWN_TABLES ) ) );
		} finally {
			self::unlock();
		}
	}

	/** Our indexes on the library's actions table: name => columns. */
	private static function own_indexes() {
		return array(
			// The claim reads ~batch-size rows instead of every due row.
			'sidecar_claim'          => '(status, claim_id, priority, attempts, scheduled_date_gmt, action_id)',
			// Per-group pending/running counts and oldest due date for the admin screen, from the index alone.
			'sidecar_status_group'   => '(status, group_id, scheduled_date_gmt)',
			// The list filtered by group, newest first, reads 20 index entries instead of sorting the whole group.
			// Neither column changes after insert, so status updates never touch this index.
			'sidecar_group_date'     => '(group_id, scheduled_date_gmt)',
			// The cleaner's selection (a status, last attempt at or before a cut-off; the library's cleaner asks the
			// same) as one range of this index. Without it the maintenance pass read the last-attempt index from its
			// zero dates, where every never-run pending action sorts: 95,628 rows examined, 248 ms, for a chunk of 500
			// on a table with 95k pending actions; or the status index through every recent complete row once the
			// expired ones were gone. Schema 6.
			'sidecar_status_attempt' => '(status, last_attempt_gmt)',
		);
	}

	private static function own_definition( $table ) {
		global $wpdb;
		$c = $wpdb->get_charset_collate();
		$p = $wpdb->prefix;
		if ( Contract::TABLE_HEARTBEATS === $table ) {
			// One row per running sidecar (the Node process; "worker" is a PHP process it runs actions in).
			return "CREATE TABLE {$p}sidecar_heartbeats (
				sidecar_id varchar(100) NOT NULL,
				host varchar(191) NOT NULL default '',
				pid int(11) NOT NULL default '0',
				version varchar(40) NOT NULL default '',
				channel varchar(20) NOT NULL default '',
				concurrency int(11) NOT NULL default '0',
				started_gmt datetime NULL,
				last_seen_gmt datetime NULL,
				running longtext,
				PRIMARY KEY  (sidecar_id),
				KEY last_seen_gmt (last_seen_gmt)
			) $c";
		}
		return "CREATE TABLE {$p}sidecar_stats (
				minute_gmt datetime NOT NULL,
				group_slug varchar(191) NOT NULL default '',
				completed int(11) NOT NULL default '0',
				failed int(11) NOT NULL default '0',
				wait_ms_sum bigint(20) NOT NULL default '0',
				wait_ms_p50 int(11) NOT NULL default '0',
				wait_ms_p95 int(11) NOT NULL default '0',
				run_ms_sum bigint(20) NOT NULL default '0',
				PRIMARY KEY  (minute_gmt, group_slug)
			) $c";
	}

	/**
	 * Schema 5: the heartbeat table was {prefix}sidecar_workers with a worker_id column, though its rows are sidecars.
	 * It is renamed with its column in one ALTER TABLE, so its rows are kept and there is no moment with half of it
	 * done. When both tables exist (an earlier attempt's dbDelta made the new one), the old one goes: its rows are
	 * heartbeats, rewritten by every live sidecar within seconds. Caller holds the schema lock; what fails is recorded
	 * like a failed index, and the version option stays until the new table exists.
	 */
	private static function rename_heartbeat_table() {
		global $wpdb;
		$old    = $wpdb->prefix . 'sidecar_workers';
		$new    = $wpdb->prefix . Contract::TABLE_HEARTBEATS;
		$exists = function ( $table ) use ( $wpdb ) {
			return $table === $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $table ) ) );
		};
		if ( ! $exists( $old ) ) {
			return;
		}
		if ( $exists( $new ) ) {
			$done = $wpdb->query( "DROP TABLE {$old}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery, WordPress.DB.SchemaChange -- our own old table, named from $wpdb->prefix (identifiers cannot be placeholders).
		} else {
			$done = $wpdb->query( "ALTER TABLE {$old} CHANGE worker_id sidecar_id varchar(100) NOT NULL, RENAME TO {$new}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery, WordPress.DB.SchemaChange -- our own tables, named from $wpdb->prefix (identifiers cannot be placeholders).
		}
		if ( false === $done ) {
			self::$last_error = $wpdb->last_error;
		}
	}

	/** Creates our tables and indexes; the version option moves only when all of them exist. Caller holds the lock. */
	private static function install_own( $force ) {
		global $wpdb;
		if ( ! self::own_needs_update( $force ) ) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		self::rename_heartbeat_table();
		dbDelta( self::own_definition( Contract::TABLE_HEARTBEATS ) );
		dbDelta( self::own_definition( Contract::TABLE_STATS ) );
		if ( ! self::tables_exist() ) {
			return; // Companion mode before the library made its tables: the next run adds our indexes.
		}
		$p = $wpdb->prefix;
		foreach ( self::own_indexes() as $name => $columns ) {
			if ( ! $wpdb->get_var( $wpdb->prepare( "SHOW INDEX FROM {$p}actionscheduler_actions WHERE Key_name = %s", $name ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names from $wpdb->prefix and our constants (identifiers cannot be placeholders); every value is a placeholder.
				if ( false === $wpdb->query( "ALTER TABLE {$p}actionscheduler_actions ADD INDEX {$name} {$columns}" ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table and index names and column lists are our own constants (identifiers cannot be placeholders).
					self::$last_error = $wpdb->last_error;
				}
			}
		}
		if ( ! self::missing( self::OWN_TABLES ) && ! array_intersect(
			self::missing( array( 'actionscheduler_actions' ) ),
			array_map(
				function ( $i ) {
					return 'actionscheduler_actions.' . $i; },
				array_keys( self::own_indexes() )
			)
		) ) {
			update_option( Contract::SCHEMA_SIDECAR_OPTION, Contract::SCHEMA_SIDECAR_VERSION );
		}
	}

	/** Drops every table; only called from uninstall after the owner opted in and no other copy is present. */
	public static function drop_all() {
		global $wpdb;
		foreach ( array( 'actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups', 'actionscheduler_logs', 'sidecar_workers', Contract::TABLE_HEARTBEATS, Contract::TABLE_STATS ) as $table ) {
			$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}{$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names from $wpdb->prefix and the fixed list above.
		}
		delete_option( Contract::SCHEMA_STORE_OPTION );
		delete_option( Contract::SCHEMA_LOGGER_OPTION );
	}
}
