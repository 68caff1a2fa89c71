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
 * Why the pass rests between chunks: what a delete costs the claims of a running sidecar is not the DELETE itself but
 * InnoDB's purge of it afterwards. A DELETE only marks the rows; the purge threads then remove each action's 13
 * index records (the actions table has 12 secondary indexes) and its logs' 9, in a burst after the chunk commits, on
 * as many threads as the server runs (4 by default), and a claim that meets the burst waits. Measured on two cores
 * and a 1M-row table (docs/benchmark-history.md): with purge held back by an open snapshot the deletes alone left
 * the claim's p99 where it was. After each full chunk the pass sleeps a multiple of the chunk's own time: 30 while
 * actions are due and waiting (the claims keep the database), 1 when the queue is idle (to catch up); filter
 * sidecar_scheduler_maintenance_rest_ratio (the default and whether actions wait; 0 for no rest, at most 100).
 * Why 30: under a full drain the shift follows the deletion rate, not the chunk's size. Per pair of windows (median,
 * 1M rows, 2026-12-04): resting 6 times moved the p99 +3 to +8 ms at 1,300-1,700 rows/s; 30 times +0.9 ms (95 %
 * interval -1.1 to +2.6) at 300 rows/s (26M rows a day, and the idle ratio catches up at several thousand a second);
 * 100 times +1.3 ms (pooled) at 140 rows/s.
 * Why chunks stay at 500 while the sidecar drains: smaller chunks make smaller bursts, and with no drain they moved
 * the p99 less (+9 ms for 500, about 0 for 25), but under a full drain chunks of 25 moved it as much (per pair of
 * windows +6.3 ms, against +3 to +4 for 500 in earlier runs) at less than half the rate (280 against 650 rows/s):
 * the drain's own updates keep purge busy, and the cleanup's share of it is the same at any chunk size.
 *
 * The SQL (chunks, locks, the session guard) is Store\MaintenanceChunks'.
 * On a store that is not the library's table store (a migration in progress, another plugin's store) the library's
 * own cleaner runs instead, as it always did.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\MaintenanceChunks;

defined( 'ABSPATH' ) || exit;

final class Maintenance {
	/** Rows per chunk (at least; the cleanup batch size filter may raise it, up to MAX_CHUNK). */
	const CHUNK     = 500;
	const MAX_CHUNK = 5000;
	/** Seconds one pass may take by default (filter sidecar_scheduler_maintenance_seconds). */
	const SECONDS = 10;
	/**
	 * After a full chunk, rest this many times as long as it took (filter sidecar_scheduler_maintenance_rest_ratio):
	 * BUSY_REST_RATIO while actions are due and waiting (the sidecar is draining: the claims keep the database),
	 * REST_RATIO otherwise.
	 */
	const REST_RATIO      = 1.0;
	const BUSY_REST_RATIO = 30.0;
	const MAX_REST_RATIO  = 100.0;

	private $deadline;
	/** @var MaintenanceChunks */
	private $chunks;
	private $rest_ratio = self::REST_RATIO;
	private $counts     = array(
		'deleted' => 0,
		'reset'   => 0,
		'failed'  => 0,
	);
	private $more       = false;
	/** Seconds the pass rested between chunks. */
	private $rested = 0.0;

	/**
	 * One pass. $time_limit is what the library's runners pass to its cleaner (ten times the runner's time limit): the
	 * default of the timeout and failure periods. Returns what it did and whether work is left ('more').
	 *
	 * @return array{deleted: int, reset: int, failed: int, more: bool, rested_ms?: int, chunk?: int}
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
		$pass             = new self();
		$seconds          = (float) apply_filters( 'sidecar_scheduler_maintenance_seconds', self::SECONDS );
		$pass->deadline   = microtime( true ) + max( 0.1, $seconds );
		$busy             = MaintenanceChunks::actions_waiting();
		$pass->rest_ratio = max( 0.0, min( self::MAX_REST_RATIO, (float) apply_filters( 'sidecar_scheduler_maintenance_rest_ratio', $busy ? self::BUSY_REST_RATIO : self::REST_RATIO, $busy ) ) );
		$batch            = absint( apply_filters( 'action_scheduler_cleanup_batch_size', $batch_size ) );
		$pass->chunks     = new MaintenanceChunks( min( self::MAX_CHUNK, max( self::CHUNK, $batch ) ) );
		// Old rows first, as the library's cleaner; they may take the whole budget on a backlog, so the resets and
		// failures, which matter for the queue moving, always get at least one chunk each after them.
		$pass->delete_old_actions( microtime( true ) + 0.7 * max( 0.1, $seconds ) );
		$pass->reset_timeouts( $time_limit );
		$pass->mark_failures( $time_limit );
		return $pass->counts + array(
			'more'      => $pass->more,
			'rested_ms' => (int) round( 1000 * $pass->rested ),
			'chunk'     => $pass->chunks->size(),
		);
	}

	/** When the step must stop: $until, within the pass's deadline. */
	private function end( $until = null ) {
		return null === $until ? $this->deadline : min( $until, $this->deadline );
	}

	private function time_left( $until = null ) {
		return microtime( true ) < $this->end( $until );
	}

	/** After a full chunk that took since $since: rest for REST_RATIO times as long, within what is left of $until. */
	private function rest( $since, $until = null ) {
		$now  = microtime( true );
		$rest = min( $this->rest_ratio * ( $now - $since ), $this->end( $until ) - $now );
		if ( $rest > 0.001 ) {
			usleep( (int) ( $rest * 1e6 ) );
			$this->rested += $rest;
		}
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
					$since              = microtime( true );
					list( $ids, $done ) = $this->chunks->delete_finished( (string) $status, $cutoff->format( 'Y-m-d H:i:s' ), $own_logs );
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
					$full                     = count( $done ) >= $this->chunks->size();
					if ( $full ) {
						$this->rest( $since, $until );
					}
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
			function () use ( $cutoff ) {
				return $this->chunks->reset_stale_claims( $cutoff );
			},
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
			function () use ( $cutoff ) {
				return $this->chunks->fail_stuck( $cutoff );
			},
			function ( $id ) use ( $timeout ) {
				do_action( 'action_scheduler_failed_action', (string) $id, $timeout );
			},
			'failed'
		);
	}

	/** Chunk by chunk (at least one, then while time is left): $chunk locks and writes and commits, then the hooks. */
	private function update_chunks( callable $chunk, callable $hook, $count ) {
		do {
			$since          = microtime( true );
			list( , $done ) = $chunk();
			if ( ! $done ) {
				return;
			}
			foreach ( $done as $id ) {
				$hook( $id );
			}
			$this->counts[ $count ] += count( $done );
			$full                    = count( $done ) >= $this->chunks->size();
			if ( $full ) {
				$this->rest( $since );
			}
		} while ( $full && $this->time_left() );
		if ( $full ) {
			$this->more = true;
		}
	}
}
