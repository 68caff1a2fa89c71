<?php
/**
 * Black-box conformance checks against the facts sheet, run inside real WordPress (loaded by the caller).
 * Prints one JSON object: check name => [actual, expected]. Uses only the public API, the store and SQL.
 */
global $wpdb;
$c   = array();
$t   = $wpdb->prefix . 'actionscheduler_actions';
$row = function ( $id ) use ( $wpdb, $t ) {
	return $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$t} WHERE action_id = %d", $id ), ARRAY_A );
};
$logs = function ( $id ) use ( $wpdb ) {
	return $wpdb->get_col( $wpdb->prepare( "SELECT message FROM {$wpdb->prefix}actionscheduler_logs WHERE action_id = %d ORDER BY log_id", $id ) );
};
$N = "\0";

// §2 serialisation, byte for byte.
$id = as_schedule_single_action( 1735689600, 'conf_single' );
$c['simple schedule serialisation'] = array( $row( $id )['schedule'], 'O:30:"ActionScheduler_SimpleSchedule":2:{s:22:"' . $N . '*' . $N . 'scheduled_timestamp";i:1735689600;s:41:"' . $N . 'ActionScheduler_SimpleSchedule' . $N . 'timestamp";i:1735689600;}' );
$id = as_enqueue_async_action( 'conf_async' );
$c['null schedule serialisation'] = array( $row( $id )['schedule'], 'O:28:"ActionScheduler_NullSchedule":0:{}' );
$c['async local date equals gmt'] = array( $row( $id )['scheduled_date_local'], $row( $id )['scheduled_date_gmt'] );
$c['new row last_attempt is zero date'] = array( $row( $id )['last_attempt_gmt'], '0000-00-00 00:00:00' );
$id = as_schedule_recurring_action( 1735689600, 3600, 'conf_interval' );
$c['interval schedule serialisation'] = array( $row( $id )['schedule'], 'O:32:"ActionScheduler_IntervalSchedule":5:{s:22:"' . $N . '*' . $N . 'scheduled_timestamp";i:1735689600;s:18:"' . $N . '*' . $N . 'first_timestamp";i:1735689600;s:13:"' . $N . '*' . $N . 'recurrence";i:3600;s:49:"' . $N . 'ActionScheduler_IntervalSchedule' . $N . 'start_timestamp";i:1735689600;s:53:"' . $N . 'ActionScheduler_IntervalSchedule' . $N . 'interval_in_seconds";i:3600;}' );
$id = as_schedule_recurring_action( 1735689600, '600', 'conf_interval_str' );
$c['string interval stored uncast'] = array( (bool) strpos( $row( $id )['schedule'], 's:13:"' . $N . '*' . $N . 'recurrence";s:3:"600"' ), true );
$id = as_schedule_cron_action( 1735689600, '0 3 * * *', 'conf_cron' );
$expected_cron = 'O:28:"ActionScheduler_CronSchedule":5:{s:22:"' . $N . '*' . $N . 'scheduled_timestamp";i:1735700400;s:18:"' . $N . '*' . $N . 'first_timestamp";i:1735689600;s:13:"' . $N . '*' . $N . 'recurrence";O:14:"CronExpression":2:{s:25:"' . $N . 'CronExpression' . $N . 'cronParts";a:5:{i:0;s:1:"0";i:1;s:1:"3";i:2;s:1:"*";i:3;s:1:"*";i:4;s:1:"*";}s:28:"' . $N . 'CronExpression' . $N . 'fieldFactory";O:27:"CronExpression_FieldFactory":1:{s:35:"' . $N . 'CronExpression_FieldFactory' . $N . 'fields";a:5:{i:0;O:27:"CronExpression_MinutesField":0:{}i:1;O:25:"CronExpression_HoursField":0:{}i:2;O:30:"CronExpression_DayOfMonthField":0:{}i:3;O:25:"CronExpression_MonthField":0:{}i:4;O:29:"CronExpression_DayOfWeekField":0:{}}}}s:45:"' . $N . 'ActionScheduler_CronSchedule' . $N . 'start_timestamp";i:1735700400;s:34:"' . $N . 'ActionScheduler_CronSchedule' . $N . 'cron";r:4;}';
$c['cron schedule serialisation (UTC, r:4)'] = array( $row( $id )['schedule'], $expected_cron );

// §1 API edge cases.
$c['priority 300 clamps to 255'] = array( (int) $row( as_enqueue_async_action( 'conf_prio', array(), '', false, 300 ) )['priority'], 255 );
$c['priority -5 clamps to 0'] = array( (int) $row( as_enqueue_async_action( 'conf_prio', array(), '', false, -5 ) )['priority'], 0 );
$c['priority abc stored as 255'] = array( (int) $row( as_enqueue_async_action( 'conf_prio', array(), '', false, 'abc' ) )['priority'], 255 );
$first = as_enqueue_async_action( 'conf_unique', array( 1 ), 'g1', true );
$c['unique collision returns 0 (args ignored)'] = array( as_enqueue_async_action( 'conf_unique', array( 2 ), 'g1', true ), 0 );
$c['unique first insert returns id'] = array( $first > 0, true );
$c['unique other group allowed'] = array( as_enqueue_async_action( 'conf_unique', array( 2 ), 'g2', true ) > 0, true );
foreach ( array( 'blank' => '', 'minutes' => '10 minutes', 'fraction' => 600.5, 'bool' => true ) as $label => $bad ) {
	$c[ "interval {$label} rejected with 0" ] = array( @as_schedule_recurring_action( time(), $bad, 'conf_bad_interval' ), 0 ); // phpcs:ignore
}
$zero = as_schedule_recurring_action( time() + 60, 0, 'conf_zero_interval' );
$c['interval 0 becomes a single action'] = array( strpos( $row( $zero )['schedule'], 'SimpleSchedule' ) !== false, true );
try {
	as_schedule_cron_action( time(), 'not a cron', 'conf_bad_cron' );
	$c['invalid cron throws'] = array( 'no exception', 'InvalidArgumentException' );
} catch ( InvalidArgumentException $e ) {
	$c['invalid cron throws'] = array( get_class( $e ), 'InvalidArgumentException' );
}
try {
	as_enqueue_async_action( 'conf_type', 'not-an-array' );
	$c['non-array args raise TypeError'] = array( 'none', 'TypeError' );
} catch ( TypeError $e ) {
	$c['non-array args raise TypeError'] = array( 'TypeError', 'TypeError' );
}
$long = array( 'k' => str_repeat( 'x', 300 ) );
$lid  = as_enqueue_async_action( 'conf_long', $long );
$c['long args: md5 in args'] = array( $row( $lid )['args'], md5( wp_json_encode( $long ) ) );
$c['long args: json in extended_args'] = array( $row( $lid )['extended_args'], wp_json_encode( $long ) );
$c['args over 8000 refused with 0'] = array( @as_enqueue_async_action( 'conf_huge', array( str_repeat( 'y', 8100 ) ) ), 0 ); // phpcs:ignore
$c['json escaping as wp_json_encode'] = array( $row( as_enqueue_async_action( 'conf_json', array( 'a/b', 'é', 1.0 ) ) )['args'], '["a\/b","\u00e9",1]' );
$c['empty group gets a row, not 0'] = array( (int) $row( as_enqueue_async_action( 'conf_group' ) )['group_id'] > 0, true );

// Queries.
as_schedule_single_action( time() + 3600, 'conf_next', array( 'a' => 1 ) );
$c['next scheduled: timestamp'] = array( is_int( as_next_scheduled_action( 'conf_next' ) ), true );
$c['next scheduled: async gives true'] = array( as_next_scheduled_action( 'conf_async' ), true );
$c['next scheduled: none gives false'] = array( as_next_scheduled_action( 'conf_nothing' ), false );
$c['has scheduled: [] means exactly empty args'] = array( as_has_scheduled_action( 'conf_next', array() ), false );
$c['has scheduled: null matches any args'] = array( as_has_scheduled_action( 'conf_next' ), true );
$ids = as_get_scheduled_actions( array( 'hook' => 'conf_prio', 'per_page' => 2 ), 'ids' );
$c['ids format: strings'] = array( array_map( 'gettype', $ids ), array( 'string', 'string' ) );
$arr = as_get_scheduled_actions( array( 'hook' => 'conf_prio', 'per_page' => 1 ), ARRAY_A );
$c['ARRAY_A elements are empty arrays'] = array( array_values( $arr ), array( array() ) );
$obj = as_get_scheduled_actions( array( 'hook' => 'conf_prio', 'per_page' => 1 ) );
$c['OBJECT pending is ActionScheduler_Action'] = array( get_class( reset( $obj ) ), 'ActionScheduler_Action' );
$c['default per_page is 5'] = array( count( as_get_scheduled_actions( array( 'hook' => 'conf_prio' ), 'ids' ) ) <= 5, true );
as_enqueue_async_action( 'conf_like', array( 'order' => 42, 'x' => 'y' ) );
$c['partial args like'] = array( count( as_get_scheduled_actions( array( 'hook' => 'conf_like', 'args' => array( 'order' => 42 ), 'partial_args_matching' => 'like' ), 'ids' ) ), 1 );
$c['partial args json'] = array( count( as_get_scheduled_actions( array( 'hook' => 'conf_like', 'args' => array( 'order' => 42 ), 'partial_args_matching' => 'json' ), 'ids' ) ), 1 );
$dt = as_get_datetime_object( new DateTime( '2025-01-01 12:00:00', new DateTimeZone( 'America/New_York' ) ) );
$c['datetime object drops its zone'] = array( $dt->format( 'Y-m-d H:i:s e' ), '2025-01-01 12:00:00 UTC' );
$c['as_supports ensure hook'] = array( as_supports( 'ensure_recurring_actions_hook' ), true );

// Unschedule semantics.
as_enqueue_async_action( 'conf_unsched', array( 1 ) );
$c['unschedule default [] args does not match args'] = array( as_unschedule_action( 'conf_unsched' ), null );
$cancel_id = as_unschedule_action( 'conf_unsched', null );
$c['unschedule null args cancels'] = array( $row( $cancel_id )['status'], 'canceled' );
$c['canceled logs'] = array( $logs( $cancel_id ), array( 'action created', 'action canceled' ) );
as_enqueue_async_action( 'conf_all', array( 1 ) );
as_enqueue_async_action( 'conf_all', array( 2 ) );
as_unschedule_all_actions( 'conf_all' );
$c['unschedule all by hook ignores args'] = array( (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$t} WHERE hook='conf_all' AND status='pending'" ), 0 );

// §5 execution: hooks in order, logs, statuses.
$trace = array();
foreach ( array( 'action_scheduler_before_execute', 'action_scheduler_begin_execute', 'action_scheduler_after_execute', 'action_scheduler_completed_action', 'action_scheduler_failed_execution', 'action_scheduler_execution_ignored' ) as $h ) {
	add_action( $h, function () use ( &$trace, $h ) { $trace[] = $h; }, 5 );
}
add_action( 'conf_run', function ( $a, $b ) use ( &$trace ) { $trace[] = "callback:$a,$b"; }, 10, 2 );
$rid = as_enqueue_async_action( 'conf_run', array( 'x' => 'one', 'y' => 'two' ) );
ActionScheduler::runner()->process_action( $rid, 'Test' );
$c['hook order on success'] = array( $trace, array( 'action_scheduler_before_execute', 'action_scheduler_begin_execute', 'callback:one,two', 'action_scheduler_after_execute', 'action_scheduler_completed_action' ) );
$c['success logs'] = array( $logs( $rid ), array( 'action created', 'action started via Test', 'action complete via Test' ) );
$c['attempts incremented'] = array( (int) $row( $rid )['attempts'], 1 );
$trace = array();
ActionScheduler::runner()->process_action( $rid, 'Test' );
$c['not pending: ignored'] = array( $trace, array( 'action_scheduler_before_execute', 'action_scheduler_execution_ignored' ) );
$nid = as_enqueue_async_action( 'conf_no_callbacks' );
ActionScheduler::runner()->process_action( $nid, 'Test' );
$c['no callbacks: failed with message'] = array( end( $logs( $nid ) ), 'action failed via Test: Scheduled action for conf_no_callbacks will not be executed as no callbacks are registered.' );
$uid = as_enqueue_async_action( 'sidecar_test_user_error' );
ActionScheduler::runner()->process_action( $uid, 'Test' );
$c['E_USER_ERROR fails the action'] = array( array( $row( $uid )['status'], end( $logs( $uid ) ) ), array( 'failed', 'action failed via Test: user fatal' ) );
$wpdb->query( "UPDATE {$t} SET args = 'not json' WHERE action_id = " . (int) ( $bad = as_enqueue_async_action( 'sidecar_test_noop' ) ) );
ActionScheduler::runner()->process_action( $bad, 'Test' );
$c['corrupt args: complete without running, logged'] = array( array( $row( $bad )['status'], strpos( implode( '|', $logs( $bad ) ), 'There was a failure fetching this action: Action [' . $bad . '] has invalid arguments' ) !== false ), array( 'complete', true ) );

// §4 recurring successors.
$rec = as_schedule_recurring_action( time() - 10, 600, 'sidecar_test_noop', array(), 'recur' );
ActionScheduler::runner()->process_action( $rec, 'Test' );
$next = as_get_scheduled_actions( array( 'hook' => 'sidecar_test_noop', 'group' => 'recur', 'status' => 'pending' ), 'ids' );
$c['recurring successor created'] = array( count( $next ), 1 );
$succ = $row( $next[0] );
$c['successor due now + interval'] = array( abs( strtotime( $succ['scheduled_date_gmt'] . ' UTC' ) - ( time() + 600 ) ) <= 2, true );
$frec = as_schedule_recurring_action( time() - 10, 600, 'sidecar_test_throw', array(), 'recur-fail' );
ActionScheduler::runner()->process_action( $frec, 'Test' );
$c['successor after failure too'] = array( count( as_get_scheduled_actions( array( 'hook' => 'sidecar_test_throw', 'status' => 'pending' ), 'ids' ) ), 1 );
$early = as_schedule_recurring_action( time() + 3600, 600, 'conf_early' );
add_action( 'conf_early', '__return_null' );
$early_date = $row( $early )['scheduled_date_gmt'];
ActionScheduler::runner()->process_action( $early, 'Test' );
$early_next = as_get_scheduled_actions( array( 'hook' => 'conf_early', 'status' => 'pending' ), 'ids' );
$c['early run: successor at the same date'] = array( $row( $early_next[0] )['scheduled_date_gmt'], $early_date );

// Cron maths (UTC, DOM AND DOW, L, W, #, names, macros).
$cron = function ( $expr, $from ) {
	return CronExpression::factory( $expr )->getNextRunDate( new DateTime( $from, new DateTimeZone( 'UTC' ) ), 0, false )->format( 'Y-m-d H:i' );
};
$c['cron DOM AND DOW'] = array( $cron( '0 0 1 * 1', '2025-01-01 00:00' ), '2025-09-01 00:00' );
$c['cron L last day'] = array( $cron( '0 12 L * *', '2025-02-01 00:00' ), '2025-02-28 12:00' );
$c['cron 5L last friday'] = array( $cron( '0 0 * * 5L', '2025-01-01 00:00' ), '2025-01-31 00:00' );
$c['cron 15W nearest weekday'] = array( $cron( '0 0 15W * *', '2025-03-01 00:00' ), '2025-03-14 00:00' );
$c['cron 1#2 second monday'] = array( $cron( '0 0 * * 1#2', '2025-01-01 00:00' ), '2025-01-13 00:00' );
$c['cron mixed-case names'] = array( $cron( '0 0 1 Feb mON', '2025-01-01 00:00' ), '2027-02-01 00:00' );
$c['cron @weekly'] = array( $cron( '@weekly', '2025-01-01 00:00' ), '2025-01-05 00:00' );
$c['cron year field'] = array( $cron( '0 0 1 1 * 2030', '2025-01-01 00:00' ), '2030-01-01 00:00' );
try {
	CronExpression::factory( '0 0 1 feb *' );
	$c['cron all-lowercase name rejected'] = array( 'accepted', 'Invalid CRON field value feb as position 3' );
} catch ( InvalidArgumentException $e ) {
	$c['cron all-lowercase name rejected'] = array( $e->getMessage(), 'Invalid CRON field value feb as position 3' );
}
try {
	$cron( '61 * * * *', '2025-01-01 00:00' );
	$c['cron impossible'] = array( 'no exception', 'Impossible CRON expression' );
} catch ( RuntimeException $e ) {
	$c['cron impossible'] = array( $e->getMessage(), 'Impossible CRON expression' );
}

// §3 cleaner and timeouts.
$old = as_enqueue_async_action( 'sidecar_test_noop', array( 'old' ) );
ActionScheduler::runner()->process_action( $old, 'Test' );
$wpdb->query( "UPDATE {$t} SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = " . (int) $old );
$stuck = as_enqueue_async_action( 'sidecar_test_noop', array( 'stuck' ) );
$wpdb->query( "UPDATE {$t} SET status = 'in-progress', last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = " . (int) $stuck );
$stale = as_enqueue_async_action( 'sidecar_test_noop', array( 'stale' ) );
$wpdb->query( "UPDATE {$t} SET claim_id = 999, last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = " . (int) $stale );
( new ActionScheduler_QueueCleaner() )->clean( 300 );
$c['cleaner deletes old complete'] = array( $row( $old ), null );
$c['cleaner deletes its logs'] = array( $logs( $old ), array() );
$c['timeout marks in-progress failed'] = array( array( $row( $stuck )['status'], end( $logs( $stuck ) ) ), array( 'failed', 'action marked as failed after 300 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.' ) );
$c['stale claim reset'] = array( array( (int) $row( $stale )['claim_id'], end( $logs( $stale ) ) ), array( 0, 'action reset' ) );

// Claims as the library stakes and releases them.
$claim = ActionScheduler::store()->stake_claim( 3 );
$c['stake claim returns due actions'] = array( count( $claim->get_actions() ) > 0, true );
ActionScheduler::store()->release_claim( $claim );
$c['release resets claim_id'] = array( (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$t} WHERE claim_id = %d", $claim->get_id() ) ), 0 );
$c['store status constants'] = array( array( ActionScheduler_Store::STATUS_RUNNING, ActionScheduler::is_initialized() ), array( 'in-progress', true ) );

echo wp_json_encode( $c );
