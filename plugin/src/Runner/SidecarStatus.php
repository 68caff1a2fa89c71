<?php
/** Whether a sidecar serves this site: a heartbeat row fresher than the stale threshold. Cached per request. */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Store\HealthQueries;

defined( 'ABSPATH' ) || exit;

final class SidecarStatus {
	private static $alive = null;

	public static function is_alive() {
		if ( null === self::$alive ) {
			self::$alive = apply_filters( 'sidecar_scheduler_sidecar_alive', HealthQueries::live_sidecar_count() > 0 );
		}
		return self::$alive;
	}

	public static function reset() {
		self::$alive = null;
	}
}
