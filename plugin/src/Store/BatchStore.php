<?php
/**
 * SQL of batches: the {prefix}sidecar_batches table (one row per batch: name, hook, its group, total, status) and the
 * progress counts, read from the actions table by the batch's own group (indexed), so items need no writes of ours.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- our batches table and live counts from the queue's custom table; no WordPress API covers them, and progress must not come from a cache.

/**
 * The batches table and its queries.
 */
final class BatchStore {

	/** Option holding the table's schema version. */
	const SCHEMA_OPTION  = 'sidecar_scheduler_batch_schema';
	const SCHEMA_VERSION = 1;

	/** A batch is being enqueued: it cannot finish yet, though its first items may already run. */
	const ENQUEUING = 'enqueuing';
	const RUNNING   = 'running';
	/** Cancelled while items ran: it finishes (as canceled) once none is in progress. */
	const CANCELING = 'canceling';
	const COMPLETE  = 'complete';
	const CANCELED  = 'canceled';

	/**
	 * The table name.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'sidecar_batches';
	}

	/**
	 * Creates the table on first use (dbDelta; once per schema version).
	 */
	public static function install() {
		LazyTable::ensure(
			self::table(),
			self::SCHEMA_OPTION,
			self::SCHEMA_VERSION,
			"				batch_id bigint(20) unsigned NOT NULL auto_increment,
				name varchar(191) NOT NULL default '',
				hook varchar(191) NOT NULL default '',
				group_id bigint(20) unsigned NOT NULL default '0',
				group_slug varchar(255) NOT NULL default '',
				total int(11) NOT NULL default '0',
				status varchar(20) NOT NULL default 'enqueuing',
				created_gmt datetime NULL,
				finished_gmt datetime NULL,
				PRIMARY KEY  (batch_id),
				KEY status (status)"
		);
	}

	/**
	 * Inserts a batch row (status enqueuing).
	 *
	 * @param string $name Name.
	 * @param string $hook Item hook.
	 * @return int Batch ID, 0 on failure.
	 */
	public static function create( $name, $hook ) {
		global $wpdb;
		$ok = $wpdb->insert(
			self::table(),
			array(
				'name'        => $name,
				'hook'        => $hook,
				'status'      => self::ENQUEUING,
				'created_gmt' => gmdate( 'Y-m-d H:i:s' ),
			)
		);
		return $ok ? (int) $wpdb->insert_id : 0;
	}

	/**
	 * Records the batch's group and total, and lets it finish (enqueuing → running).
	 *
	 * @param int    $id         Batch ID.
	 * @param string $group_slug Its group.
	 * @param int    $group_id   The group's ID.
	 * @param int    $total      Items enqueued.
	 */
	public static function start( $id, $group_slug, $group_id, $total ) {
		global $wpdb;
		$wpdb->update(
			self::table(),
			array(
				'group_slug' => $group_slug,
				'group_id'   => (int) $group_id,
				'total'      => (int) $total,
				'status'     => self::RUNNING,
			),
			array( 'batch_id' => (int) $id )
		);
	}

	/**
	 * One batch row.
	 *
	 * @param int $id Batch ID.
	 * @return object|null
	 */
	public static function get( $id ) {
		global $wpdb;
		$table = self::table();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		return $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$table} WHERE batch_id = %d", $id ) );
	}

	/**
	 * The newest batches, unfinished first.
	 *
	 * @param int $limit How many.
	 * @return array
	 */
	public static function recent( $limit ) {
		global $wpdb;
		$table    = self::table();
		$suppress = $wpdb->suppress_errors( true );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$table} ORDER BY finished_gmt IS NULL DESC, batch_id DESC LIMIT %d", $limit ) );
		$wpdb->suppress_errors( $suppress );
		return (array) $rows;
	}

	/**
	 * Batches that may finish now (running or canceling). Our own table only: this runs after every claimed batch,
	 * and must not touch the actions table then (that would commit a worker's held-back writes early).
	 *
	 * @return array
	 */
	public static function unfinished() {
		global $wpdb;
		$table    = self::table();
		$suppress = $wpdb->suppress_errors( true );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT batch_id, group_id, status FROM {$table} WHERE status IN (%s, %s) LIMIT 100", self::RUNNING, self::CANCELING ) );
		$wpdb->suppress_errors( $suppress );
		return (array) $rows;
	}

	/**
	 * Item counts per status in the batch's group.
	 *
	 * @param int $group_id Group ID.
	 * @return array status => count
	 */
	public static function counts( $group_id ) {
		global $wpdb;
		$counts = array(
			'pending'     => 0,
			'in-progress' => 0,
			'complete'    => 0,
			'failed'      => 0,
			'canceled'    => 0,
		);
		if ( ! $group_id ) {
			return $counts;
		}
		$a   = $wpdb->prefix . 'actionscheduler_actions';
		$sql = $wpdb->prepare( "SELECT status, COUNT(*) AS n FROM {$a} WHERE group_id = %d GROUP BY status", $group_id ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the library's table name.
		if ( get_option( AttemptsTable::VERSION_OPTION ) ) {
			// Counted per item: a failed (or canceled) action that has a copy made for it (a policy's retry, a dead letter's re-run, a
			// retry from the admin; next_id set in the attempts table) counts through its copy, so an item that failed
			// once and then completed is one done item, and done + failed + canceled never exceed the total.
			$t   = AttemptsTable::name();
			$sql = $wpdb->prepare( "SELECT a.status, COUNT(*) AS n FROM {$a} a LEFT JOIN {$t} d ON d.action_id = a.action_id AND d.next_id > 0 WHERE a.group_id = %d AND ( a.status NOT IN ('failed', 'canceled') OR d.action_id IS NULL ) GROUP BY a.status", $group_id ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own and the library's table names.
		}
		foreach ( (array) $wpdb->get_results( $sql ) as $row ) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared just above.
			$counts[ $row->status ] = (int) $row->n;
		}
		return $counts;
	}

	/**
	 * Whether any item of the group still waits or runs (the status/group index; stops at the first).
	 *
	 * @param int $group_id Group ID.
	 * @return bool
	 */
	public static function has_open_items( $group_id ) {
		global $wpdb;
		$a = $wpdb->prefix . 'actionscheduler_actions';
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		return (bool) $wpdb->get_var( $wpdb->prepare( "SELECT 1 FROM {$a} WHERE status IN ('pending', 'in-progress') AND group_id = %d LIMIT 1", $group_id ) );
	}

	/**
	 * Marks the batch finished, if it still is running or canceling. The conditional UPDATE is the once-only gate:
	 * several processes (workers of two sidecars, WP-Cron) may see the last item end at the same moment, and the row
	 * lock lets exactly one of them change the row; only that one fires the completion hook.
	 *
	 * @param int $id Batch ID.
	 * @return bool True for the one caller that finished it.
	 */
	public static function finish( $id ) {
		global $wpdb;
		$table = self::table();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		$n = $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET status = IF(status = %s, %s, %s), finished_gmt = %s WHERE batch_id = %d AND status IN (%s, %s)", self::CANCELING, self::CANCELED, self::COMPLETE, gmdate( 'Y-m-d H:i:s' ), $id, self::RUNNING, self::CANCELING ) );
		return 1 === (int) $n;
	}

	/**
	 * Running → canceling (a batch still enqueuing or finished is not changed).
	 *
	 * @param int $id Batch ID.
	 * @return bool Whether it changed.
	 */
	public static function mark_canceling( $id ) {
		global $wpdb;
		$table = self::table();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		return 1 === (int) $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET status = %s WHERE batch_id = %d AND status = %s", self::CANCELING, $id, self::RUNNING ) );
	}

	/**
	 * A group's ID by its slug (0 when it has none yet).
	 *
	 * @param string $slug Group slug.
	 * @return int
	 */
	public static function group_id( $slug ) {
		global $wpdb;
		$g = $wpdb->prefix . 'actionscheduler_groups';
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table.
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT group_id FROM {$g} WHERE slug = %s ORDER BY group_id LIMIT 1", $slug ) );
	}
}
