<?php
/**
 * The batch API as functions, for plugins: sidecar_scheduler_batch(), sidecar_scheduler_batch_progress(),
 * sidecar_scheduler_cancel_batch(). Defined in both modes (the items go through whichever as_* functions are loaded).
 *
 * @package SidecarScheduler
 */

defined( 'ABSPATH' ) || exit;

if ( ! function_exists( 'sidecar_scheduler_batch' ) ) {
	/**
	 * Enqueues a batch of items as one unit: each item runs as one async action of $hook (its callback receives the
	 * item), and when every item has ended, sidecar_scheduler_batch_complete fires once with the counts.
	 *
	 * @param string $name  A name people recognise.
	 * @param string $hook  The hook each item runs as.
	 * @param array  $items The items (JSON-encodable, at most 8,000 characters each).
	 * @param array  $args  Optional: 'priority'.
	 * @return int|WP_Error Batch ID, or what is wrong (nothing enqueued then).
	 */
	function sidecar_scheduler_batch( $name, $hook, $items, $args = array() ) {
		return \SidecarScheduler\Batch\Batches::create( $name, $hook, $items, $args );
	}
}

if ( ! function_exists( 'sidecar_scheduler_batch_progress' ) ) {
	/**
	 * A batch's progress: status, total, done, failed, canceled, pending, running, percent, etaSeconds.
	 *
	 * @param int $batch_id Batch ID.
	 * @return array|null Null when there is no such batch.
	 */
	function sidecar_scheduler_batch_progress( $batch_id ) {
		return \SidecarScheduler\Batch\Batches::progress( $batch_id );
	}
}

if ( ! function_exists( 'sidecar_scheduler_cancel_batch' ) ) {
	/**
	 * Cancels a batch's pending items; it ends as canceled once no item runs.
	 *
	 * @param int $batch_id Batch ID.
	 * @return array|WP_Error Progress, or an error (unknown or already finished batch).
	 */
	function sidecar_scheduler_cancel_batch( $batch_id ) {
		return \SidecarScheduler\Batch\Batches::cancel( $batch_id );
	}
}
