<?php
/**
 * While a sidecar is alive, the PHP-side runners stand down (WP-Cron callback and the async loopback) so that the
 * sidecar is the only processor besides explicit admin "Run" and WP-CLI. Without one, they keep the queue moving.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class Fallback {
	public static function register() {
		if ( ! class_exists( 'ActionScheduler', false ) ) {
			return;
		}
		if ( SidecarStatus::is_alive() ) {
			// The cron event stays scheduled (harmless), but nothing runs on it.
			remove_action( 'action_scheduler_run_queue', array( \ActionScheduler::runner(), 'run' ) );
			add_filter( 'action_scheduler_allow_async_request_runner', '__return_false', 100 );
			return;
		}
		if ( \SidecarScheduler\Plugin::MODE_STANDALONE === \SidecarScheduler\Plugin::mode() ) {
			// Companion mode keeps the library's own loopback; standalone brings one of its own.
			AsyncRequest::register();
		}
	}
}
