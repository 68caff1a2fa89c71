<?php
/**
 * The table of failed attempts under a retry policy ({prefix}sidecar_attempts): one row per failed action, linking it to
 * the first action of its chain and to the copy scheduled after it; rows with no copy left are the dead letters.
 * All SQL of retries and dead letters lives here.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;

/**
 * Schema and queries of {prefix}sidecar_attempts.
 */
final class AttemptsTable {
	const VERSION_OPTION = 'sidecar_scheduler_attempts_schema';
	const VERSION        = '1';

	/** What happened after a failed attempt: a retry copy, a re-run from the dead letters, or a discard. */
	const NEXT_RETRY     = 'retry';
	const NEXT_RERUN     = 'rerun';
	const NEXT_DISCARDED = 'discarded';

	/**
	 * The table's name for this site.
	 *
	 * @return string
	 */
	public static function name() {
		global $wpdb;
		return $wpdb->prefix . 'sidecar_attempts';
	}

	/**
	 * Creates the table when its version option is behind. Only called once a retry policy exists (a failure to
	 * record, or the admin/CLI views), so a site without policies never gets the table or the option.
	 *
	 * @return void
	 */
	public static function ensure() {
		global $wpdb;
		if ( self::VERSION === get_option( self::VERSION_OPTION ) ) {
			return;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$t = self::name();
		$c = $wpdb->get_charset_collate();
		dbDelta(
			"CREATE TABLE {$t} (
				action_id bigint(20) unsigned NOT NULL,
				origin_id bigint(20) unsigned NOT NULL,
				attempt int(10) unsigned NOT NULL default '1',
				max_attempts int(10) unsigned NOT NULL default '1',
				hook varchar(191) NOT NULL,
				group_slug varchar(255) NOT NULL default '',
				error text NULL,
				failed_gmt datetime NOT NULL,
				first_failed_gmt datetime NOT NULL,
				delay_seconds int(10) unsigned NOT NULL default '0',
				next_id bigint(20) unsigned NOT NULL default '0',
				next_kind varchar(20) NOT NULL default '',
				dead tinyint(1) NOT NULL default '0',
				PRIMARY KEY  (action_id),
				KEY next_id (next_id),
				KEY origin_id (origin_id),
				KEY dead_hook (dead, hook, failed_gmt)
			) {$c}"
		);
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL -- our own table name.
		if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $t ) ) ) === $t ) {
			update_option( self::VERSION_OPTION, self::VERSION, true );
		}
	}

	/**
	 * The attempt that scheduled $action_id as its retry copy, if any.
	 *
	 * @param int $action_id Action ID of a copy.
	 * @return object|null Row with origin_id, attempt, first_failed_gmt.
	 */
	public static function previous_of( $action_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		return $wpdb->get_row( $wpdb->prepare( "SELECT origin_id, attempt, first_failed_gmt FROM {$t} WHERE next_id = %d AND next_kind = %s LIMIT 1", $action_id, self::NEXT_RETRY ) );
	}

	/**
	 * Records a failed attempt once: the primary key makes a second report of the same failure (the dying worker's
	 * monitor and the sidecar's fail request, say) a no-op, so at most one copy is ever scheduled per failure.
	 *
	 * @param array $row Column => value.
	 * @return bool True when this call recorded it.
	 */
	public static function record( array $row ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		$done = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$t} (action_id, origin_id, attempt, max_attempts, hook, group_slug, error, failed_gmt, first_failed_gmt) VALUES (%d, %d, %d, %d, %s, %s, %s, %s, %s)", $row['action_id'], $row['origin_id'], $row['attempt'], $row['max_attempts'], $row['hook'], $row['group_slug'], $row['error'], $row['failed_gmt'], $row['first_failed_gmt'] ) );
		return 1 === (int) $done;
	}

	/**
	 * Says what followed a failed attempt.
	 *
	 * @param int    $action_id The failed action.
	 * @param int    $next_id   The copy scheduled (0 for none).
	 * @param string $kind      One of the NEXT_* constants.
	 * @param int    $delay     Seconds between the failure and the copy's scheduled date.
	 * @return void
	 */
	public static function set_next( $action_id, $next_id, $kind, $delay = 0 ) {
		global $wpdb;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own custom table; no WordPress API covers it.
		$wpdb->update(
			self::name(),
			array(
				'next_id'       => (int) $next_id,
				'next_kind'     => $kind,
				'delay_seconds' => (int) $delay,
				'dead'          => 0,
			),
			array( 'action_id' => (int) $action_id )
		);
	}

	/**
	 * Marks a failed attempt as the last one: a dead letter.
	 *
	 * @param int $action_id The failed action.
	 * @return void
	 */
	public static function mark_dead( $action_id ) {
		global $wpdb;
		$wpdb->update( self::name(), array( 'dead' => 1 ), array( 'action_id' => (int) $action_id ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own custom table; no WordPress API covers it.
	}

	/**
	 * WHERE clause of a dead-letter filter.
	 *
	 * @param array $filter hook, group (exact), ids (int[]).
	 * @return string Prepared SQL after WHERE.
	 */
	private static function where( array $filter ) {
		global $wpdb;
		$sql = 'd.dead = 1';
		if ( ! empty( $filter['hook'] ) ) {
			$sql .= $wpdb->prepare( ' AND d.hook = %s', $filter['hook'] );
		}
		if ( ! empty( $filter['group'] ) ) {
			$sql .= $wpdb->prepare( ' AND d.group_slug = %s', $filter['group'] );
		}
		if ( isset( $filter['ids'] ) ) {
			$ids  = array_filter( array_map( 'intval', (array) $filter['ids'] ) );
			$sql .= $ids ? ' AND d.action_id IN (' . implode( ',', $ids ) . ')' : ' AND 0 = 1';
		}
		return $sql;
	}

	/**
	 * Dead letters, newest failure first.
	 *
	 * @param array $filter   See where().
	 * @param int   $limit    Rows.
	 * @param int   $offset   Rows skipped.
	 * @return array{total:int, items:object[]}
	 */
	public static function dead_letters( array $filter, $limit = 50, $offset = 0 ) {
		global $wpdb;
		$t     = self::name();
		$a     = $wpdb->actionscheduler_actions;
		$where = self::where( $filter );
		// phpcs:disable WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL -- table names are ours, $where is prepared.
		$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$t} d WHERE {$where}" );
		$items = $wpdb->get_results( $wpdb->prepare( "SELECT d.*, a.status FROM {$t} d LEFT JOIN {$a} a ON a.action_id = d.action_id WHERE {$where} ORDER BY d.failed_gmt DESC, d.action_id DESC LIMIT %d OFFSET %d", $limit, $offset ) );
		// phpcs:enable
		return array(
			'total' => $total,
			'items' => (array) $items,
		);
	}

	/**
	 * The attempts of one chain, in order.
	 *
	 * @param int $origin_id The chain's first action.
	 * @return object[]
	 */
	public static function chain( $origin_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$t} WHERE origin_id = %d ORDER BY attempt, action_id", $origin_id ) );
	}

	/**
	 * One attempt row.
	 *
	 * @param int $action_id Action ID.
	 * @return object|null
	 */
	public static function get( $action_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		return $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$t} WHERE action_id = %d", $action_id ) );
	}

	/**
	 * Drops the table and its option (uninstall).
	 *
	 * @return void
	 */
	public static function drop() {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::name() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared, WordPress.DB.DirectDatabaseQuery -- our own table's name from $wpdb->prefix; no WordPress API drops tables.
		delete_option( self::VERSION_OPTION );
	}
}
