<?php
/**
 * What alerts watch: no live sidecar while actions are due, the oldest due action older than a threshold, actions
 * stuck in progress, hooks failing at a high rate in the last hour, cleanup falling behind, a past-due backlog over a
 * count or growing, groups failing at a high rate in the last hour, and new dead letters.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Alerts;

use SidecarScheduler\Insight\FailingHooks;
use SidecarScheduler\SiteHealth\Tests;
use SidecarScheduler\Store\AttemptsTable;
use SidecarScheduler\Store\HealthQueries;

defined( 'ABSPATH' ) || exit;

/**
 * Evaluates each condition now.
 */
final class Conditions {

	/**
	/** Conditions that are events, not states: each new batch alerts (cool-down permitting); none sends a recovery. */
	const EVENTS = array( 'dead_letters' );

	/**
	 * Each condition: code => array( firing, summary[, memory to keep only once its alert went out] ).
	 *
	 * @param array $s      Settings.
	 * @param array $memory What earlier evaluations kept (backlog samples, the last dead letter seen); updated.
	 * @return array
	 */
	public static function evaluate( array $s, array &$memory = array() ) {
		$due     = HealthQueries::past_due();
		$age     = $due['oldest'] ? max( 0, time() - strtotime( $due['oldest'] . ' UTC' ) ) : 0;
		$live    = HealthQueries::live_sidecars();
		$stuck   = HealthQueries::stuck( gmdate( 'Y-m-d H:i:s', time() - (int) $s['stuck_seconds'] ) );
		$hooks   = FailingHooks::window( 'hour', time() - HOUR_IN_SECONDS )['hooks'];
		$failing = array();
		foreach ( $hooks as $h ) {
			if ( $h['failures'] >= (int) $s['failure_min_count'] && $h['failureRate'] >= (float) $s['failure_rate'] ) {
				/* translators: 1: hook, 2: failures, 3: runs, 4: top error */
				$failing[] = sprintf( __( '%1$s failed %2$d of %3$d runs; most often: %4$s', 'sidecar-scheduler' ), $h['hook'], $h['failures'], $h['runs'], $h['errors'] ? $h['errors'][0]['message'] : '' );
			}
		}
		// Groups: the same window's rows summed per group (ungrouped actions are the hook condition's).
		$groups = array();
		foreach ( $hooks as $h ) {
			if ( '' === $h['group'] ) {
				continue;
			}
			$g                     = isset( $groups[ $h['group'] ] ) ? $groups[ $h['group'] ] : array( 0, 0 );
			$groups[ $h['group'] ] = array( $g[0] + $h['runs'], $g[1] + $h['failures'] );
		}
		$failing_groups = array();
		foreach ( $groups as $group => $g ) {
			if ( $g[1] >= (int) $s['group_failure_min_count'] && $g[1] / $g[0] >= (float) $s['group_failure_rate'] ) {
				/* translators: 1: group, 2: failures, 3: runs */
				$failing_groups[] = sprintf( __( 'group %1$s failed %2$d of %3$d runs', 'sidecar-scheduler' ), $group, $g[1], $g[0] );
			}
		}
		// Backlog growth: one sample per evaluation, kept for the span (plus the one before it, which anchors it).
		$now       = time();
		$span      = 60 * (int) $s['backlog_growing_minutes'];
		$samples   = isset( $memory['backlog'] ) ? (array) $memory['backlog'] : array();
		$samples[] = array( $now, (int) $due['count'] );
		$kept      = array();
		foreach ( $samples as $i => $sample ) {
			if ( ! isset( $samples[ $i + 1 ] ) || $samples[ $i + 1 ][0] > $now - $span ) {
				$kept[] = $sample; // Older ones go; the last one at or before the span's start stays as its anchor.
			}
		}
		$memory['backlog'] = $kept;
		$n                 = count( $kept );
		$growing           = $n > 2 && $kept[0][0] <= $now - $span;
		for ( $i = 1; $growing && $i < $n; $i++ ) {
			$growing = $kept[ $i ][1] > $kept[ $i - 1 ][1];
		}
		// Dead letters since the last alert about them; the first evaluation only notes where the list stands.
		$dead_rows = AttemptsTable::dead_after( isset( $memory['dead_after'] ) ? (int) $memory['dead_after'] : 0 );
		$dead_max  = isset( $memory['dead_after'] ) ? (int) $memory['dead_after'] : 0;
		$dead      = array();
		foreach ( $dead_rows as $row ) {
			$dead_max = max( $dead_max, (int) $row->max_id );
			/* translators: 1: count, 2: hook */
			$dead[] = sprintf( __( '%1$d new dead letters of %2$s', 'sidecar-scheduler' ), $row->n, $row->hook );
		}
		if ( ! isset( $memory['dead_after'] ) ) {
			$memory['dead_after'] = $dead_max;
			$dead                 = array();
		}
		$cleanup = Tests::cleanup();
		return array(
			'no_sidecar'    => array(
				! $live && $due['count'] > 0,
				/* translators: %d: count */
				sprintf( __( 'No sidecar is alive while %d actions are due.', 'sidecar-scheduler' ), $due['count'] ),
			),
			'past_due'      => array(
				$due['count'] > 0 && $age > (int) $s['past_due_seconds'],
				/* translators: 1: count, 2: minutes */
				sprintf( __( '%1$d actions are past due; the oldest has waited %2$d minutes.', 'sidecar-scheduler' ), $due['count'], (int) floor( $age / 60 ) ),
			),
			'stuck'         => array(
				(bool) $stuck,
				/* translators: 1: count, 2: hook, 3: id */
				$stuck ? sprintf( __( '%1$d actions are stuck in progress, the oldest %2$s (#%3$d).', 'sidecar-scheduler' ), count( $stuck ), $stuck[0]->hook, $stuck[0]->action_id ) : '',
			),
			'failure_rate'  => array(
				(bool) $failing,
				implode( '; ', $failing ),
			),
			'cleanup'       => array(
				'good' !== $cleanup['status'],
				$cleanup['label'],
			),
			'backlog'       => array(
				$due['count'] > (int) $s['backlog_count'] || $growing,
				$growing
					/* translators: 1: count, 2: minutes */
					? sprintf( __( '%1$d actions are due and the backlog has grown for %2$d minutes.', 'sidecar-scheduler' ), $due['count'], (int) floor( ( $now - $kept[0][0] ) / 60 ) )
					/* translators: 1: count, 2: threshold */
					: sprintf( __( '%1$d actions are due, more than %2$d.', 'sidecar-scheduler' ), $due['count'], (int) $s['backlog_count'] ),
			),
			'group_failure' => array(
				(bool) $failing_groups,
				implode( '; ', $failing_groups ),
			),
			'dead_letters'  => array(
				(bool) $dead,
				implode( '; ', $dead ),
				array( 'dead_after' => $dead_max ),
			),
		);
	}
}
