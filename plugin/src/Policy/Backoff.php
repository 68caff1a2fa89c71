<?php
/**
 * The delay before retry N: the explicit list (its last entry repeats), or exponential base * factor^(N-1) capped at
 * max, with up to ±jitter of it added at random so that many actions failing together do not retry together.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Retry delays.
 */
final class Backoff {
	/**
	 * Seconds to wait before retry $retry (1 = the first retry).
	 *
	 * @param array    $policy Normal-form policy with retries.
	 * @param int      $retry  Which retry, from 1.
	 * @param callable $random Returns a float in [0, 1); injectable so the jitter's bounds can be tested.
	 * @return int
	 */
	public static function delay( array $policy, $retry, $random = null ) {
		$retry = max( 1, (int) $retry );
		if ( isset( $policy['delays'] ) ) {
			$list = $policy['delays'];
			return (int) $list[ min( $retry, count( $list ) ) - 1 ];
		}
		$b     = $policy['backoff'];
		$delay = min( (float) $b['max'], (float) $b['base'] * pow( (float) $b['factor'], $retry - 1 ) );
		if ( $b['jitter'] > 0 ) {
			$r      = $random ? (float) call_user_func( $random ) : mt_rand() / ( mt_getrandmax() + 1 ); // phpcs:ignore WordPress.WP.AlternativeFunctions.rand_mt_rand -- jitter for a retry delay, not a secret; tests pass their own source.
			$delay += $delay * $b['jitter'] * ( 2 * $r - 1 );
		}
		return (int) max( 0, round( $delay ) );
	}
}
