<?php
/**
 * SQL of the worker's own writes to the actions table: an action's start (a compare-and-set on status and claim),
 * the undo of a start whose callback never ran, completions, and the sidecar's "settle" and "fail" of an action its
 * worker could not finish; with the reads of one row those decisions need. Each statement touches only the rows its
 * WHERE names, and each write returns what wpdb::query() returned (rows changed, or false on an error): the callers
 * tell "not ours any more" (0) from "the database failed" (false), so neither is turned into the other here.
 *
 * The transactions around these statements, and what a lost connection means for them, are the callers'
 * (Runner\CommitPipeline, Runner\Worker, Runner\StartGuard).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the worker's compare-and-set writes to the queue's custom table and its reads of rows as they are now; no WordPress API covers them, and a cache would hand out rows other runners change.

/**
 * The actions table as the worker starts and settles its rows.
 */
final class RunnerRows {

	/**
	 * Starts an action: attempts + 1, in progress, the last attempt now. With $claim_id, only while the row is still
	 * pending under that claim (the compare-and-set); without, the library's plain start.
	 *
	 * @param int    $action_id Action ID.
	 * @param string $gmt       Start time, 'Y-m-d H:i:s' UTC.
	 * @param string $local     The same in the site's time zone.
	 * @param int    $claim_id  The claim the row must still be pending under (0: no check).
	 * @return int|false Rows changed (1 when it started), false on a database error.
	 */
	public static function start( $action_id, $gmt, $local, $claim_id ) {
		global $wpdb;
		$cas = $claim_id ? $wpdb->prepare( ' AND status = %s AND claim_id = %d', Contract::STATUS_PENDING, $claim_id ) : '';
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET attempts = attempts + 1, status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d", Contract::STATUS_RUNNING, $gmt, $local, $action_id ) . $cas ); // phpcs:ignore WordPress.DB.PreparedSQL -- both parts prepared.
	}

	/**
	 * The previous action's completion and an action's start in one UPDATE of both rows. With $claim_id, the start's
	 * row changes only while it is still pending under that claim (the completed row changes regardless).
	 *
	 * @param int    $prev_id   The action that completed.
	 * @param string $prev_gmt  Its completion time, 'Y-m-d H:i:s' UTC.
	 * @param string $prev_local The same in the site's time zone.
	 * @param int    $action_id The action that starts.
	 * @param string $gmt       Its start time, 'Y-m-d H:i:s' UTC.
	 * @param string $local     The same in the site's time zone.
	 * @param int    $claim_id  The claim the started row must still be pending under (0: no check).
	 * @return int|false Rows changed (2 when both changed), false on a database error.
	 */
	public static function complete_and_start( $prev_id, $prev_gmt, $prev_local, $action_id, $gmt, $local, $claim_id ) {
		global $wpdb;
		return $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$wpdb->actionscheduler_actions} SET status = IF(action_id = %d, %s, %s), attempts = attempts + (action_id = %d), last_attempt_gmt = IF(action_id = %d, %s, %s), last_attempt_local = IF(action_id = %d, %s, %s) WHERE action_id IN (%d, %d)",
				$action_id,
				Contract::STATUS_RUNNING,
				Contract::STATUS_COMPLETE,
				$action_id,
				$action_id,
				$gmt,
				$prev_gmt,
				$action_id,
				$local,
				$prev_local,
				$action_id,
				$prev_id
			) . ( $claim_id ? $wpdb->prepare( ' AND (action_id = %d OR (status = %s AND claim_id = %d))', $prev_id, Contract::STATUS_PENDING, $claim_id ) : '' ) // phpcs:ignore WordPress.DB.PreparedSQL -- both parts prepared.
		);
	}

	/**
	 * Undoes a start that is still there: back to pending, attempts - 1, only while the row is in progress under the
	 * claim with that start's time (a later start, or another claim's, is left alone).
	 *
	 * @param int    $action_id Action ID.
	 * @param int    $claim_id  The claim that started it.
	 * @param string $gmt       The start's time, 'Y-m-d H:i:s' UTC.
	 * @return int|false Rows changed (1 when undone), false on a database error.
	 */
	public static function unstart( $action_id, $claim_id, $gmt ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, attempts = GREATEST(attempts, 1) - 1 WHERE action_id = %d AND status = %s AND claim_id = %d AND last_attempt_gmt = %s", Contract::STATUS_PENDING, $action_id, Contract::STATUS_RUNNING, $claim_id, $gmt ) );
	}

	/**
	 * Status and claim of one row, as they are now.
	 *
	 * @param int $action_id Action ID.
	 * @return object|null { status, claim_id }, null when the row is gone (or the read failed).
	 */
	public static function status_and_claim( $action_id ) {
		global $wpdb;
		return $wpdb->get_row( $wpdb->prepare( "SELECT status, claim_id FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d", $action_id ) );
	}

	/**
	 * The claim of one row, as it is now.
	 *
	 * @param int $action_id Action ID.
	 * @return object|null { claim_id }, null when the row is gone (or the read failed).
	 */
	public static function claim_of( $action_id ) {
		global $wpdb;
		return $wpdb->get_row( $wpdb->prepare( "SELECT claim_id FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d", $action_id ) );
	}

	/**
	 * Completions held back by the worker: complete, each with the time it was made. A row deleted while its action
	 * ran is simply not found.
	 *
	 * @param array<int, array{0: string, 1: string}> $held Action ID => completion time gmt, local (at least one).
	 * @return int|false Rows changed, false on a database error.
	 */
	public static function complete( array $held ) {
		global $wpdb;
		if ( 1 === count( $held ) ) {
			$id = (int) key( $held );
			return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d", Contract::STATUS_COMPLETE, $held[ $id ][0], $held[ $id ][1], $id ) );
		}
		$gmt   = '';
		$local = '';
		foreach ( $held as $id => $at ) {
			$gmt   .= $wpdb->prepare( ' WHEN %d THEN %s', $id, $at[0] );
			$local .= $wpdb->prepare( ' WHEN %d THEN %s', $id, $at[1] );
		}
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, last_attempt_gmt = CASE action_id{$gmt} END, last_attempt_local = CASE action_id{$local} END WHERE action_id IN (" . implode( ',', array_map( 'intval', array_keys( $held ) ) ) . ')', Contract::STATUS_COMPLETE ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- each part prepared above.
	}

	/**
	 * A completion a dead worker reported: complete with the reported time, only while the row is still in progress
	 * under that worker's claim.
	 *
	 * @param int    $action_id Action ID.
	 * @param int    $claim_id  The dead worker's claim.
	 * @param string $gmt       When the completion was made, 'Y-m-d H:i:s' UTC.
	 * @param string $local     The same in the site's time zone.
	 * @return int|false Rows changed, false on a database error.
	 */
	public static function settle_complete( $action_id, $claim_id, $gmt, $local ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND status = %s AND claim_id = %d", Contract::STATUS_COMPLETE, $gmt, $local, $action_id, Contract::STATUS_RUNNING, $claim_id ) );
	}

	/**
	 * A failure a dead worker reported: failed, only while the row is still in progress under that worker's claim.
	 *
	 * @param int $action_id Action ID.
	 * @param int $claim_id  The dead worker's claim.
	 * @return int|false Rows changed, false on a database error.
	 */
	public static function settle_failed( $action_id, $claim_id ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s WHERE action_id = %d AND status = %s AND claim_id = %d", Contract::STATUS_FAILED, $action_id, Contract::STATUS_RUNNING, $claim_id ) );
	}

	/**
	 * Fails a row only while it is in progress (and under $claim_id, when given).
	 *
	 * @param int $action_id Action ID.
	 * @param int $claim_id  The claim that ran it (0: any).
	 * @return int|false Rows changed, false on a database error.
	 */
	public static function fail_running( $action_id, $claim_id ) {
		global $wpdb;
		$claim = $claim_id ? $wpdb->prepare( ' AND claim_id = %d', $claim_id ) : '';
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s WHERE action_id = %d AND status = %s", Contract::STATUS_FAILED, $action_id, Contract::STATUS_RUNNING ) . $claim ); // phpcs:ignore WordPress.DB.PreparedSQL -- both parts prepared.
	}

	/**
	 * Whether any of these actions of a site (its table prefix: a network's site stores in its own tables) is pending
	 * and due now. At most one row is read.
	 *
	 * @param string $prefix The site's table prefix.
	 * @param int[]  $ids    Action IDs (non-empty, integers).
	 * @return string|null '1' when one is, null when none is (or the read failed).
	 */
	public static function any_due( $prefix, array $ids ) {
		global $wpdb;
		$table = $prefix . Contract::TABLE_ACTIONS;
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- table from the site's prefix, IDs are integers.
		return $wpdb->get_var( $wpdb->prepare( "SELECT 1 FROM {$table} WHERE action_id IN (" . implode( ',', array_map( 'intval', $ids ) ) . ') AND status = %s AND scheduled_date_gmt <= %s LIMIT 1', Contract::STATUS_PENDING, gmdate( 'Y-m-d H:i:s' ) ) );
	}
}
