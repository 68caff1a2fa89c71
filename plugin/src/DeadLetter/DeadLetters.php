<?php
/**
 * Dead letters: actions that failed their last attempt under a retry policy. Listed with their hook, last error,
 * attempts and first and last failure; re-run (a fresh pending copy due now, whose own chain starts again with the
 * policy's retries) or discarded (taken off the list; the failed row stays, as the library keeps failed actions).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\DeadLetter;

use SidecarScheduler\Store\AttemptsTable;

defined( 'ABSPATH' ) || exit;

/**
 * Dead-letter operations, shared by REST and WP-CLI.
 */
final class DeadLetters {
	/** One call re-runs or discards at most this many, so one click cannot run for minutes. */
	const BULK_LIMIT = 1000;

	/**
	 * A page of dead letters.
	 *
	 * @param array $filter   hook, group.
	 * @param int   $page     From 1.
	 * @param int   $per_page Rows per page.
	 * @return array{total:int, items:array[]}
	 */
	public static function page( array $filter, $page = 1, $per_page = 20 ) {
		AttemptsTable::ensure();
		$per_page = max( 1, (int) $per_page );
		$result   = AttemptsTable::dead_letters( $filter, $per_page, ( max( 1, (int) $page ) - 1 ) * $per_page );
		return array(
			'total' => $result['total'],
			'items' => array_map( array( __CLASS__, 'item' ), $result['items'] ),
		);
	}

	/**
	 * A dead letter as REST and WP-CLI show it.
	 *
	 * @param object $row Attempts row joined with the action's status.
	 * @return array
	 */
	public static function item( $row ) {
		return array(
			'id'              => (int) $row->action_id,
			'originId'        => (int) $row->origin_id,
			'hook'            => (string) $row->hook,
			'group'           => (string) $row->group_slug,
			'attempts'        => (int) $row->attempt,
			'lastError'       => (string) $row->error,
			'firstFailureGmt' => (string) $row->first_failed_gmt,
			'lastFailureGmt'  => (string) $row->failed_gmt,
			'status'          => null === $row->status ? 'deleted' : (string) $row->status,
		);
	}

	/**
	 * Re-runs dead letters: each gets a pending copy due now (same hook, args, group, priority).
	 *
	 * @param array $filter hook, group, ids.
	 * @return array{matched:int, done:int, newIds:int[], errors:array[]}
	 */
	public static function rerun( array $filter ) {
		AttemptsTable::ensure();
		$rows   = AttemptsTable::dead_letters( $filter, self::BULK_LIMIT, 0 )['items'];
		$done   = 0;
		$new    = array();
		$errors = array();
		foreach ( $rows as $row ) {
			$id = (int) $row->action_id;
			try {
				$action = \ActionScheduler::store()->fetch_action( $id );
			} catch ( \Exception $e ) {
				$action = null;
			}
			if ( ! $action || $action instanceof \ActionScheduler_NullAction || ! $action->get_hook() ) {
				$errors[] = array(
					'id'      => $id,
					/* translators: %d: action ID */
					'message' => sprintf( __( 'Action %d can no longer be read (deleted?), so it cannot be re-run; discard it.', 'sidecar-scheduler' ), $id ),
				);
				continue;
			}
			// Taken first, then scheduled: an overlapping re-run of the same letter finds it taken and makes no copy.
			if ( ! AttemptsTable::take_dead( $id ) ) {
				continue;
			}
			$copy = as_schedule_single_action( time(), $action->get_hook(), $action->get_args(), (string) $action->get_group(), false, method_exists( $action, 'get_priority' ) ? $action->get_priority() : 10 );
			if ( ! $copy ) {
				AttemptsTable::mark_dead( $id ); // Back on the list: nothing was scheduled.
				$errors[] = array(
					'id'      => $id,
					/* translators: %d: action ID */
					'message' => sprintf( __( 'Action %d could not be scheduled again.', 'sidecar-scheduler' ), $id ),
				);
				continue;
			}
			AttemptsTable::set_next( $id, $copy, AttemptsTable::NEXT_RERUN );
			/* translators: 1: dead letter's action ID 2: attempts it had 3: first action ID */
			\ActionScheduler::logger()->log( $copy, sprintf( __( 're-run of dead letter: action %1$d, which failed %2$d attempts (first attempt: action %3$d)', 'sidecar-scheduler' ), $id, (int) $row->attempt, (int) $row->origin_id ) );
			$new[] = (int) $copy;
			++$done;
		}
		if ( $done ) {
			do_action( 'sidecar_scheduler_due_action_stored' );
		}
		return array(
			'matched' => count( $rows ),
			'done'    => $done,
			'newIds'  => $new,
			'errors'  => array_slice( $errors, 0, 50 ),
		);
	}

	/**
	 * Discards dead letters: off the list; the failed actions and their logs stay.
	 *
	 * @param array $filter hook, group, ids.
	 * @return array{matched:int, done:int}
	 */
	public static function discard( array $filter ) {
		AttemptsTable::ensure();
		$rows = AttemptsTable::dead_letters( $filter, self::BULK_LIMIT, 0 )['items'];
		foreach ( $rows as $row ) {
			AttemptsTable::set_next( (int) $row->action_id, 0, AttemptsTable::NEXT_DISCARDED );
		}
		return array(
			'matched' => count( $rows ),
			'done'    => count( $rows ),
		);
	}
}
