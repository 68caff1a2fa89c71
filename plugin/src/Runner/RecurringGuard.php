<?php
/** Schedules the daily action_scheduler_ensure_recurring_actions hook (3.9+) so plugins can re-create broken chains. */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class RecurringGuard {
	const HOOK = 'action_scheduler_ensure_recurring_actions';

	public static function schedule() {
		// Only from admin or CLI requests: a front-end page view should not pay for this lookup.
		if ( ! ( is_admin() || ( defined( 'WP_CLI' ) && WP_CLI ) ) || wp_doing_ajax() ) {
			return;
		}
		if ( false === as_has_scheduled_action( self::HOOK, array(), 'ActionScheduler' ) ) {
			as_schedule_recurring_action( time() + DAY_IN_SECONDS, DAY_IN_SECONDS, self::HOOK, array(), 'ActionScheduler', true );
		}
	}
}
