<?php
/**
 * Plugin Name:       Sidecar Scheduler
 * Description:       The Action Scheduler API and tables, run on time by a long-lived sidecar instead of WP-Cron, with a queue health screen.
 * Version:           0.1.0
 * Requires at least: 6.2
 * Requires PHP:      7.4
 * Author:            Sidecar Scheduler contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       sidecar-scheduler
 */

defined( 'ABSPATH' ) || exit;

define( 'SIDECAR_SCHEDULER_FILE', __FILE__ );
define( 'SIDECAR_SCHEDULER_DIR', __DIR__ );

require_once __DIR__ . '/src/autoload.php';

register_activation_hook( __FILE__, array( 'SidecarScheduler\\Lifecycle', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'SidecarScheduler\\Lifecycle', 'deactivate' ) );

SidecarScheduler\Plugin::boot( __FILE__ );
