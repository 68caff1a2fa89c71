<?php
/**
 * What alerts watch: no live sidecar while actions are due, the oldest due action older than a threshold, actions
 * stuck in progress, hooks failing at a high rate in the last hour, cleanup falling behind.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Alerts;

use SidecarScheduler\Insight\FailingHooks;
use SidecarScheduler\SiteHealth\Tests;
use SidecarScheduler\Store\HealthQueries;

defined( 'ABSPATH' ) || exit;

/**
 * Evaluates each condition now.
 */
final class Conditions {

	/**
	 * Each condition: code => array( firing, summary ).
	 *
	 * @param array $s Settings.
	 * @return array
	 */
	public static function evaluate( array $s ) {
		$due     = HealthQueries::past_due();
		$age     = $due['oldest'] ? max( 0, time() - strtotime( $due['oldest'] . ' UTC' ) ) : 0;
		$live    = HealthQueries::live_sidecars();
		$stuck   = HealthQueries::stuck( gmdate( 'Y-m-d H:i:s', time() - (int) $s['stuck_seconds'] ) );
		$failing = array();
		foreach ( FailingHooks::window( 'hour', time() - HOUR_IN_SECONDS )['hooks'] as $h ) {
			if ( $h['failures'] >= (int) $s['failure_min_count'] && $h['failureRate'] >= (float) $s['failure_rate'] ) {
				/* translators: 1: hook, 2: failures, 3: runs, 4: top error */
				$failing[] = sprintf( __( '%1$s failed %2$d of %3$d runs; most often: %4$s', 'sidecar-scheduler' ), $h['hook'], $h['failures'], $h['runs'], $h['errors'] ? $h['errors'][0]['message'] : '' );
			}
		}
		$cleanup = Tests::cleanup();
		return array(
			'no_sidecar'   => array(
				! $live && $due['count'] > 0,
				/* translators: %d: count */
				sprintf( __( 'No sidecar is alive while %d actions are due.', 'sidecar-scheduler' ), $due['count'] ),
			),
			'past_due'     => array(
				$due['count'] > 0 && $age > (int) $s['past_due_seconds'],
				/* translators: 1: count, 2: minutes */
				sprintf( __( '%1$d actions are past due; the oldest has waited %2$d minutes.', 'sidecar-scheduler' ), $due['count'], (int) floor( $age / 60 ) ),
			),
			'stuck'        => array(
				(bool) $stuck,
				/* translators: 1: count, 2: hook, 3: id */
				$stuck ? sprintf( __( '%1$d actions are stuck in progress, the oldest %2$s (#%3$d).', 'sidecar-scheduler' ), count( $stuck ), $stuck[0]->hook, $stuck[0]->action_id ) : '',
			),
			'failure_rate' => array(
				(bool) $failing,
				implode( '; ', $failing ),
			),
			'cleanup'      => array(
				'good' !== $cleanup['status'],
				$cleanup['label'],
			),
		);
	}
}
