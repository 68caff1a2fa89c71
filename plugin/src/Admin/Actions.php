<?php
/**
 * The actions list, one action's detail, and the row/bulk operations (run now, cancel, retry, delete). "Run now" queues:
 * it makes the action due now and nudges the sidecar, it never runs a callback in the web request (queue_now()).
 *
 * It returns plain data and throws ActionError for a refused operation, and knows nothing of HTTP: the REST API
 * makes responses and errors of them. Its SQL is in Store\ActionRows.
 *
 * Over 300 lines because the list, the detail and the row and bulk operations share one filter builder and the
 * status guards of each operation.
 */

namespace SidecarScheduler\Admin;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\ActionRows;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.Security.EscapeOutput.ExceptionNotEscaped -- an ActionError's message is data, not output: the REST API returns it in JSON, and it is escaped wherever it is shown.

final class Actions {
	const BULK_LIMIT = 5000;
	/** "Run now" on a selection or a filter queues at most this many at once (one UPDATE per 500). */
	const BULK_RUN_LIMIT = 1000;

	/** Store query arguments for a filter; "past-due" is pending with a date up to now, as on the library's screen. */
	private static function query_for( array $f ) {
		$q      = array();
		$status = isset( $f['status'] ) ? $f['status'] : '';
		if ( 'past-due' === $status ) {
			$q['status'] = Contract::STATUS_PENDING;
			$q['date']   = as_get_datetime_object();
		} elseif ( $status ) {
			$q['status'] = $status;
		}
		foreach ( array( 'group', 'hook', 'search' ) as $k ) {
			if ( ! empty( $f[ $k ] ) ) {
				$q[ $k ] = $f[ $k ];
			}
		}
		return $q;
	}

	/** Seconds a search may scan before it is stopped (it reads every row: LIKE '%term%' cannot use an index). */
	const SEARCH_SECONDS = 0.2;
	/** Counting a filter's matches on a huge table can take longer than the page itself; past this, say "more". */
	const COUNT_SECONDS = 0.15;

	public static function page( array $p ) {
		$store    = \ActionScheduler::store();
		$q        = self::query_for( $p );
		$per_page = max( 1, (int) $p['per_page'] );
		$offset   = ( (int) $p['page'] - 1 ) * $per_page;
		$page_q   = $q + array(
			'per_page' => $per_page,
			'offset'   => $offset,
			'orderby'  => $p['orderby'],
			'order'    => strtoupper( $p['order'] ),
		);
		$capped   = ! empty( $q['search'] ) && method_exists( $store, 'query_actions_capped' );
		$exact    = true;
		if ( $capped ) {
			$ids = $store->query_actions_capped( $page_q, 'select', self::SEARCH_SECONDS );
			if ( null === $ids ) {
				return array(
					'total'          => 0,
					'totalPages'     => 0,
					'totalExact'     => false,
					'searchTimedOut' => true,
					'items'          => array(),
				);
			}
			$total = $store->query_actions_capped( $q, 'count', self::SEARCH_SECONDS / 2 );
			if ( null === $total ) {
				// Too many rows to count quickly: enough to page on, and the screen says "more".
				$exact = false;
				$total = $offset + count( $ids ) + ( count( $ids ) === $per_page ? $per_page : 0 );
			}
		} else {
			$ids   = $store->query_actions( $page_q );
			$total = method_exists( $store, 'query_actions_capped' ) ? $store->query_actions_capped( $q, 'count', self::COUNT_SECONDS ) : (int) $store->query_actions( $q, 'count' );
			if ( null === $total ) {
				$exact = false;
				$total = $offset + count( $ids ) + ( count( $ids ) === $per_page ? $per_page : 0 );
			}
		}
		return array(
			'total'          => (int) $total,
			'totalPages'     => (int) ceil( $total / $per_page ),
			'totalExact'     => $exact,
			'searchTimedOut' => false,
			'items'          => array_values( array_filter( array_map( array( __CLASS__, 'summary' ), $ids ) ) ),
		);
	}

	public static function summary( $id ) {
		$row = ActionRows::with_group_slug( $id );
		if ( ! $row ) {
			return null;
		}
		$args     = json_decode( $row->extended_args ? $row->extended_args : (string) $row->args, true );
		$schedule = @unserialize( (string) $row->schedule ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_unserialize,WordPress.PHP.NoSilencedErrors.Discouraged -- the library stores schedules serialized; a corrupt row is shown, not fatal.
		return array(
			'id'             => (int) $row->action_id,
			'hook'           => $row->hook,
			'status'         => $row->status,
			'args'           => is_array( $args ) ? $args : null,
			'argsRaw'        => $row->extended_args ? $row->extended_args : $row->args,
			'group'          => (string) $row->group_slug,
			'priority'       => (int) $row->priority,
			'attempts'       => (int) $row->attempts,
			'claimId'        => (int) $row->claim_id,
			'recurrence'     => self::recurrence( $schedule ),
			'async'          => $schedule instanceof \ActionScheduler_NullSchedule,
			'scheduledGmt'   => $row->scheduled_date_gmt,
			'lastAttemptGmt' => $row->last_attempt_gmt,
		);
	}

	private static function recurrence( $schedule ) {
		if ( ! is_object( $schedule ) || ! method_exists( $schedule, 'is_recurring' ) || ! $schedule->is_recurring() ) {
			return __( 'Non-repeating', 'sidecar-scheduler' );
		}
		$r = $schedule->get_recurrence();
		/* translators: %s: human readable interval */
		return is_numeric( $r ) ? sprintf( __( 'Every %s', 'sidecar-scheduler' ), human_time_diff( 0, (int) $r ) ) : (string) $r;
	}

	public static function detail( $id ) {
		$item = self::summary( $id );
		if ( ! $item ) {
			return null;
		}
		$item['logs'] = array_map(
			function ( $entry ) {
				return array(
					'dateGmt' => $entry->get_date()->format( 'Y-m-d H:i:s' ),
					'message' => $entry->get_message(),
				);
			},
			\ActionScheduler::logger()->get_logs( $id )
		);
		return $item;
	}

	/**
	 * Applies one operation (run, cancel, retry, delete) to one action.
	 *
	 * @return array What was done.
	 * @throws ActionError When the action does not exist, its state refuses $op, $op is unknown or the store failed.
	 */
	public static function apply( $op, $id ) {
		$store = \ActionScheduler::store();
		try {
			$status = $store->get_status( $id );
		} catch ( \Exception $e ) {
			throw ActionError::not_found( $id );
		}
		try {
			switch ( $op ) {
				case 'run':
					if ( Contract::STATUS_PENDING !== $status ) {
						throw self::conflict( $id, $status );
					}
					if ( ! self::queue_now( array( $id ) ) ) {
						throw self::conflict( $id, $store->get_status( $id ) );
					}
					return array(
						'id'     => $id,
						'status' => Contract::STATUS_PENDING,
						'queued' => true,
					);
				case 'cancel':
					if ( Contract::STATUS_PENDING !== $status ) {
						throw self::conflict( $id, $status );
					}
					$store->cancel_action( $id );
					return array(
						'id'     => $id,
						'status' => Contract::STATUS_CANCELED,
					);
				case 'retry':
					if ( Contract::STATUS_FAILED !== $status && Contract::STATUS_CANCELED !== $status ) {
						throw self::conflict( $id, $status );
					}
					$action = $store->fetch_action( $id );
					if ( $action instanceof \ActionScheduler_NullAction ) {
						throw new ActionError( 'sidecar_scheduler_unreadable', __( 'This action cannot be read, so it cannot be retried.', 'sidecar-scheduler' ), ActionError::CONFLICT );
					}
					// The failed row stays failed (the record of what happened), so without a mark a second click or a second
					// admin would copy it again: one failure run twice. The action is taken first, by a conditional write
					// keyed by its ID in the attempts table; only the request that took it schedules the copy.
					\SidecarScheduler\Store\AttemptsTable::ensure();
					$taken = \SidecarScheduler\Store\AttemptsTable::take_for_retry( $id, $action->get_hook(), (string) $action->get_group() );
					if ( '' === $taken ) {
						$copy = \SidecarScheduler\Store\AttemptsTable::copy_of( $id );
						throw new ActionError(
							'sidecar_scheduler_already_retried',
							$copy
								/* translators: 1: action ID 2: its copy's ID */
								? sprintf( __( 'Action %1$d was already retried (as action %2$d).', 'sidecar-scheduler' ), $id, $copy )
								/* translators: %d: action ID */
								: sprintf( __( 'Action %d is already being retried.', 'sidecar-scheduler' ), $id ),
							ActionError::CONFLICT
						);
					}
					// A fresh pending copy, due now.
					$new_id = as_schedule_single_action( time(), $action->get_hook(), $action->get_args(), $action->get_group(), false, $action->get_priority() );
					if ( ! $new_id ) {
						\SidecarScheduler\Store\AttemptsTable::untake_retry( $id, $taken );
						throw new ActionError( 'sidecar_scheduler_not_scheduled', __( 'The copy could not be scheduled (a plugin refused it); nothing changed.', 'sidecar-scheduler' ), ActionError::CONFLICT );
					}
					\SidecarScheduler\Store\AttemptsTable::set_next( $id, $new_id, \SidecarScheduler\Store\AttemptsTable::NEXT_RERUN );
					/* translators: %d: new action ID */
					\ActionScheduler::logger()->log( $id, sprintf( __( 'retried as action %d', 'sidecar-scheduler' ), $new_id ) );
					return array(
						'id'    => $id,
						'newId' => (int) $new_id,
					);
				case 'delete':
					$store->delete_action( $id );
					return array(
						'id'      => $id,
						'deleted' => true,
					);
			}
		} catch ( ActionError $e ) {
			throw $e; // Refused above, not failed: it keeps its own code.
		} catch ( \Exception $e ) {
			throw new ActionError( 'sidecar_scheduler_failed', $e->getMessage(), ActionError::FAILED );
		}
		throw new ActionError( 'sidecar_scheduler_bad_op', __( 'Unknown operation.', 'sidecar-scheduler' ), ActionError::BAD_REQUEST );
	}

	private static function conflict( $id, $status ) {
		/* translators: 1: action ID 2: status */
		return new ActionError( 'sidecar_scheduler_wrong_status', sprintf( __( 'Action %1$d is %2$s; this operation does not apply.', 'sidecar-scheduler' ), $id, $status ), ActionError::CONFLICT );
	}

	/**
	 * "Run now" never runs a callback inside the web request: that would race the sidecar (or any runner) about to
	 * start the same action, and a long callback would hold the request. Instead the pending actions are made due now
	 * (only those still pending, and only if they were due later) and the sidecar is nudged: a runner claims and starts
	 * them like any other, so each runs once. Without a sidecar, the WP-Cron fallback picks them up. Returns how many
	 * of $ids are pending now (queued).
	 *
	 * @param int[] $ids
	 */
	public static function queue_now( array $ids ) {
		$queued = 0;
		$gmt    = current_time( 'mysql', true );
		$local  = current_time( 'mysql' );
		foreach ( array_chunk( array_values( array_unique( array_map( 'intval', $ids ) ) ), 500 ) as $chunk ) {
			ActionRows::make_due_at( $chunk, $gmt, $local );
			$pending = ActionRows::pending_among( $chunk );
			foreach ( $pending as $id ) {
				\ActionScheduler::logger()->log( $id, __( 'action queued to run now from the admin screen', 'sidecar-scheduler' ) );
			}
			$queued += count( $pending );
		}
		if ( $queued ) {
			do_action( 'sidecar_scheduler_due_action_stored' ); // The sidecar claims them within milliseconds.
		}
		return $queued;
	}

	/** Applies $op to the given IDs, or to everything matching $filter (bounded, so one click cannot run for minutes). */
	public static function bulk( $op, $ids, array $filter ) {
		$limit = 'run' === $op ? self::BULK_RUN_LIMIT : self::BULK_LIMIT;
		if ( null === $ids ) {
			if ( 'run' === $op && empty( $filter['status'] ) ) {
				$filter['status'] = Contract::STATUS_PENDING; // Only pending actions can be queued.
			}
			$ids = array_map(
				'intval',
				\ActionScheduler::store()->query_actions(
					self::query_for( $filter ) + array(
						'per_page' => $limit,
						'orderby'  => 'action_id',
					)
				)
			);
			if ( 'retry' === $op ) {
				// Retrying what matches a filter: the failures already retried (or left to their retry policy) are not
				// matched at all, so a second "Retry all" copies nothing and reports nothing to fix.
				$ids = array_values( array_diff( $ids, \SidecarScheduler\Store\AttemptsTable::handled_among( $ids ) ) );
			}
		}
		$ids = array_slice( $ids, 0, $limit );
		if ( 'run' === $op ) {
			$queued = self::queue_now( $ids );
			$errors = array();
			if ( $queued < count( $ids ) ) {
				$errors[] = array(
					'id'      => 0,
					'code'    => 'sidecar_scheduler_wrong_status',
					'message' => sprintf( /* translators: %d: count */ __( '%d of the selected actions are no longer pending.', 'sidecar-scheduler' ), count( $ids ) - $queued ),
				);
			}
			return array(
				'op'      => $op,
				'matched' => count( $ids ),
				'done'    => $queued,
				'errors'  => $errors,
				'limit'   => $limit,
				'queued'  => true,
			);
		}
		$done   = 0;
		$errors = array();
		foreach ( $ids as $id ) {
			try {
				self::apply( $op, $id );
				++$done;
			} catch ( ActionError $e ) {
				$errors[] = array(
					'id'      => $id,
					'code'    => $e->error_code(),
					'message' => $e->getMessage(),
				);
			}
		}
		return array(
			'op'      => $op,
			'matched' => count( $ids ),
			'done'    => $done,
			'errors'  => array_slice( $errors, 0, 50 ),
			'limit'   => $limit,
		);
	}
}
