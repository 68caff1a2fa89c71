<?php
/**
 * SQL of the maintenance pass (Runner\Maintenance): one chunk of old finished actions deleted with their logs, one
 * chunk of stale claims reset, one chunk of actions stuck in progress failed. Runner\Maintenance decides what to
 * clean, for how long, and fires the library's hooks; this class only locks and writes rows.
 *
 * Each chunk is one short READ COMMITTED transaction (no gap locks: a chunk of old rows never blocks an insert of a
 * new action, whose last attempt date is zero and so sorts among them): lock up to a chunk of rows that qualify,
 * write them with one statement (one more for their logs), commit.
 *
 * Why every write repeats the conditions and a session guard, and counts rows: the rows are locked by the SELECT
 * only on this connection. wpdb reconnects by itself after "server has gone away" and sends the statement again on a
 * fresh connection, in autocommit, with none of those locks: a write by ID alone then changed rows that changed
 * meanwhile (failed an action that had just completed, unclaimed one claimed anew). The conditions keep such a row
 * out; the guard (a user variable set on this connection, unknown to a fresh one) makes a write sent anywhere else
 * change nothing at all, so whatever is committed was done under the locks, and the COMMIT counts only on the
 * connection object that took them (a COMMIT resent after a reconnect succeeds with nothing to commit).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- set-based writes on the queue's custom tables under row locks in short transactions; no WordPress API does that, and a cache would hand out rows another runner has changed.
// phpcs:disable WordPress.DB.PreparedSQL -- every value is prepared or an integer list; table names come from $wpdb.

/**
 * Chunks of the maintenance pass, each committed on its own.
 */
final class MaintenanceChunks {

	/** Rows per chunk. */
	private $size;
	/** The current chunk's session guard (see the file's header). */
	private $token = '';

	/**
	 * @param int $size Rows per chunk.
	 */
	public function __construct( $size ) {
		$this->size = max( 1, (int) $size );
	}

	/** Rows per chunk. */
	public function size() {
		return $this->size;
	}

	/**
	 * Whether an action is due and waiting (pending, scheduled at or before now): the sidecar is draining, and the
	 * pass should leave the database to its claims. One row of the status index.
	 */
	public static function actions_waiting() {
		global $wpdb;
		return null !== $wpdb->get_var( $wpdb->prepare( "SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE status = %s AND scheduled_date_gmt <= %s LIMIT 1", Contract::STATUS_PENDING, gmdate( 'Y-m-d H:i:s' ) ) );
	}

	/**
	 * Deletes up to one chunk of actions with this status and a last attempt at or before $cutoff, then (with
	 * $with_logs) their logs, only once every locked row is gone, so no action keeps a row without its logs.
	 *
	 * @return array{0: int[], 1: int[]|null} The IDs locked, and those deleted, or null when nothing was committed.
	 */
	public function delete_finished( $status, $cutoff, $with_logs ) {
		return $this->chunk(
			$status,
			$cutoff,
			'',
			function ( $id_list, $conditions, $count ) use ( $with_logs ) {
				global $wpdb;
				return $count === $wpdb->query( "DELETE FROM {$wpdb->actionscheduler_actions} WHERE action_id IN ({$id_list}){$conditions}" )
					&& ( ! $with_logs || false !== $wpdb->query( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id IN ({$id_list})" . $this->guard() ) );
			}
		);
	}

	/**
	 * Unclaims up to one chunk of pending actions whose claim is older than $cutoff (their last attempt, as the
	 * library's cleaner selects them).
	 *
	 * @return array{0: int[], 1: int[]|null} See delete_finished().
	 */
	public function reset_stale_claims( $cutoff ) {
		return $this->update( Contract::STATUS_PENDING, $cutoff, ' AND claim_id != 0', 'claim_id = 0' );
	}

	/**
	 * Fails up to one chunk of actions in progress since before $cutoff.
	 *
	 * @return array{0: int[], 1: int[]|null} See delete_finished().
	 */
	public function fail_stuck( $cutoff ) {
		global $wpdb;
		return $this->update( Contract::STATUS_RUNNING, $cutoff, '', $wpdb->prepare( 'status = %s', Contract::STATUS_FAILED ) );
	}

	/** One chunk: lock, UPDATE what still qualifies (exactly the locked rows, or nothing is committed). */
	private function update( $status, $cutoff, $where, $set ) {
		return $this->chunk(
			$status,
			$cutoff,
			$where,
			function ( $id_list, $conditions, $locked ) use ( $set ) {
				global $wpdb;
				return $locked === $wpdb->query( "UPDATE {$wpdb->actionscheduler_actions} SET {$set} WHERE action_id IN ({$id_list}){$conditions}" );
			}
		);
	}

	/**
	 * One chunk in one transaction (see the file's header). $write gets the locked IDs as a list, the conditions to
	 * repeat in each of its statements' WHERE, and how many rows were locked; it returns true only if each statement
	 * changed exactly the locked rows.
	 *
	 * @return array{0: int[], 1: int[]|null}
	 */
	private function chunk( $status, $cutoff, $where, callable $write ) {
		global $wpdb;
		$wpdb->query( 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED' ); // the next transaction only
		$connection  = $wpdb->dbh;
		$this->token = bin2hex( random_bytes( 10 ) );
		$wpdb->query( $wpdb->prepare( 'SET @sidecar_scheduler_chunk = %s', $this->token ) );
		$wpdb->query( 'START TRANSACTION' );
		$ids = $this->lock( $status, $cutoff, $where );
		$ok  = ! $ids || $write( implode( ',', $ids ), ' AND ' . $this->conditions( $status, $cutoff, $where ) . $this->guard(), count( $ids ) );
		if ( $ok && false !== $wpdb->query( 'COMMIT' ) && null !== $connection && $wpdb->dbh === $connection ) {
			return array( $ids, $ids );
		}
		$wpdb->query( 'ROLLBACK' );
		return array( $ids, null );
	}

	/** The WHERE fragment of a row this pass may change: the library's selection for the step. */
	private function conditions( $status, $cutoff, $where ) {
		global $wpdb;
		return $wpdb->prepare( 'status = %s AND last_attempt_gmt <= %s', $status, $cutoff ) . $where;
	}

	/** True only on the connection where this chunk set its token: a fresh connection has no such variable. */
	private function guard() {
		global $wpdb;
		return $wpdb->prepare( ' AND @sidecar_scheduler_chunk = %s', $this->token );
	}

	/**
	 * Up to one chunk of IDs that qualify, locked. The candidates come from a plain read, which locks nothing (the
	 * range it scans may pass pending rows that claimers are locking: a locking scan there deadlocked with them);
	 * inside the chunk's transaction they are then locked by primary key with the conditions checked again, so only
	 * rows this pass will change are locked, until it commits, and a row that changed meanwhile is left out.
	 *
	 * @return int[]
	 */
	private function lock( $status, $cutoff, $where ) {
		global $wpdb;
		$a          = $wpdb->actionscheduler_actions;
		$conditions = $this->conditions( $status, $cutoff, $where );
		$ids        = array_map( 'intval', (array) $wpdb->get_col( "SELECT action_id FROM {$a} WHERE {$conditions} LIMIT " . (int) $this->size ) );
		if ( ! $ids ) {
			return $ids;
		}
		return array_map( 'intval', (array) $wpdb->get_col( "SELECT action_id FROM {$a} WHERE action_id IN (" . implode( ',', $ids ) . ") AND {$conditions} FOR UPDATE" ) );
	}
}
