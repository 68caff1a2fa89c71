<?php
/**
 * Retries with backoff, on the library's own failure hooks, so they work in both modes and under every runner
 * (the sidecar's worker, WP-CLI, WP-Cron, the async request): action_scheduler_failed_execution (an exception),
 * action_scheduler_unexpected_shutdown (a fatal error), action_scheduler_failed_action (a time limit, from the
 * cleaner, our maintenance pass or the sidecar). The failed row and its logs stay as the library leaves them; a new
 * single action with the same hook, args, group and priority is scheduled after the delay, and its own log says
 * which attempt it is and of which action. After the last attempt the failure is a dead letter.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

use SidecarScheduler\Store\AttemptsTable;

defined( 'ABSPATH' ) || exit;

/**
 * Failure handling under retry policies.
 */
final class Retries {
	/**
	 * Hooks the library's failure actions. Priority 20: after the logger's own failure line (10), so the failed row's
	 * log reads as the library writes it and the copy's line comes after.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'action_scheduler_failed_execution', array( __CLASS__, 'on_exception' ), 20, 2 );
		add_action( 'action_scheduler_unexpected_shutdown', array( __CLASS__, 'on_shutdown' ), 20, 2 );
		add_action( 'action_scheduler_failed_action', array( __CLASS__, 'on_timeout' ), 20, 2 );
		add_action( 'action_scheduler_completed_action', array( __CLASS__, 'on_completed' ), 20 );
		add_action( 'action_scheduler_after_process_queue', array( __CLASS__, 'repair_undecided' ) );
	}

	/**
	 * A failed attempt that completes after all: the library's cleaner (another process) failed it for its time limit
	 * while the callback still ran, and the library's completion then wrote "complete" by ID. Its retry copy would
	 * run it a second time, so a copy still pending and unclaimed is deleted (it never ran) and the attempt is marked
	 * superseded. Costs nothing without a policy, and one primary-key read of our table per completion with one.
	 *
	 * @param int $action_id Action ID.
	 * @return void
	 */
	public static function on_completed( $action_id ) {
		// get_option(), not the loaded options: the table may have been made by another process (the cleaner's) since.
		if ( ! Registry::has_any() || AttemptsTable::VERSION !== get_option( AttemptsTable::VERSION_OPTION ) ) {
			return;
		}
		$copy = AttemptsTable::pending_copy_of( (int) $action_id );
		if ( ! $copy ) {
			return;
		}
		if ( ! AttemptsTable::withdraw_copy( $copy ) ) {
			return; // A runner claimed it meanwhile.
		}
		AttemptsTable::set_next( (int) $action_id, 0, AttemptsTable::NEXT_SUPERSEDED );
		/* translators: 1: action ID 2: copy ID */
		\ActionScheduler::logger()->log( (int) $action_id, sprintf( __( 'completed after its time limit had failed it: its retry copy (action %2$d) was withdrawn', 'sidecar-scheduler' ), (int) $action_id, $copy ) );
	}

	/**
	 * A failure recorded by a process that died before it scheduled the copy (or made the dead letter) is left with no
	 * next step. After each batch of any runner, such rows older than a minute are taken (a conditional UPDATE, so one
	 * process does each) and given their step, the copy due the delay after the original failure. No query without a
	 * policy; one indexed read of our table per batch with one.
	 *
	 * @return int How many were repaired.
	 */
	public static function repair_undecided() {
		if ( ! Registry::has_any() || AttemptsTable::VERSION !== get_option( AttemptsTable::VERSION_OPTION ) ) {
			return 0;
		}
		$done = 0;
		foreach ( AttemptsTable::undecided( 60, 20 ) as $row ) {
			if ( ! AttemptsTable::take_undecided( (int) $row->action_id ) ) {
				continue;
			}
			try {
				$action = \ActionScheduler::store()->fetch_action( (int) $row->action_id );
			} catch ( \Exception $e ) {
				$action = null;
			}
			$match = $action && ! ( $action instanceof \ActionScheduler_NullAction ) ? Registry::retry_policy_for( $action->get_hook(), (string) $action->get_group() ) : null;
			if ( ! $match ) {
				AttemptsTable::mark_dead( (int) $row->action_id ); // No policy any more, or no action: listed, not lost.
				continue;
			}
			self::next_step( $action, $match['policy'], (int) $row->action_id, (int) $row->origin_id, (int) $row->attempt, (int) $row->max_attempts, (string) $row->error, (int) strtotime( $row->failed_gmt . ' UTC' ) );
			++$done;
		}
		return $done;
	}

	/**
	 * Whether a group has a failure whose retry is still being decided: failed within the last minute under a retry
	 * policy, with no copy or dead letter recorded yet. The library writes the failed status before the failure hooks
	 * run, so code that judges a group finished from its statuses (batches) must wait for this to be false.
	 *
	 * @param string $group Group slug.
	 * @return bool
	 */
	public static function deciding_in_group( $group ) {
		global $wpdb;
		if ( ! Registry::has_any() || '' === (string) $group ) {
			return false;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the library's table name.
		$group_id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT group_id FROM {$wpdb->actionscheduler_groups} WHERE slug = %s LIMIT 1", $group ) );
		if ( ! $group_id ) {
			return false;
		}
		AttemptsTable::ensure();
		foreach ( AttemptsTable::undecided_in_group( $group_id, 60 ) as $row ) {
			if ( Registry::retry_policy_for( (string) $row->hook, (string) $group ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * An exception (or error) from the callback.
	 *
	 * @param int        $action_id Action ID.
	 * @param \Throwable $e         What was thrown.
	 * @return void
	 */
	public static function on_exception( $action_id, $e = null ) {
		self::failed( (int) $action_id, is_object( $e ) && method_exists( $e, 'getMessage' ) ? $e->getMessage() : '' );
	}

	/**
	 * A fatal error.
	 *
	 * @param int   $action_id Action ID.
	 * @param array $error     error_get_last().
	 * @return void
	 */
	public static function on_shutdown( $action_id, $error = array() ) {
		$message = is_array( $error ) && isset( $error['message'] ) ? (string) $error['message'] : '';
		self::failed( (int) $action_id, $message );
	}

	/**
	 * A time limit.
	 *
	 * @param int $action_id Action ID.
	 * @param int $timeout   Seconds.
	 * @return void
	 */
	public static function on_timeout( $action_id, $timeout = 0 ) {
		/* translators: %d: seconds */
		self::failed( (int) $action_id, sprintf( __( 'timed out after %d seconds', 'sidecar-scheduler' ), (int) $timeout ) );
	}

	/**
	 * Records the failure and schedules the next attempt, or makes it a dead letter.
	 *
	 * @param int    $action_id The failed action.
	 * @param string $message   Its error.
	 * @param int    $now       The failure's time (tests pass one; the copy is due $now + delay).
	 * @return array|null What was done, or null when no policy applies.
	 */
	public static function failed( $action_id, $message, $now = null ) {
		if ( ! $action_id || ! Registry::has_any() ) {
			return null;
		}
		try {
			$action = \ActionScheduler::store()->fetch_action( $action_id );
		} catch ( \Exception $e ) {
			return null;
		}
		if ( ! $action || $action instanceof \ActionScheduler_NullAction || ! $action->get_hook() ) {
			return null;
		}
		$match = Registry::retry_policy_for( $action->get_hook(), (string) $action->get_group() );
		if ( ! $match ) {
			return null;
		}
		$policy = $match['policy'];
		AttemptsTable::ensure();
		$now      = null === $now ? time() : (int) $now;
		$now_gmt  = gmdate( 'Y-m-d H:i:s', $now );
		$previous = AttemptsTable::previous_of( $action_id );
		$origin   = $previous ? (int) $previous->origin_id : $action_id;
		$attempt  = $previous ? (int) $previous->attempt + 1 : 1;
		$max      = (int) $policy['retries'] + 1;
		$recorded = AttemptsTable::record(
			array(
				'action_id'        => $action_id,
				'origin_id'        => $origin,
				'attempt'          => $attempt,
				'max_attempts'     => $max,
				'hook'             => $action->get_hook(),
				'group_slug'       => (string) $action->get_group(),
				'error'            => $message,
				'failed_gmt'       => $now_gmt,
				'first_failed_gmt' => $previous ? $previous->first_failed_gmt : $now_gmt,
			)
		);
		if ( ! $recorded ) {
			return array( 'already' => true ); // This failure was handled by an earlier report of it.
		}
		return self::next_step( $action, $policy, $action_id, $origin, $attempt, $max, $message, $now );
	}

	/**
	 * What follows a recorded failure: a copy after the delay from $now, or a dead letter after the last attempt.
	 *
	 * @param object $action    The failed action.
	 * @param array  $policy    Its retry policy.
	 * @param int    $action_id Its ID.
	 * @param int    $origin    The chain's first action.
	 * @param int    $attempt   Which attempt failed.
	 * @param int    $max       Attempts allowed.
	 * @param string $message   The error.
	 * @param int    $now       The failure's time.
	 * @return array
	 */
	private static function next_step( $action, array $policy, $action_id, $origin, $attempt, $max, $message, $now ) {
		if ( $attempt >= $max ) {
			AttemptsTable::mark_dead( $action_id );
			/**
			 * An action failed its last attempt under a retry policy (for alerting).
			 *
			 * @param int    $action_id The failed action.
			 * @param int    $origin_id The first action of its chain.
			 * @param int    $attempt   Attempts made.
			 * @param string $message   The last error.
			 */
			do_action( 'sidecar_scheduler_dead_letter', $action_id, $origin, $attempt, $message );
			return array(
				'dead'    => true,
				'attempt' => $attempt,
			);
		}
		$delay = Backoff::delay( $policy, $attempt );
		// A single action even for a recurring or cron one: the library schedules the chain's successor itself after
		// the failure, so a recurring copy would double the chain.
		$copy = as_schedule_single_action( $now + $delay, $action->get_hook(), $action->get_args(), (string) $action->get_group(), false, method_exists( $action, 'get_priority' ) ? $action->get_priority() : 10 );
		if ( ! $copy ) {
			AttemptsTable::mark_dead( $action_id ); // Could not schedule (a pre_as_* filter refused): nothing is lost silently.
			do_action( 'sidecar_scheduler_dead_letter', $action_id, $origin, $attempt, $message );
			return array(
				'dead'    => true,
				'attempt' => $attempt,
			);
		}
		AttemptsTable::set_next( $action_id, $copy, AttemptsTable::NEXT_RETRY, $delay );
		\ActionScheduler::logger()->log(
			$copy,
			sprintf(
				/* translators: 1: attempt number 2: attempts allowed 3: failed action ID 4: first action ID 5: seconds */
				__( 'retry: attempt %1$d of %2$d, after action %3$d failed (first attempt: action %4$d); due %5$d s after the failure', 'sidecar-scheduler' ),
				$attempt + 1,
				$max,
				$action_id,
				$origin,
				$delay
			)
		);
		if ( 0 === $delay ) {
			do_action( 'sidecar_scheduler_due_action_stored' );
		}
		return array(
			'copy'    => (int) $copy,
			'attempt' => $attempt + 1,
			'delay'   => $delay,
		);
	}
}
