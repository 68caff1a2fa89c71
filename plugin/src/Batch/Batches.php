<?php
/**
 * Batches: many actions enqueued as one unit through the as_* functions (so any runner runs the items: the sidecar,
 * WP-Cron, WP-CLI), with progress (done, failed, total, ETA), a completion hook fired once with the counts, and cancel.
 *
 * Each batch's items are async actions of the batch's hook in a group of its own (sidecar-batch-<id>), each with the
 * item as its only argument; progress is counted from the actions table by that group, so running an item costs no
 * write of ours. The end of a batch is detected after each claimed batch of actions (action_scheduler_after_process_queue,
 * which the sidecar's workers and the library's runners fire) and by any progress read.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Batch;

use SidecarScheduler\Store\BatchStore;

defined( 'ABSPATH' ) || exit;

/**
 * The batch API behind sidecar_scheduler_batch() and friends.
 */
final class Batches {

	/** The most items one batch may have. */
	const MAX_ITEMS = 100000;

	/** The completion hook: do_action( 'sidecar_scheduler_batch_complete', $progress ). */
	const COMPLETE_HOOK = 'sidecar_scheduler_batch_complete';

	/**
	 * Registers the end-of-batch check.
	 */
	public static function register() {
		add_action( 'action_scheduler_after_process_queue', array( __CLASS__, 'sweep' ) );
	}

	/**
	 * Enqueues a batch.
	 *
	 * @param string $name  A name people recognise ("Import products.csv").
	 * @param string $hook  The hook each item runs as; its callback gets the item as its only argument.
	 * @param array  $items The items (each JSON-encodable, at most 8,000 characters encoded).
	 * @param array  $args  Optional: 'priority' (0-255, default 10).
	 * @return int|\WP_Error The batch ID, or an error saying what is wrong (then nothing was enqueued).
	 */
	public static function create( $name, $hook, $items, $args = array() ) {
		$error = self::validate( $name, $hook, $items );
		if ( $error ) {
			return $error;
		}
		$priority = isset( $args['priority'] ) ? (int) $args['priority'] : 10;
		BatchStore::install();
		$id = BatchStore::create( $name, $hook );
		if ( ! $id ) {
			return new \WP_Error( 'sidecar_scheduler_batch_store', __( 'The batch could not be stored.', 'sidecar-scheduler' ) );
		}
		$group = 'sidecar-batch-' . $id;
		$count = 0;
		// The batch stays "enqueuing" meanwhile: an item may already run, but the batch cannot be seen as finished.
		foreach ( array_values( $items ) as $item ) {
			as_enqueue_async_action( $hook, array( $item ), $group, false, $priority );
			++$count;
		}
		BatchStore::start( $id, $group, BatchStore::group_id( $group ), $count );
		return $id;
	}

	/**
	 * Says what is wrong with a batch's input, before anything is stored.
	 *
	 * @param mixed $name  Name.
	 * @param mixed $hook  Hook.
	 * @param mixed $items Items.
	 * @return \WP_Error|null
	 */
	private static function validate( $name, $hook, $items ) {
		if ( ! is_string( $name ) || '' === trim( $name ) || strlen( $name ) > 191 ) {
			return new \WP_Error( 'sidecar_scheduler_batch_name', __( 'A batch needs a name of 1 to 191 characters.', 'sidecar-scheduler' ) );
		}
		if ( ! is_string( $hook ) || '' === $hook || strlen( $hook ) > 191 ) {
			return new \WP_Error( 'sidecar_scheduler_batch_hook', __( 'A batch needs the hook its items run as (1 to 191 characters).', 'sidecar-scheduler' ) );
		}
		if ( ! is_array( $items ) || ! $items ) {
			return new \WP_Error( 'sidecar_scheduler_batch_items', __( 'A batch needs a non-empty array of items.', 'sidecar-scheduler' ) );
		}
		if ( count( $items ) > self::MAX_ITEMS ) {
			/* translators: %d: limit */
			return new \WP_Error( 'sidecar_scheduler_batch_items', sprintf( __( 'A batch may have at most %d items; split it.', 'sidecar-scheduler' ), self::MAX_ITEMS ) );
		}
		foreach ( array_values( $items ) as $i => $item ) {
			$json = wp_json_encode( array( $item ) );
			if ( false === $json || strlen( $json ) > 8000 ) {
				/* translators: %d: item index */
				return new \WP_Error( 'sidecar_scheduler_batch_item', sprintf( __( 'Item %d cannot be stored: it must be JSON-encodable and at most 8,000 characters encoded. Nothing was enqueued.', 'sidecar-scheduler' ), $i ) );
			}
		}
		return null;
	}

	/**
	 * A batch's progress; finishes it first if its last item has ended (so a poll never shows 100 % still running).
	 *
	 * @param int $id Batch ID.
	 * @return array|null
	 */
	public static function progress( $id ) {
		$row = BatchStore::get( (int) $id );
		if ( ! $row ) {
			return null;
		}
		if ( in_array( $row->status, array( BatchStore::RUNNING, BatchStore::CANCELING ), true ) && ! BatchStore::has_open_items( $row->group_id ) ) {
			self::finish( $row );
			$row = BatchStore::get( (int) $id );
		}
		return self::describe( $row );
	}

	/**
	 * The newest batches with their progress.
	 *
	 * @param int $limit How many.
	 * @return array
	 */
	public static function recent( $limit = 20 ) {
		return array_map( array( __CLASS__, 'describe' ), BatchStore::recent( $limit ) );
	}

	/**
	 * Cancels a batch: its pending items are canceled; items running now finish, and then the batch ends as canceled
	 * (the completion hook fires once then, with status "canceled" and the counts).
	 *
	 * @param int $id Batch ID.
	 * @return array|\WP_Error Progress, or an error when it is unknown or already finished.
	 */
	public static function cancel( $id ) {
		$row = BatchStore::get( (int) $id );
		if ( ! $row ) {
			/* translators: %d: batch ID */
			return new \WP_Error( 'sidecar_scheduler_batch_not_found', sprintf( __( 'Batch %d does not exist.', 'sidecar-scheduler' ), $id ), array( 'status' => 404 ) );
		}
		if ( ! BatchStore::mark_canceling( $row->batch_id ) ) {
			/* translators: 1: batch ID, 2: status */
			return new \WP_Error( 'sidecar_scheduler_batch_status', sprintf( __( 'Batch %1$d is %2$s and cannot be canceled.', 'sidecar-scheduler' ), $row->batch_id, $row->status ), array( 'status' => 409 ) );
		}
		\ActionScheduler::store()->cancel_actions_by_group( $row->group_slug );
		return self::progress( $row->batch_id );
	}

	/**
	 * After each claimed batch of actions: finishes every batch whose items have all ended. Reads our own table
	 * first and touches the actions table only while some batch is unfinished.
	 */
	public static function sweep() {
		// The loaded options only, never get_option(): on a site that never made a batch the option does not exist, and
		// get_option() of a missing option queries the database again after every runtime-cache flush (the runners flush
		// after each claimed batch), which would cost one SELECT per claim on every site. The option is autoloaded once
		// a batch was made, and a long-lived worker reloads the options after each claim, so it sees a new first batch.
		if ( ! \SidecarScheduler\Policy\Limits::autoloaded( BatchStore::SCHEMA_OPTION ) ) {
			return;
		}
		foreach ( BatchStore::unfinished() as $row ) {
			if ( ! BatchStore::has_open_items( $row->group_id ) ) {
				self::finish( BatchStore::get( $row->batch_id ) );
			}
		}
	}

	/**
	 * Finishes a batch once: only the process whose UPDATE changed the row fires the completion hook.
	 *
	 * @param object $row Batch row.
	 */
	private static function finish( $row ) {
		if ( ! $row ) {
			return;
		}
		// The library writes an item's failed status before action_scheduler_failed_execution's listeners run, and the
		// retry copy is made by one of them (Retries, priority 20): in that gap the group has no open item, yet an
		// item is still to run. While a failure of the group awaits its retry decision (no copy and no dead letter
		// recorded yet, within a minute of the failure) the batch is left running; the check after the copy runs (or
		// after the dead letter is recorded) finishes it. Without any policy this is no query at all.
		if ( \SidecarScheduler\Policy\Retries::deciding_in_group( (string) $row->group_slug ) ) {
			return;
		}
		if ( BatchStore::finish( $row->batch_id ) ) {
			/**
			 * Fires once when a batch has ended: every item complete, failed or canceled.
			 *
			 * @param array $progress id, name, hook, group, status (complete or canceled), total, done, failed,
			 *                        canceled, and the rest of sidecar_scheduler_batch_progress().
			 */
			do_action( self::COMPLETE_HOOK, self::describe( BatchStore::get( $row->batch_id ) ) ); // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.DynamicHooknameFound -- the constant is sidecar_scheduler_batch_complete.
		}
	}

	/**
	 * A batch row with its counts.
	 *
	 * @param object $row Batch row.
	 * @return array
	 */
	public static function describe( $row ) {
		$c        = BatchStore::counts( (int) $row->group_id );
		$total    = (int) $row->total;
		$finished = $c['complete'] + $c['failed'] + $c['canceled'];
		$elapsed  = max( 1, ( $row->finished_gmt ? strtotime( $row->finished_gmt . ' UTC' ) : time() ) - strtotime( $row->created_gmt . ' UTC' ) );
		$eta      = null;
		if ( BatchStore::RUNNING === $row->status && $finished > 0 && $finished < $total ) {
			$eta = (int) ceil( ( $total - $finished ) * $elapsed / $finished );
		}
		return array(
			'id'         => (int) $row->batch_id,
			'name'       => (string) $row->name,
			'hook'       => (string) $row->hook,
			'group'      => (string) $row->group_slug,
			'status'     => (string) $row->status,
			'total'      => $total,
			'done'       => $c['complete'],
			'failed'     => $c['failed'],
			'canceled'   => $c['canceled'],
			'pending'    => $c['pending'],
			'running'    => $c['in-progress'],
			'percent'    => $total ? (int) floor( 100 * $finished / $total ) : 0,
			'etaSeconds' => $eta,
			'createdAt'  => (string) $row->created_gmt,
			'finishedAt' => $row->finished_gmt ? (string) $row->finished_gmt : null,
		);
	}
}
