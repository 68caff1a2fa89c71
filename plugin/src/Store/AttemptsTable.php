<?php
/**
 * The table of failed attempts under a retry policy ({prefix}sidecar_attempts): one row per failed action, linking it to
 * the first action of its chain and to the copy scheduled after it; rows with no copy left are the dead letters.
 * All SQL of retries and dead letters lives here.
 *
 * Over 300 lines because every statement of one table is kept together: the writes that must stay consistent with
 * each other under the retry policy (record a failure, link its copy, withdraw it, mark a re-run or a discard, each
 * keyed the same way) and the dead-letter reads that depend on exactly those writes; split, each half would need the
 * other's row conventions.
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
	const VERSION        = '2';

	/** What happened after a failed attempt: a retry copy, a re-run from the dead letters, or a discard. */
	const NEXT_RETRY     = 'retry';
	const NEXT_RERUN     = 'rerun';
	const NEXT_DISCARDED = 'discarded';
	/** The failed attempt completed after all (a time limit failed it while it still ran): its copy was withdrawn. */
	const NEXT_SUPERSEDED = 'superseded';

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
		LazyTable::ensure(
			self::name(),
			self::VERSION_OPTION,
			self::VERSION,
			"				action_id bigint(20) unsigned NOT NULL,
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
				KEY dead_hook (dead, hook, failed_gmt),
				KEY undecided (next_kind, dead, failed_gmt)"
		);
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
	 * Takes a failed (or canceled) action for its one retry from the admin screen (the list's Retry, the Failing hooks
	 * card's "Retry N failed"): a dead letter is taken as a re-run takes it (conditional UPDATE); any other action by a
	 * conditional INSERT of its row (the primary key is the action), marked as re-run. Of two overlapping requests (two
	 * admins, a second click while the first still runs) exactly one gets it and schedules a copy; an action already
	 * retried, or whose retry policy is deciding or has made its copy, is not taken again.
	 *
	 * @param int    $action_id The failed action.
	 * @param string $hook      Its hook.
	 * @param string $group     Its group slug.
	 * @return string '' when not taken, 'dead' when a dead letter was taken, 'new' when a row was made.
	 */
	public static function take_for_retry( $action_id, $hook, $group ) {
		global $wpdb;
		if ( self::take_dead( $action_id ) ) {
			return 'dead';
		}
		$t   = self::name();
		$now = gmdate( 'Y-m-d H:i:s' );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; no WordPress API covers it.
		$n = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$t} (action_id, origin_id, attempt, max_attempts, hook, group_slug, error, failed_gmt, first_failed_gmt, next_kind) VALUES (%d, %d, 1, 1, %s, %s, '', %s, %s, %s)", $action_id, $action_id, $hook, $group, $now, $now, self::NEXT_RERUN ) );
		return 1 === (int) $n ? 'new' : '';
	}

	/**
	 * Gives back what take_for_retry() took when no copy could be scheduled (so a later retry can make one).
	 *
	 * @param int    $action_id The failed action.
	 * @param string $taken     What take_for_retry() returned.
	 * @return void
	 */
	public static function untake_retry( $action_id, $taken ) {
		global $wpdb;
		if ( 'dead' === $taken ) {
			self::mark_dead( $action_id );
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own custom table; no WordPress API covers it.
		$wpdb->delete(
			self::name(),
			array(
				'action_id' => (int) $action_id,
				'next_id'   => 0,
			)
		);
	}

	/**
	 * The copy already made for a failed action (by its policy, a re-run or an admin retry), 0 when none is recorded.
	 *
	 * @param int $action_id The failed action.
	 * @return int
	 */
	public static function copy_of( $action_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; no WordPress API covers it.
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT next_id FROM {$t} WHERE action_id = %d", $action_id ) );
	}

	/**
	 * Of $ids, those that are taken care of (a row that is no dead letter: retried, re-run, or its policy's business).
	 *
	 * @param int[] $ids Action IDs.
	 * @return int[]
	 */
	public static function handled_among( array $ids ) {
		global $wpdb;
		$ids = array_values( array_filter( array_map( 'intval', $ids ) ) );
		if ( ! $ids || self::VERSION !== get_option( self::VERSION_OPTION ) ) {
			return array();
		}
		$t    = self::name();
		$list = implode( ',', $ids );
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; integers only.
		return array_map( 'intval', (array) $wpdb->get_col( "SELECT action_id FROM {$t} WHERE dead = 0 AND action_id IN ({$list})" ) );
	}

	/**
	 * Takes a dead letter off the list for one re-run: a conditional UPDATE, so of two overlapping re-runs (two admins,
	 * a resent request) only one gets it and schedules a copy.
	 *
	 * @param int $action_id The dead letter.
	 * @return bool Whether this call took it.
	 */
	public static function take_dead( $action_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; no WordPress API covers it.
		return 1 === (int) $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET dead = 0, next_kind = %s, next_id = 0 WHERE action_id = %d AND dead = 1", self::NEXT_RERUN, $action_id ) );
	}

	/**
	 * The attempt row whose retry copy is $action_id's successor, if that copy is still pending and unclaimed.
	 *
	 * @param int $action_id A failed action that has now completed after all.
	 * @return int The copy's ID, or 0.
	 */
	public static function pending_copy_of( $action_id ) {
		global $wpdb;
		$t = self::name();
		$a = $wpdb->actionscheduler_actions;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table and the library's table name.
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT d.next_id FROM {$t} d JOIN {$a} a ON a.action_id = d.next_id WHERE d.action_id = %d AND d.next_kind = %s AND a.status = 'pending' AND a.claim_id = 0", $action_id, self::NEXT_RETRY ) );
	}

	/**
	 * Deletes a retry copy that never ran: only while it is still pending and unclaimed (one conditional DELETE, so a
	 * runner that claimed it a moment ago keeps it), with its log lines.
	 *
	 * @param int $copy_id The copy.
	 * @return bool Whether it was deleted.
	 */
	public static function withdraw_copy( $copy_id ) {
		global $wpdb;
		$a = $wpdb->actionscheduler_actions;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the library's table name.
		$gone = 1 === (int) $wpdb->query( $wpdb->prepare( "DELETE FROM {$a} WHERE action_id = %d AND status = 'pending' AND claim_id = 0", $copy_id ) );
		if ( $gone ) {
			$wpdb->delete( $wpdb->actionscheduler_logs, array( 'action_id' => (int) $copy_id ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- the library's logs of a row we just deleted.
		}
		return $gone;
	}

	/**
	 * Failed actions of a group, failed in the last $seconds, that have no attempt row yet: their failure is written
	 * but the failure hook that decides on a retry has not run (or not finished) yet.
	 *
	 * @param int $group_id Group ID.
	 * @param int $seconds  How far back.
	 * @return object[] action_id, hook.
	 */
	public static function undecided_in_group( $group_id, $seconds ) {
		global $wpdb;
		$t = self::name();
		$a = $wpdb->actionscheduler_actions;
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table and the library's table name.
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT a.action_id, a.hook FROM {$a} a LEFT JOIN {$t} d ON d.action_id = a.action_id WHERE a.group_id = %d AND a.status = 'failed' AND a.last_attempt_gmt >= UTC_TIMESTAMP() - INTERVAL %d SECOND AND (d.action_id IS NULL OR (d.next_kind = '' AND d.dead = 0))", $group_id, $seconds ) );
	}

	/**
	 * Recorded failures with no next step, older than $seconds (their process died before scheduling it).
	 *
	 * @param int $seconds Age.
	 * @param int $limit   Rows.
	 * @return object[]
	 */
	public static function undecided( $seconds, $limit ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; no WordPress API covers it.
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$t} WHERE next_kind = '' AND dead = 0 AND failed_gmt < UTC_TIMESTAMP() - INTERVAL %d SECOND ORDER BY failed_gmt LIMIT %d", $seconds, $limit ) );
	}

	/**
	 * Takes an undecided row for this process (conditional UPDATE: one process repairs each).
	 *
	 * @param int $action_id The failed action.
	 * @return bool
	 */
	public static function take_undecided( $action_id ) {
		global $wpdb;
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own custom table; no WordPress API covers it.
		return 1 === (int) $wpdb->query( $wpdb->prepare( "UPDATE {$t} SET next_kind = 'repairing' WHERE action_id = %d AND next_kind = '' AND dead = 0", $action_id ) );
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
	 * Dead letters recorded after a given attempt, per hook (the alerts' "new dead letters" condition). Action IDs
	 * only grow, so "after the highest ID seen" is "since the last look" without a clock.
	 *
	 * @param int $after_id Highest action ID already seen.
	 * @return object[] Rows of hook, n, max_id; empty when the table was never created.
	 */
	public static function dead_after( $after_id ) {
		global $wpdb;
		if ( self::VERSION !== get_option( self::VERSION_OPTION ) ) {
			return array();
		}
		$t = self::name();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- our own table name.
		return (array) $wpdb->get_results( $wpdb->prepare( "SELECT hook, COUNT(*) AS n, MAX(action_id) AS max_id FROM {$t} WHERE dead = 1 AND action_id > %d GROUP BY hook ORDER BY n DESC, hook", $after_id ) );
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
