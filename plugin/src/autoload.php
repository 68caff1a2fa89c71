<?php
/**
 * Autoloading: PSR-4 for SidecarScheduler\ classes, and a class map for the Action Scheduler class names that
 * is registered only in standalone mode (in companion mode those names belong to the other copy).
 */
defined( 'ABSPATH' ) || exit;

spl_autoload_register(
	static function ( $class_name ) {
		if ( 0 !== strpos( $class_name, 'SidecarScheduler\\' ) ) {
			return;
		}
		$file = __DIR__ . '/' . str_replace( '\\', '/', substr( $class_name, strlen( 'SidecarScheduler\\' ) ) ) . '.php';
		if ( is_readable( $file ) ) {
			require_once $file;
		}
	}
);

/** Registers the Action Scheduler class names. Called once, by Plugin::boot in standalone mode. */
function sidecar_scheduler_register_compat_autoloader() {
	$dir = __DIR__ . '/Compat/';
	$map = array(
		'ActionScheduler'                            => 'ActionScheduler.php',
		'ActionScheduler_Versions'                   => 'ActionScheduler_Versions.php',
		'ActionScheduler_OptionLock'                 => 'ActionScheduler_OptionLock.php',
		'ActionScheduler_DateTime'                   => 'ActionScheduler_DateTime.php',
		'ActionScheduler_Schedule'                   => 'ActionScheduler_Schedules.php',
		'ActionScheduler_Abstract_Schedule'          => 'ActionScheduler_Schedules.php',
		'ActionScheduler_Abstract_RecurringSchedule' => 'ActionScheduler_Schedules.php',
		'ActionScheduler_NullSchedule'               => 'ActionScheduler_Schedules.php',
		'ActionScheduler_SimpleSchedule'             => 'ActionScheduler_Schedules.php',
		'ActionScheduler_CanceledSchedule'           => 'ActionScheduler_Schedules.php',
		'ActionScheduler_IntervalSchedule'           => 'ActionScheduler_Schedules.php',
		'ActionScheduler_CronSchedule'               => 'ActionScheduler_Schedules.php',
		'CronExpression'                             => 'CronExpression.php',
		'CronExpression_FieldFactory'                => 'CronExpression.php',
		'CronExpression_FieldInterface'              => 'CronExpression.php',
		'CronExpression_AbstractField'               => 'CronExpression.php',
		'CronExpression_MinutesField'                => 'CronExpression.php',
		'CronExpression_HoursField'                  => 'CronExpression.php',
		'CronExpression_DayOfMonthField'             => 'CronExpression.php',
		'CronExpression_MonthField'                  => 'CronExpression.php',
		'CronExpression_DayOfWeekField'              => 'CronExpression.php',
		'CronExpression_YearField'                   => 'CronExpression.php',
		'ActionScheduler_Action'                     => 'ActionScheduler_Actions.php',
		'ActionScheduler_FinishedAction'             => 'ActionScheduler_Actions.php',
		'ActionScheduler_CanceledAction'             => 'ActionScheduler_Actions.php',
		'ActionScheduler_NullAction'                 => 'ActionScheduler_Actions.php',
		'ActionScheduler_ActionClaim'                => 'ActionScheduler_Actions.php',
		'ActionScheduler_LogEntry'                   => 'ActionScheduler_Actions.php',
		'ActionScheduler_Store'                      => 'ActionScheduler_Store.php',
		'ActionScheduler_InvalidActionException'     => 'ActionScheduler_Store.php',
		'ActionScheduler_TimezoneHelper'             => 'ActionScheduler_Store.php',
		'ActionScheduler_DBStore'                    => 'ActionScheduler_DBStore.php',
		'ActionScheduler_Logger'                     => 'ActionScheduler_DBLogger.php',
		'ActionScheduler_DBLogger'                   => 'ActionScheduler_DBLogger.php',
		'ActionScheduler_NullLogEntry'               => 'ActionScheduler_DBLogger.php',
		'ActionScheduler_ActionFactory'              => 'ActionScheduler_ActionFactory.php',
		'ActionScheduler_QueueRunner'                => 'ActionScheduler_QueueRunner.php',
		'ActionScheduler_Compatibility'              => 'ActionScheduler_QueueRunner.php',
		'ActionScheduler_QueueCleaner'               => 'ActionScheduler_QueueCleaner.php',
		'Action_Scheduler\\WP_CLI\\ProgressBar'      => 'WP_CLI/ProgressBar.php',
	);
	spl_autoload_register(
		static function ( $class_name ) use ( $dir, $map ) {
			if ( isset( $map[ $class_name ] ) ) {
				require_once $dir . $map[ $class_name ];
			} elseif ( 0 === strpos( $class_name, 'ActionScheduler_' ) && is_readable( $dir . $class_name . '.php' ) ) {
				require_once $dir . $class_name . '.php'; // Classes with a file of their own: Compat/<class>.php.
			}
		}
	);
}
