<?php
/**
 * Creates the four actionscheduler tables with the library's exact DDL and schema options (so any copy of the
 * library reads and keeps them), plus our own index for the claim query and our two sidecar tables.
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class Schema {
	public static function register_table_names() {
		global $wpdb;
		foreach ( array( Contract::TABLE_ACTIONS, Contract::TABLE_CLAIMS, Contract::TABLE_GROUPS, Contract::TABLE_LOGS, Contract::TABLE_WORKERS, Contract::TABLE_STATS ) as $table ) {
			$wpdb->$table    = $wpdb->prefix . $table;
			$wpdb->tables[] = $table;
		}
		$wpdb->tables = array_unique( $wpdb->tables );
	}

	/** The stored option reads "7.0.<time>"; anything below the version we ship triggers dbDelta. */
	private static function needs_update( $option, $version ) {
		$stored = get_option( $option, 0 );
		return version_compare( (string) $stored, $version . '.0', '<' );
	}

	public static function maybe_install( $force = false ) {
		self::register_table_names();
		if ( $force || self::needs_update( Contract::SCHEMA_STORE_OPTION, Contract::SCHEMA_STORE_VERSION ) ) {
			self::update_store_schema();
		}
		if ( $force || self::needs_update( Contract::SCHEMA_LOGGER_OPTION, Contract::SCHEMA_LOGGER_VERSION ) ) {
			self::update_logger_schema();
		}
		if ( $force || self::should_verify_tables() ) {
			if ( $force || ! self::tables_exist() ) {
				// A table was dropped behind the schema option's back: recreate it (the library does this from its
				// admin screen). Rows in the other tables are untouched.
				self::update_store_schema();
				self::update_logger_schema();
			}
			set_transient( 'sidecar_scheduler_tables_verified', 1, 10 * MINUTE_IN_SECONDS );
		}
		self::maybe_install_own( $force );
	}

	/** Only admin screens, WP-CLI and workers look (at most every 10 minutes): front-end requests never pay for it. */
	private static function should_verify_tables() {
		$context = ( is_admin() && ! wp_doing_ajax() ) || ( defined( 'WP_CLI' ) && WP_CLI ) || ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER );
		return $context && ! get_transient( 'sidecar_scheduler_tables_verified' );
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
		if ( ! $existed ) {
			do_action( 'action_scheduler/created_table', $full, $table_short ); // phpcs:ignore WordPress.NamingConventions.ValidHookName
		}
	}

	private static function update_store_schema() {
		global $wpdb;
		$c   = $wpdb->get_charset_collate();
		$max = 191;
		$hook_len = $max - 20 - 8;
		$p   = $wpdb->prefix;
		self::dbdelta(
			'actionscheduler_actions',
			"CREATE TABLE {$p}actionscheduler_actions (
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
			) $c"
		);
		self::dbdelta(
			'actionscheduler_claims',
			"CREATE TABLE {$p}actionscheduler_claims (
				claim_id bigint(20) unsigned NOT NULL auto_increment,
				date_created_gmt datetime NULL default '0000-00-00 00:00:00',
				PRIMARY KEY  (claim_id),
				KEY date_created_gmt (date_created_gmt)
			) $c"
		);
		self::dbdelta(
			'actionscheduler_groups',
			"CREATE TABLE {$p}actionscheduler_groups (
				group_id bigint(20) unsigned NOT NULL auto_increment,
				slug varchar(255) NOT NULL,
				PRIMARY KEY  (group_id),
				KEY slug (slug($max))
			) $c"
		);
		update_option( Contract::SCHEMA_STORE_OPTION, Contract::SCHEMA_STORE_VERSION . '.0.' . time() );
	}

	private static function update_logger_schema() {
		global $wpdb;
		$c = $wpdb->get_charset_collate();
		$p = $wpdb->prefix;
		self::dbdelta(
			'actionscheduler_logs',
			"CREATE TABLE {$p}actionscheduler_logs (
				log_id bigint(20) unsigned NOT NULL auto_increment,
				action_id bigint(20) unsigned NOT NULL,
				message text NOT NULL,
				log_date_gmt datetime NULL default '0000-00-00 00:00:00',
				log_date_local datetime NULL default '0000-00-00 00:00:00',
				PRIMARY KEY  (log_id),
				KEY action_id (action_id),
				KEY log_date_gmt (log_date_gmt)
			) $c"
		);
		update_option( Contract::SCHEMA_LOGGER_OPTION, Contract::SCHEMA_LOGGER_VERSION . '.0.' . time() );
	}

	/**
	 * Our own tables and indexes (the library's dbDelta never drops an index it does not know).
	 */
	public static function maybe_install_own( $force = false ) {
		global $wpdb;
		self::register_table_names();
		if ( ! $force && (int) get_option( Contract::SCHEMA_SIDECAR_OPTION, 0 ) >= Contract::SCHEMA_SIDECAR_VERSION ) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$c = $wpdb->get_charset_collate();
		$p = $wpdb->prefix;
		dbDelta(
			"CREATE TABLE {$p}sidecar_workers (
				worker_id varchar(100) NOT NULL,
				host varchar(191) NOT NULL default '',
				pid int(11) NOT NULL default '0',
				version varchar(40) NOT NULL default '',
				channel varchar(20) NOT NULL default '',
				concurrency int(11) NOT NULL default '0',
				started_gmt datetime NULL,
				last_seen_gmt datetime NULL,
				running longtext,
				PRIMARY KEY  (worker_id),
				KEY last_seen_gmt (last_seen_gmt)
			) $c"
		);
		dbDelta(
			"CREATE TABLE {$p}sidecar_stats (
				minute_gmt datetime NOT NULL,
				group_slug varchar(191) NOT NULL default '',
				completed int(11) NOT NULL default '0',
				failed int(11) NOT NULL default '0',
				wait_ms_sum bigint(20) NOT NULL default '0',
				wait_ms_p50 int(11) NOT NULL default '0',
				wait_ms_p95 int(11) NOT NULL default '0',
				run_ms_sum bigint(20) NOT NULL default '0',
				PRIMARY KEY  (minute_gmt, group_slug)
			) $c"
		);
		if ( self::tables_exist() ) {
			$indexes = array(
				// The claim reads ~batch-size rows instead of every due row.
				'sidecar_claim'        => '(status, claim_id, priority, attempts, scheduled_date_gmt, action_id)',
				// Per-group pending/running counts and oldest due date for the admin screen, from the index alone.
				'sidecar_status_group' => '(status, group_id, scheduled_date_gmt)',
				// The list filtered by group, newest first, reads 20 index entries instead of sorting the whole group.
				// Neither column changes after insert, so status updates never touch this index.
				'sidecar_group_date'   => '(group_id, scheduled_date_gmt)',
			);
			foreach ( $indexes as $name => $columns ) {
				if ( ! $wpdb->get_var( $wpdb->prepare( "SHOW INDEX FROM {$p}actionscheduler_actions WHERE Key_name = %s", $name ) ) ) {
					$wpdb->query( "ALTER TABLE {$p}actionscheduler_actions ADD INDEX {$name} {$columns}" ); // phpcs:ignore WordPress.DB
				}
			}
			update_option( Contract::SCHEMA_SIDECAR_OPTION, Contract::SCHEMA_SIDECAR_VERSION );
		}
	}

	/** Drops every table; only called from uninstall after the owner opted in and no other copy is present. */
	public static function drop_all() {
		global $wpdb;
		foreach ( array( 'actionscheduler_actions', 'actionscheduler_claims', 'actionscheduler_groups', 'actionscheduler_logs', 'sidecar_workers', 'sidecar_stats' ) as $table ) {
			$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}{$table}" ); // phpcs:ignore WordPress.DB
		}
		delete_option( Contract::SCHEMA_STORE_OPTION );
		delete_option( Contract::SCHEMA_LOGGER_OPTION );
	}
}
