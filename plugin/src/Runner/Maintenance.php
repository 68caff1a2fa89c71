<?php
/**
 * The sidecar's maintenance pass (the worker's "clean" request), in both modes: what the library's cleaner does
 * (delete old finished actions with their logs, reset stale claims, fail actions stuck in progress), fast enough to
 * keep up with a sidecar that runs thousands of actions a second.
 *
 * The library's cleaner handles at most cleanup_batch_size (20) rows per status per run, one statement per row, about
 * 28,800 a day at one run a minute. Here each step works in chunks of up to a few hundred rows, set-based (one SELECT
 * that locks the chunk, one DELETE or UPDATE for all of it, one DELETE for their logs), each chunk its own short
 * READ COMMITTED transaction so no lock is held for long and nothing waits on a gap lock, and it keeps going until the
 * work is done or the pass's time budget is spent (then it says there is more, and the sidecar comes back soon).
 *
 * What keeps its meaning: the same filters (action_scheduler_retention_period, action_scheduler_default_cleaner_statuses,
 * action_scheduler_cleanup_batch_size, action_scheduler_timeout_period, action_scheduler_failure_period) with the same
 * defaults and the same row selection (status, last attempt at or before the cut-off, claimed for the reset), and
 * the same hooks per action, fired after its chunk committed: action_scheduler_deleted_action for each deleted action
 * (the logger's own listener, which would delete that action's logs one statement at a time, stands aside for the pass:
 * the logs went with the chunk), action_scheduler_reset_action, action_scheduler_failed_action with the period, and
 * action_scheduler_failed_old_action_deletion when a chunk could not be deleted. The batch size filter sets the
 * smallest chunk: a chunk is never smaller than it, and never smaller than CHUNK.
 *
 * On a store that is not the library's table store (a migration in progress, another plugin's store) the library's
 * own cleaner runs instead, as it always did.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- set-based writes on the queue's custom tables under row locks in short transactions; no WordPress API does that, and a cache would hand out rows another runner has changed.

final class Maintenance {
	/** Rows per chunk (at least; the cleanup batch size filter may raise it, up to MAX_CHUNK). */
	const CHUNK     = 500;
	const MAX_CHUNK = 5000;
	/** Seconds one pass may take by default (filter sidecar_scheduler_maintenance_seconds). */
	const SECONDS = 10;

	private $deadline;
	private $chunk;
	private $counts = array(
		'deleted' => 0,
		'reset'   => 0,
		'failed'  => 0,
	);
	private $more   = false;
	/** The current chunk's session guard (see chunk()). */
	private $token = '';

	/**
	 * One pass. $time_limit is what the library's runners pass to its cleaner (ten times the runner's time limit): the
	 * default of the timeout and failure periods. Returns what it did and whether work is left ('more').
	 *
	 * @return array{deleted: int, reset: int, failed: int, more: bool}
	 */
	public static function run( $time_limit, $batch_size = Contract::DEFAULT_CLEANUP_BATCH_SIZE ) {
		$store = \ActionScheduler::store();
		if ( ! $store instanceof \ActionScheduler_DBStore ) {
			( new \ActionScheduler_QueueCleaner( $store, $batch_size ) )->clean( $time_limit );
			return array(
				'deleted' => 0,
				'reset'   => 0,
				'failed'  => 0,
				'more'    => false,
			);
		}
		$pass           = new self();
		$seconds        = (float) apply_filters( 'sidecar_scheduler_maintenance_seconds', self::SECONDS );
		$pass->deadline = microtime( true ) + max( 0.1, $seconds );
		$batch          = absint( apply_filters( 'action_scheduler_cleanup_batch_size', $batch_size ) );
		$pass->chunk    = min( self::MAX_CHUNK, max( self::CHUNK, $batch ) );
		// Old rows first, as the library's cleaner; they may take the whole budget on a backlog, so the resets and
		// failures, which matter for the queue moving, always get at least one chunk each after them.
		$pass->delete_old_actions( microtime( true ) + 0.7 * max( 0.1, $seconds ) );
		$pass->reset_timeouts( $time_limit );
		$pass->mark_failures( $time_limit );
		return $pass->counts + array( 'more' => $pass->more );
	}

	private function time_left( $until = null ) {
		return microtime( true ) < ( null === $until ? $this->deadline : min( $until, $this->deadline ) );
	}

	private function delete_old_actions( $until ) {
		$lifespan = apply_filters( 'action_scheduler_retention_period', Contract::DEFAULT_RETENTION_PERIOD );
		try {
			$cutoff = as_get_datetime_object( $lifespan . ' seconds ago' );
		} catch ( \Exception $e ) {
			return; // The library reports this through _doing_it_wrong() from its own cleaner; nothing is deleted.
		}
		$statuses = (array) apply_filters( 'action_scheduler_default_cleaner_statuses', array( Contract::STATUS_COMPLETE, Contract::STATUS_CANCELED ) );
		if ( ! $statuses ) {
			$statuses = array( Contract::STATUS_COMPLETE, Contract::STATUS_CANCELED );
		}
		$lifespan = time() - $cutoff->getTimestamp();
		$logger   = \ActionScheduler::logger();
		$own_logs = $logger instanceof \ActionScheduler_DBLogger;
		$listener = array( $logger, 'clear_deleted_action_logs' );
		$removed  = $own_logs && remove_action( 'action_scheduler_deleted_action', $listener, 10 );
		try {
			foreach ( $statuses as $status ) {
				$full = false;
				do {
					list( $ids, $done ) = $this->chunk(
						(string) $status,
						$cutoff->format( 'Y-m-d H:i:s' ),
						'',
						function ( $id_list, $conditions, $count ) use ( $own_logs ) {
							global $wpdb;
							// The logs only once every locked row is gone, so no action keeps a row without its logs.
							return $count === $wpdb->query( "DELETE FROM {$wpdb->actionscheduler_actions} WHERE action_id IN ({$id_list}){$conditions}" ) // phpcs:ignore WordPress.DB.PreparedSQL -- integers and prepared conditions.
								&& ( ! $own_logs || false !== $wpdb->query( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id IN ({$id_list})" . $this->guard() ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers and prepared conditions.
						}
					);
					if ( null === $done ) {
						global $wpdb;
						$e = new \RuntimeException( $wpdb->last_error ? (string) $wpdb->last_error : 'The chunk was not committed: its connection was lost.' );
						foreach ( $ids as $id ) {
							do_action( 'action_scheduler_failed_old_action_deletion', (string) $id, $e, $lifespan, count( $ids ) );
						}
						$full = false;
						break;
					}
					foreach ( $done as $id ) {
						do_action( 'action_scheduler_deleted_action', (string) $id ); // A string, as the library's query gives it.
					}
					$this->counts['deleted'] += count( $done );
					$full                     = count( $done ) >= $this->chunk;
				} while ( $full && $this->time_left( $until ) );
				if ( $full && ! $this->time_left( $until ) ) {
					$this->more = true;
					break;
				}
			}
		} finally {
			if ( $removed ) {
				add_action( 'action_scheduler_deleted_action', $listener, 10, 1 );
			}
		}
	}

	/** Unclaims pending actions whose claim is older than the timeout period (a runner that died holding them). */
	private function reset_timeouts( $time_limit ) {
		$timeout = apply_filters( 'action_scheduler_timeout_period', $time_limit );
		if ( $timeout < 0 ) {
			return;
		}
		$cutoff = as_get_datetime_object( $timeout . ' seconds ago' )->format( 'Y-m-d H:i:s' );
		$this->update_chunks(
			Contract::STATUS_PENDING,
			$cutoff,
			' AND claim_id != 0',
			'claim_id = 0',
			function ( $id ) {
				do_action( 'action_scheduler_reset_action', (string) $id );
			},
			'reset'
		);
	}

	/** Fails actions in progress for longer than the failure period (a process that died in the callback). */
	private function mark_failures( $time_limit ) {
		$timeout = apply_filters( 'action_scheduler_failure_period', $time_limit );
		if ( $timeout < 0 ) {
			return;
		}
		$cutoff = as_get_datetime_object( $timeout . ' seconds ago' )->format( 'Y-m-d H:i:s' );
		$this->update_chunks(
			Contract::STATUS_RUNNING,
			$cutoff,
			'',
			$GLOBALS['wpdb']->prepare( 'status = %s', Contract::STATUS_FAILED ),
			function ( $id ) use ( $timeout ) {
				do_action( 'action_scheduler_failed_action', (string) $id, $timeout );
			},
			'failed'
		);
	}

	/** Chunk by chunk (at least one, then while time is left): lock, UPDATE what still qualifies, commit, then the hooks. */
	private function update_chunks( $status, $cutoff, $where, $set, callable $hook, $count ) {
		do {
			list( , $done ) = $this->chunk(
				$status,
				$cutoff,
				$where,
				function ( $id_list, $conditions, $locked ) use ( $set ) {
					global $wpdb;
					return $locked === $wpdb->query( "UPDATE {$wpdb->actionscheduler_actions} SET {$set} WHERE action_id IN ({$id_list}){$conditions}" ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers, a prepared SET and prepared conditions.
				}
			);
			if ( ! $done ) {
				return;
			}
			foreach ( $done as $id ) {
				$hook( $id );
			}
			$this->counts[ $count ] += count( $done );
			$full                    = count( $done ) >= $this->chunk;
		} while ( $full && $this->time_left() );
		if ( $full ) {
			$this->more = true;
		}
	}

	/**
	 * One chunk in one short READ COMMITTED transaction (no gap locks: a chunk of old rows never blocks an insert of a
	 * new action, whose last attempt date is zero and so sorts among them): lock up to a chunk of rows that qualify,
	 * $write them, commit. $write gets the locked IDs as a list, the conditions to repeat in each of its statements'
	 * WHERE, and how many rows were locked; it returns true only if each statement changed exactly the locked rows.
	 *
	 * Why every write repeats the conditions and a session guard, and counts rows: the rows are locked by the SELECT
	 * only on this connection. wpdb reconnects by itself after "server has gone away" and sends the statement again
	 * on a fresh connection, in autocommit, with none of those locks: a write by ID alone then changed rows that
	 * changed meanwhile (failed an action that had just completed, unclaimed one claimed anew). The conditions keep
	 * such a row out; the guard (a user variable set on this connection, unknown to a fresh one) makes a write sent
	 * anywhere else change nothing at all, so whatever is committed was done under the locks, and the COMMIT counts
	 * only on the connection object that took them (a COMMIT resent after a reconnect succeeds with nothing to commit).
	 *
	 * @return array{0: int[], 1: int[]|null} The IDs locked, and those changed (the hooks fire for these only), or
	 *                                         null when nothing was committed (a failed statement or a lost connection).
	 */
	private function chunk( $status, $cutoff, $where, callable $write ) {
		global $wpdb;
		$wpdb->query( 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED' ); // the next transaction only
		$connection  = $wpdb->dbh;
		$this->token = bin2hex( random_bytes( 10 ) );
		$wpdb->query( $wpdb->prepare( 'SET @sidecar_scheduler_chunk = %s', $this->token ) );
		$wpdb->query( 'START TRANSACTION' );
		$ids = $this->chunk_of( $status, $cutoff, $where );
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

	/** True only on the connection where this chunk set its token (see chunk()): a fresh connection has no such variable. */
	private function guard() {
		global $wpdb;
		return $wpdb->prepare( ' AND @sidecar_scheduler_chunk = %s', $this->token );
	}

	/**
	 * Up to one chunk of IDs with this status and a last attempt at or before the cut-off, as the library's cleaner
	 * selects them. The candidates come from a plain read, which locks nothing (the range it scans may pass pending
	 * rows that claimers are locking: a locking scan there deadlocked with them); inside the chunk's transaction
	 * they are then locked by primary key with the conditions checked again, so only rows this pass will change are
	 * locked, until it commits, and a row that changed meanwhile is left out.
	 *
	 * @return int[]
	 */
	private function chunk_of( $status, $cutoff, $where ) {
		global $wpdb;
		$a          = $wpdb->actionscheduler_actions;
		$conditions = $this->conditions( $status, $cutoff, $where );
		$ids        = array_map( 'intval', (array) $wpdb->get_col( "SELECT action_id FROM {$a} WHERE {$conditions} LIMIT " . (int) $this->chunk ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers and prepared conditions.
		if ( ! $ids ) {
			return $ids;
		}
		return array_map( 'intval', (array) $wpdb->get_col( "SELECT action_id FROM {$a} WHERE action_id IN (" . implode( ',', $ids ) . ") AND {$conditions} FOR UPDATE" ) ); // phpcs:ignore WordPress.DB.PreparedSQL -- integers and prepared conditions.
	}
}
