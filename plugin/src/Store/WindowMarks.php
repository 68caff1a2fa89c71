<?php
/**
 * SQL of start windows (Runner\StartWindow): the rows a window marks in progress before their turn, the undo of a
 * mark, the check of which marks are still there, and the watcher's database connection, which the worker ends when
 * the watcher stops answering. Each write returns what wpdb::query() returned (rows changed, or false on an error).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- start marks on the queue's custom table under the worker's claim, and a server session of ours; no WordPress API covers them, and a cache would hand out rows other runners change.

/**
 * The marks of a start window and the watcher's connection.
 */
final class WindowMarks {

	/**
	 * Reads these rows and locks them (FOR UPDATE) until the caller's transaction ends.
	 *
	 * @param int[] $ids Action IDs (non-empty, integers).
	 * @return array|null Rows { action_id, status, claim_id, last_attempt_gmt, last_attempt_local }; null on an error.
	 */
	public static function lock( array $ids ) {
		global $wpdb;
		$in = implode( ',', array_map( 'intval', $ids ) );
		return $wpdb->get_results( "SELECT action_id, status, claim_id, last_attempt_gmt, last_attempt_local FROM {$wpdb->actionscheduler_actions} WHERE action_id IN ({$in}) FOR UPDATE" ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
	}

	/**
	 * Marks these rows in progress: attempts + 1 and the last attempt set to the window's time (no condition: the
	 * caller checked them under lock()).
	 *
	 * @param int[]  $ids   Action IDs (non-empty, integers).
	 * @param string $gmt   The window's time, 'Y-m-d H:i:s' UTC.
	 * @param string $local The same in the site's time zone.
	 * @return int|false Rows changed, false on a database error.
	 */
	public static function mark( array $ids, $gmt, $local ) {
		global $wpdb;
		$list = implode( ',', array_map( 'intval', $ids ) );
		return $wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET attempts = attempts + 1, status = %s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id IN ({$list})", Contract::STATUS_RUNNING, $gmt, $local ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
	}

	/**
	 * Which of these rows still carry the window's mark: in progress under the claim, with the window's time.
	 *
	 * @param int[]  $ids      Action IDs (non-empty, integers).
	 * @param int    $claim_id The window's claim.
	 * @param string $gmt      The window's time, 'Y-m-d H:i:s' UTC.
	 * @return int[]
	 */
	public static function still_marked( array $ids, $claim_id, $gmt ) {
		global $wpdb;
		return array_map( 'intval', (array) $wpdb->get_col( $wpdb->prepare( "SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE action_id IN (" . implode( ',', array_map( 'intval', $ids ) ) . ') AND status = %s AND claim_id = %d AND last_attempt_gmt = %s', Contract::STATUS_RUNNING, $claim_id, $gmt ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
	}

	/**
	 * Undoes one mark if the row still carries it (the window's time): attempts - 1 and the last attempt as before.
	 * With $unstart, only while it is also in progress under the claim, and then back to pending.
	 *
	 * @param int                         $action_id Action ID.
	 * @param array{0: string, 1: string} $before    Its last attempt gmt, local before the mark.
	 * @param int                         $claim_id  The window's claim.
	 * @param string                      $gmt       The window's time, 'Y-m-d H:i:s' UTC.
	 * @param bool                        $unstart   Also back to pending (the row still reads in progress).
	 * @return int|false Rows changed (1 when undone), false on a database error.
	 */
	public static function unmark( $action_id, $before, $claim_id, $gmt, $unstart ) {
		global $wpdb;
		$sql = $unstart
			? $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s, attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND status = %s AND claim_id = %d AND last_attempt_gmt = %s", Contract::STATUS_PENDING, $before[0], $before[1], $action_id, Contract::STATUS_RUNNING, $claim_id, $gmt )
			: $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d AND last_attempt_gmt = %s", $before[0], $before[1], $action_id, $gmt );
		return $wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL -- prepared above.
	}

	/**
	 * Ends a server connection by its ID (the watcher's). The server answers "unknown thread" for one that has ended
	 * already; the caller decides whether that error shows.
	 *
	 * @param int $thread Connection ID.
	 * @return int|false
	 */
	public static function kill_connection( $thread ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( 'KILL CONNECTION %d', $thread ) );
	}

	/**
	 * Whether the server still lists a connection (a killed one stays listed until its statement has rolled back).
	 *
	 * @param int $thread Connection ID.
	 * @return string|null The count ('0' or '1'), null on an error.
	 */
	public static function connection_listed( $thread ) {
		global $wpdb;
		return $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d', $thread ) );
	}
}
