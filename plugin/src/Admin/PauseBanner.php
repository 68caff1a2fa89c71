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
}
