<?php
/**
 * The paused banner on the queue screen: what is paused, by whom and when, with the command to resume it.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Admin;

use SidecarScheduler\Policy\Pauses;

defined( 'ABSPATH' ) || exit;

/**
 * Admin notice listing pauses.
 */
final class PauseBanner {
	/**
	 * Shows the banner on our screen only.
	 *
	 * @return void
	 */
	public static function render() {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( ! $screen || false === strpos( (string) $screen->id, Page::slug() ) ) {
			return;
		}
		if ( ! current_user_can( apply_filters( 'sidecar_scheduler_capability', 'manage_options' ) ) ) {
			return;
		}
		self::breakers();
		$pauses = Pauses::listing();
		if ( ! $pauses ) {
			return;
		}
		echo '<div class="notice notice-warning sidecar-scheduler-paused"><p><strong>' . esc_html__( 'Paused: these actions stay pending and are not started until resumed.', 'sidecar-scheduler' ) . '</strong></p><ul>';
		foreach ( $pauses as $p ) {
			$when = get_date_from_gmt( $p['atGmt'], get_option( 'date_format' ) . ' ' . get_option( 'time_format' ) );
			echo '<li>' . esc_html(
				sprintf(
					/* translators: 1: group or hook 2: name 3: who 4: local date 5: WP-CLI command */
					__( '%1$s "%2$s": paused by %3$s on %4$s. Resume: %5$s', 'sidecar-scheduler' ),
					'group' === $p['scope'] ? __( 'Group', 'sidecar-scheduler' ) : __( 'Hook', 'sidecar-scheduler' ),
					$p['name'],
					$p['by'],
					$when,
					'wp sidecar-scheduler resume ' . $p['scope'] . ' ' . $p['name']
				)
			) . '</li>';
		}
		echo '</ul></div>';
	}

	/**
	 * Open and half-open circuit breakers: since when, until when, why.
	 *
	 * @return void
	 */
	private static function breakers() {
		$open = array_filter(
			\SidecarScheduler\Policy\Breakers::listing(),
			function ( $b ) {
				return 'closed' !== $b['state'];
			}
		);
		if ( ! $open ) {
			return;
		}
		$format = get_option( 'date_format' ) . ' ' . get_option( 'time_format' );
		echo '<div class="notice notice-error sidecar-scheduler-breakers"><p><strong>' . esc_html__( 'Circuit breaker open: these groups\' actions wait pending.', 'sidecar-scheduler' ) . '</strong></p><ul>';
		foreach ( $open as $b ) {
			$line = 'open' === $b['state']
				/* translators: 1: group 2: local date 3: local date 4: reason */
				? sprintf( __( 'Group "%1$s": open since %2$s, until %3$s (%4$s); then one trial run decides.', 'sidecar-scheduler' ), $b['group'], get_date_from_gmt( (string) $b['openedGmt'], $format ), get_date_from_gmt( (string) $b['untilGmt'], $format ), $b['reason'] )
				/* translators: 1: group 2: local date */
				: sprintf( __( 'Group "%1$s": half-open, its trial run started %2$s.', 'sidecar-scheduler' ), $b['group'], get_date_from_gmt( (string) $b['trialGmt'], $format ) );
			echo '<li>' . esc_html( $line ) . '</li>';
		}
		echo '</ul></div>';
	}
}
