<?php
/**
 * Circuit breakers per group (a group policy's `breaker`): after K consecutive failures, or a failure rate over a
 * window, the group opens for a cool-down and its actions wait pending; the sidecar's claim then lets one trial run
 * through (half-open), whose outcome closes the breaker or opens it again. Outcomes are counted here, on the
 * library's own hooks (so every runner counts); every transition is written to the log of the action that caused it
 * and fires sidecar_scheduler_breaker_transition.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

use SidecarScheduler\Store\BreakersTable;

defined( 'ABSPATH' ) || exit;

/**
 * Breaker accounting.
 */
final class Breakers {
	/**
	 * The running action's breaker group, noted when it begins (and counted as in flight then): its outcome is counted
	 * without reading the actions table again.
	 *
	 * @var array action ID => group slug
	 */
	private static $running = array();

	/**
	 * Hooks the outcomes (after the logger's own lines).
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'action_scheduler_begin_execute', array( __CLASS__, 'on_begin' ), 30 );
		add_action( 'action_scheduler_completed_action', array( __CLASS__, 'on_success' ), 30 );
		// Failures at 15: after the logger's line (10), before retries (20), whose read of the action would commit the
		// failed status before the count (see $running).
		add_action( 'action_scheduler_failed_execution', array( __CLASS__, 'on_failure' ), 15 );
		add_action( 'action_scheduler_unexpected_shutdown', array( __CLASS__, 'on_failure' ), 15 );
		add_action( 'action_scheduler_failed_action', array( __CLASS__, 'on_failure' ), 15 );
	}

	/**
	 * The sidecar moved the breaker to half-open when it claimed this run: the trial's own log says so.
	 *
	 * @param int $action_id Action ID.
	 * @return void
	 */
	public static function on_begin( $action_id ) {
		$policies = self::policies();
		if ( ! $policies ) {
			return;
		}
		try {
			$action = \ActionScheduler::store()->fetch_action( (int) $action_id );
		} catch ( \Exception $e ) {
			return;
		}
		$group = $action ? (string) $action->get_group() : '';
		if ( '' === $group || ! isset( $policies[ $group ] ) ) {
			return;
		}
		self::$running = array( (int) $action_id => $group );
		BreakersTable::ensure();
		BreakersTable::started( $group, time() );
		$row = BreakersTable::get( $group );
		if ( $row && 'half-open' === $row->state ) {
			/* translators: %s: group */
			\ActionScheduler::logger()->log( (int) $action_id, sprintf( __( 'circuit breaker of group "%s" half-open: its cool-down is over and this is the trial run', 'sidecar-scheduler' ), $group ) );
			do_action( 'sidecar_scheduler_breaker_transition', $group, 'half-open', '', (int) $action_id );
		}
	}

	/**
	 * A run completed.
	 *
	 * @param int $action_id Action ID.
	 * @return void
	 */
	public static function on_success( $action_id ) {
		self::outcome( (int) $action_id, true );
	}

	/**
	 * A run failed (exception, fatal error or time limit).
	 *
	 * @param int $action_id Action ID.
	 * @return void
	 */
	public static function on_failure( $action_id ) {
		self::outcome( (int) $action_id, false );
	}

	/**
	 * Breaker policies in force: group slug => breaker settings.
	 *
	 * @return array
	 */
	public static function policies() {
		if ( ! Registry::has_any() ) {
			return array();
		}
		$out = array();
		foreach ( Registry::effective()['group'] as $slug => $p ) {
			if ( isset( $p['breaker'] ) ) {
				$out[ (string) $slug ] = $p['breaker'];
			}
		}
		return $out;
	}

	/**
	 * Counts an outcome for the action's group and moves its breaker when it must.
	 *
	 * @param int  $action_id Action ID.
	 * @param bool $ok        Success.
	 * @param int  $now       Unix time (tests).
	 * @return string|null The transition made ("open", "closed"), or null.
	 */
	public static function outcome( $action_id, $ok, $now = null ) {
		$policies = self::policies();
		if ( ! $policies ) {
			return null;
		}
		if ( isset( self::$running[ $action_id ] ) ) {
			$group = self::$running[ $action_id ];
			unset( self::$running[ $action_id ] );
		} else {
			try {
				$action = \ActionScheduler::store()->fetch_action( $action_id );
			} catch ( \Exception $e ) {
				return null;
			}
			$group = $action ? (string) $action->get_group() : '';
		}
		if ( '' === $group || ! isset( $policies[ $group ] ) ) {
			return null;
		}
		$b   = $policies[ $group ];
		$now = null === $now ? time() : (int) $now;
		BreakersTable::ensure();
		$row = BreakersTable::count( $group, $ok, (int) $b['window'], $now );
		if ( ! $row ) {
			return null;
		}
		$to     = null;
		$reason = '';
		if ( $ok && 'half-open' === $row->state ) {
			/* translators: %d: action ID */
			$reason = sprintf( __( 'the trial run (action %d) succeeded', 'sidecar-scheduler' ), $action_id );
			$to     = BreakersTable::transition( $group, 'half-open', 'closed', $now, 0, $reason ) ? 'closed' : null;
		} elseif ( ! $ok && 'half-open' === $row->state ) {
			/* translators: %d: action ID */
			$reason = sprintf( __( 'the trial run (action %d) failed', 'sidecar-scheduler' ), $action_id );
			$to     = BreakersTable::transition( $group, 'half-open', 'open', $now, (int) $b['cooldown'], $reason ) ? 'open' : null;
		} elseif ( ! $ok && 'closed' === $row->state ) {
			if ( $b['failures'] > 0 && (int) $row->consecutive >= $b['failures'] ) {
				/* translators: %d: count */
				$reason = sprintf( __( '%d consecutive failures', 'sidecar-scheduler' ), (int) $row->consecutive );
			} elseif ( $b['rate'] > 0 && (int) $row->window_runs >= $b['min_runs'] && (int) $row->window_failures / max( 1, (int) $row->window_runs ) >= $b['rate'] ) {
				/* translators: 1: failures 2: runs 3: seconds */
				$reason = sprintf( __( '%1$d of %2$d runs failed within %3$d s', 'sidecar-scheduler' ), (int) $row->window_failures, (int) $row->window_runs, (int) $b['window'] );
			}
			if ( $reason ) {
				$to = BreakersTable::transition( $group, 'closed', 'open', $now, (int) $b['cooldown'], $reason ) ? 'open' : null;
			}
		}
		if ( $to ) {
			$message = 'open' === $to
				/* translators: 1: group 2: reason 3: seconds */
				? sprintf( __( 'circuit breaker of group "%1$s" opened: %2$s; its actions wait %3$d s, then one trial run decides', 'sidecar-scheduler' ), $group, $reason, (int) $b['cooldown'] )
				/* translators: 1: group 2: reason */
				: sprintf( __( 'circuit breaker of group "%1$s" closed: %2$s', 'sidecar-scheduler' ), $group, $reason );
			\ActionScheduler::logger()->log( $action_id, $message );
			/**
			 * A group's circuit breaker moved.
			 *
			 * @param string $group  Group slug.
			 * @param string $to     "open" or "closed".
			 * @param string $reason Why.
			 * @param int    $action_id The action whose outcome moved it.
			 */
			do_action( 'sidecar_scheduler_breaker_transition', $group, $to, $reason, $action_id );
		}
		return $to;
	}

	/**
	 * Listing for REST, WP-CLI and the banner.
	 *
	 * @return array[]
	 */
	public static function listing() {
		$out = array();
		foreach ( BreakersTable::all() as $r ) {
			$out[] = array(
				'group'       => (string) $r->group_slug,
				'state'       => (string) $r->state,
				'consecutive' => (int) $r->consecutive,
				'openedGmt'   => $r->opened_gmt ? (string) $r->opened_gmt : null,
				'untilGmt'    => $r->until_gmt ? (string) $r->until_gmt : null,
				'trialGmt'    => $r->trial_gmt ? (string) $r->trial_gmt : null,
				'opens'       => (int) $r->opens,
				'reason'      => (string) $r->reason,
			);
		}
		return $out;
	}
}
