<?php
/**
 * Observations that tests/php/library-parity.test.ts makes on a site running only the real Action Scheduler and on a
 * site running only Sidecar Scheduler: the same code, the same black-box API, and the answers must be identical.
 * Run inside WordPress (php() helper); LIBRARY_PARITY_SCENARIO names the observation; prints one JSON line.
 * Every scenario removes the actions it made, so scenarios can run in any order on the same site.
 */

/** Deletes every action, log and claim of the site (each scenario starts from an empty queue). */
function library_parity_reset() {
	global $wpdb;
	$wpdb->query( "DELETE FROM {$wpdb->actionscheduler_actions}" );
	$wpdb->query( "DELETE FROM {$wpdb->actionscheduler_logs}" );
	$wpdb->query( "DELETE FROM {$wpdb->actionscheduler_claims}" );
}

/** The row of one action as both implementations must write it (IDs and run times left out). */
function library_parity_row( $action_id ) {
	global $wpdb;
	return $wpdb->get_row( $wpdb->prepare( "SELECT hook, status, scheduled_date_gmt, scheduled_date_local, schedule, args FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d", $action_id ), ARRAY_A );
}

/** Rows of a hook in ID order, without the IDs. */
function library_parity_rows( $hook ) {
	global $wpdb;
	return $wpdb->get_results( $wpdb->prepare( "SELECT hook, status, scheduled_date_gmt, scheduled_date_local, schedule FROM {$wpdb->actionscheduler_actions} WHERE hook = %s ORDER BY action_id", $hook ), ARRAY_A );
}

/** Value and PHP type, so that "5" and 5 are told apart. */
function library_parity_typed( $value ) {
	return array( gettype( $value ), is_object( $value ) ? get_class( $value ) : $value );
}

/** (a) A site whose timezone is a manual offset ("UTC+5:30", no city). */
function library_parity_manual_offset() {
	$timezone_string = get_option( 'timezone_string' );
	$gmt_offset      = get_option( 'gmt_offset' );
	update_option( 'timezone_string', '' );
	update_option( 'gmt_offset', 5.5 );
	$out = array();
	try {
		$at   = 1893456000; // 2030-01-01 00:00:00 UTC, far in the future.
		$ids  = array(
			'single'    => as_schedule_single_action( $at, 'parity_offset_single' ),
			'recurring' => as_schedule_recurring_action( $at, HOUR_IN_SECONDS, 'parity_offset_recurring' ),
			'cron'      => as_schedule_cron_action( $at, '30 9 * * *', 'parity_offset_cron' ),
		);
		foreach ( $ids as $type => $id ) {
			$out['rows'][ $type ] = library_parity_row( $id );
			$date                  = ActionScheduler::store()->get_date( $id );
			$out['get_date'][ $type ] = array( get_class( $date ), $date->getTimestamp(), $date->getOffset(), $date->format( 'Y-m-d H:i:s' ) );
		}
		$out['next_cron']      = library_parity_typed( as_next_scheduled_action( 'parity_offset_cron' ) );
		$out['next_recurring'] = library_parity_typed( as_next_scheduled_action( 'parity_offset_recurring' ) );
		$out['next_single']    = library_parity_typed( as_next_scheduled_action( 'parity_offset_single' ) );

		// Successors of actions run before they are due: both kinds keep the date they had.
		add_action( 'parity_offset_recurring', '__return_null' );
		add_action( 'parity_offset_cron', '__return_null' );
		ActionScheduler::runner()->process_action( $ids['recurring'], 'parity' );
		ActionScheduler::runner()->process_action( $ids['cron'], 'parity' );
		// A cron action that is past due: its successor is the next 09:30 UTC after now.
		$past = as_schedule_cron_action( time() - 3 * DAY_IN_SECONDS, '30 9 * * *', 'parity_offset_cron_due' );
		add_action( 'parity_offset_cron_due', '__return_null' );
		ActionScheduler::runner()->process_action( $past, 'parity' );
		// A past-due interval action: its successor is due one interval after it ran.
		$interval = as_schedule_recurring_action( time() - 100, HOUR_IN_SECONDS, 'parity_offset_interval_due' );
		add_action( 'parity_offset_interval_due', '__return_null' );
		$before = time();
		ActionScheduler::runner()->process_action( $interval, 'parity' );
		$after = time();
		foreach ( array( 'parity_offset_recurring', 'parity_offset_cron', 'parity_offset_cron_due' ) as $hook ) {
			$out['chains'][ $hook ] = library_parity_rows( $hook );
			foreach ( $out['chains'][ $hook ] as &$row ) {
				unset( $row['status'] ); // The run's own row is complete or failed alike; only the dates matter here.
			}
		}
		$successor = as_next_scheduled_action( 'parity_offset_interval_due' );
		$out['interval_successor_one_hour_after_run'] = is_int( $successor ) && $successor >= $before + HOUR_IN_SECONDS && $successor <= $after + HOUR_IN_SECONDS;
		$out['next_cron_due'] = library_parity_typed( as_next_scheduled_action( 'parity_offset_cron_due' ) );
		$out['local_column_of_due_successor'] = (bool) preg_match( '/ 09:30:00$/', library_parity_rows( 'parity_offset_cron_due' )[1]['scheduled_date_local'] );
	} finally {
		update_option( 'timezone_string', $timezone_string );
		update_option( 'gmt_offset', $gmt_offset );
		library_parity_reset();
	}
	return $out;
}

/** (b) What action_scheduler_canceled_action and the bulk hook receive, from every way of cancelling. */
function library_parity_cancel_ids() {
	$seen = array();
	add_action( 'action_scheduler_canceled_action', function ( $action_id ) use ( &$seen ) {
		$seen[] = array( 'canceled', gettype( $action_id ), (int) $action_id === $GLOBALS['library_parity_expected'] );
	} );
	add_action( 'action_scheduler_bulk_cancel_actions', function ( $ids ) use ( &$seen ) {
		$seen[] = array( 'bulk', array_map( 'gettype', $ids ) );
	} );
	$out = array();
	$when = time() + HOUR_IN_SECONDS;

	$GLOBALS['library_parity_expected'] = as_schedule_single_action( $when, 'parity_cancel', array( 1 ) );
	$cancelled                           = as_unschedule_action( 'parity_cancel', array( 1 ) );
	$out['as_unschedule_action']         = array( gettype( $cancelled ), $cancelled === $GLOBALS['library_parity_expected'] );

	$GLOBALS['library_parity_expected'] = as_schedule_single_action( $when, 'parity_cancel', array( 2 ) );
	as_unschedule_all_actions( 'parity_cancel', array( 2 ) ); // With args: one by one.

	$GLOBALS['library_parity_expected'] = as_schedule_single_action( $when, 'parity_cancel', array( 3 ) );
	$out['wc_unschedule_action'] = library_parity_typed( @wc_unschedule_action( 'parity_cancel', array( 3 ) ) ); // phpcs:ignore -- its deprecation notice is not what is compared here.

	as_schedule_single_action( $when, 'parity_cancel_bulk' );
	as_unschedule_all_actions( 'parity_cancel_bulk' ); // By hook alone: the bulk path.

	// A cancel from a callback while the queue runner works through its batch.
	$GLOBALS['library_parity_expected'] = as_schedule_single_action( $when, 'parity_cancel_target' );
	add_action( 'parity_cancel_from_batch', function () {
		as_unschedule_action( 'parity_cancel_target' );
	} );
	as_enqueue_async_action( 'parity_cancel_from_batch' );
	$out['run'] = ActionScheduler::runner()->run( 'parity' );
	$out['target_status'] = ActionScheduler::store()->get_status( $GLOBALS['library_parity_expected'] );
	$out['nothing_cancelled'] = library_parity_typed( as_unschedule_action( 'parity_cancel_none' ) );
	$out['seen'] = $seen;
	library_parity_reset();
	return $out;
}

/** (c) Args over 8,000 bytes of JSON: return values, the exception and what reaches the error log. */
function library_parity_long_args() {
	$log = tempnam( sys_get_temp_dir(), 'library-parity' );
	ini_set( 'error_log', $log ); // phpcs:ignore WordPress.PHP.IniSet
	$notices = array();
	set_error_handler( function ( $errno, $message ) use ( &$notices ) { // phpcs:ignore
		$notices[] = array( $errno, $message );
		return true;
	}, E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED );
	$long = array( str_repeat( 'x', 7996 ) ); // ["xxx…"] is 8,000 bytes: the longest accepted.
	$out  = array(
		'at_limit'   => as_enqueue_async_action( 'parity_args', $long ) > 0,
		'async'      => library_parity_typed( as_enqueue_async_action( 'parity_args', array( str_repeat( 'x', 7997 ) ) ) ),
		'single'     => library_parity_typed( as_schedule_single_action( time() + 60, 'parity_args', array( str_repeat( 'y', 9000 ) ) ) ),
		'unique'     => library_parity_typed( as_schedule_single_action( time() + 60, 'parity_args_unique', array( str_repeat( 'z', 9000 ) ), '', true ) ),
		'recurring'  => library_parity_typed( as_schedule_recurring_action( time() + 60, 60, 'parity_args', array( str_repeat( 'r', 9000 ) ) ) ),
	);
	try {
		ActionScheduler::store()->save_action( new ActionScheduler_Action( 'parity_args', array( str_repeat( 's', 8001 ) ) ) );
		$out['save_action'] = 'saved';
	} catch ( Exception $e ) {
		$out['save_action'] = array( get_class( $e ), $e->getMessage(), $e->getCode(), null === $e->getPrevious() );
	}
	restore_error_handler();
	$out['notices']   = $notices;
	$out['error_log'] = array_map(
		function ( $line ) {
			return preg_replace( '/^\[[^\]]+\] /', '', $line ); // The timestamp PHP puts in front.
		},
		array_values( array_filter( explode( "\n", (string) file_get_contents( $log ) ) ) )
	);
	unlink( $log );
	library_parity_reset();
	return $out;
}

/** (e) The arguments and their types that every pre_as_* filter receives, and what their answers do. */
function library_parity_pre_filters() {
	$seen    = array();
	$filters = array( 'pre_as_enqueue_async_action', 'pre_as_schedule_single_action', 'pre_as_schedule_recurring_action', 'pre_as_schedule_cron_action' );
	foreach ( $filters as $filter ) {
		add_filter( $filter, function ( ...$args ) use ( &$seen, $filter ) {
			$seen[ $filter ][] = array_map( 'library_parity_typed', $args );
			return $GLOBALS['library_parity_pre'];
		}, 10, 20 );
	}
	$out = array();
	foreach ( array( 'null' => null, 'int' => 4242, 'string' => '4242', 'false' => false ) as $name => $answer ) {
		$GLOBALS['library_parity_pre'] = $answer;
		$ids                           = array(
			as_enqueue_async_action( 'parity_pre', array( 'a' => 1 ), 'parity-group', true, 7 ),
			as_schedule_single_action( 1893456000, 'parity_pre', array( 'b' => 2 ), 'parity-group', true, 8 ),
			as_schedule_recurring_action( 1893456000, 3600, 'parity_pre', array( 'c' => 3 ), 'parity-group', false, 9 ),
			as_schedule_cron_action( 1893456000, '0 0 * * *', 'parity_pre', array( 'd' => 4 ), 'parity-group', true, 11 ),
		);
		$out[ $name ] = array_map(
			function ( $id ) {
				return is_int( $id ) && $id > 0 && 4242 !== $id ? 'stored' : library_parity_typed( $id );
			},
			$ids
		);
	}
	$out['seen'] = $seen;
	library_parity_reset();
	return $out;
}

/**
 * (f) Group IDs when the group row goes away: rolled back as WordPress' PHPUnit test case does after each test, or
 * deleted. The store must never hand out an ID it remembers from before.
 */
function library_parity_groups() {
	global $wpdb;
	$out = array();
	$wpdb->query( 'START TRANSACTION' );
	$out['in_transaction'] = as_schedule_single_action( time() + 60, 'parity_group', array(), 'parity-rolled-back' ) > 0;
	$wpdb->query( 'ROLLBACK' );
	$out['group_rows_after_rollback'] = (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->actionscheduler_groups} WHERE slug = %s", 'parity-rolled-back' ) );

	$id = as_schedule_single_action( 1893456000, 'parity_group', array(), 'parity-rolled-back' );
	$out['points_at_its_group'] = $wpdb->get_var( $wpdb->prepare( "SELECT g.slug FROM {$wpdb->actionscheduler_actions} a JOIN {$wpdb->actionscheduler_groups} g ON g.group_id = a.group_id WHERE a.action_id = %d", $id ) );
	$out['next']     = library_parity_typed( as_next_scheduled_action( 'parity_group', null, 'parity-rolled-back' ) );
	$out['has']      = as_has_scheduled_action( 'parity_group', null, 'parity-rolled-back' );
	$out['fetched_group'] = ActionScheduler::store()->fetch_action( $id )->get_group();
	as_unschedule_all_actions( '', array(), 'parity-rolled-back' );
	$out['after_unschedule_all'] = ActionScheduler::store()->get_status( $id );

	// The group row deleted by someone else while this request still runs.
	as_schedule_single_action( 1893456000, 'parity_group_deleted', array(), 'parity-deleted' );
	$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_groups} WHERE slug = %s", 'parity-deleted' ) );
	$again = as_schedule_single_action( 1893456100, 'parity_group_deleted', array(), 'parity-deleted' );
	$out['deleted_then_new']   = $wpdb->get_var( $wpdb->prepare( "SELECT g.slug FROM {$wpdb->actionscheduler_actions} a JOIN {$wpdb->actionscheduler_groups} g ON g.group_id = a.group_id WHERE a.action_id = %d", $again ) );
	$out['deleted_then_query'] = library_parity_typed( as_next_scheduled_action( 'parity_group_deleted', null, 'parity-deleted' ) );
	$out['deleted_then_count'] = count( as_get_scheduled_actions( array( 'group' => 'parity-deleted', 'per_page' => -1 ), 'ids' ) );
	library_parity_reset();
	$wpdb->query( "DELETE FROM {$wpdb->actionscheduler_groups} WHERE slug LIKE 'parity-%'" );
	return $out;
}

/** (h) raise_time_limit(): 0 is unlimited, a lower limit never lowers it. */
function library_parity_time_limit() {
	$out = array();
	foreach ( array( array( 30, 0 ), array( 30, 10 ), array( 30, 60 ), array( 0, 10 ) ) as $case ) {
		set_time_limit( $case[0] );
		ActionScheduler_Compatibility::raise_time_limit( $case[1] );
		$out[] = array( $case, (int) ini_get( 'max_execution_time' ) );
	}
	set_time_limit( 0 );
	return $out;
}

/** (i) The version registry, as probes and a strict_types caller use it. */
function library_parity_versions() {
	$versions = ActionScheduler_Versions::instance();
	require_once __DIR__ . '/library-parity-strict.php';
	return array(
		'latest'      => library_parity_typed( $versions->latest_version() ),
		'versions'    => array_keys( $versions->get_versions() ),
		'callable'    => is_callable( $versions->latest_version_callback() ),
		'strict'      => library_parity_strict_version_probe(),
		'register'    => $versions->register( $versions->latest_version(), '__return_null' ),
	);
}

/** (g) Plugins' own runner, store, factory, lock and async helper built on the library's classes. */
function library_parity_custom_runner() {
	require_once __DIR__ . '/library-parity-runner.php';
	$hooks = array();
	foreach ( array( 'action_scheduler_before_execute', 'action_scheduler_begin_execute', 'action_scheduler_after_execute', 'action_scheduler_failed_execution', 'action_scheduler_execution_ignored', 'action_scheduler_failed_validation' ) as $hook ) {
		add_action( $hook, function ( $action_id ) use ( &$hooks, $hook ) {
			$hooks[] = array( $hook, $GLOBALS['library_parity_names'][ $action_id ] ?? $action_id, func_get_args()[ func_num_args() - 1 ] );
		}, 10, 3 );
	}
	add_action( 'parity_runner_ok', '__return_null' );
	add_action( 'parity_runner_recurring', '__return_null' );
	add_action( 'parity_runner_throw', function () {
		throw new RuntimeException( 'parity boom' );
	} );
	$store = new Library_Parity_Store();
	$names = array(
		as_enqueue_async_action( 'parity_runner_ok' )                                 => 'ok',
		as_schedule_single_action( time() - 10, 'parity_runner_throw' )               => 'throw',
		as_schedule_recurring_action( time() - 5, HOUR_IN_SECONDS, 'parity_runner_recurring' ) => 'recurring',
	);
	$GLOBALS['library_parity_names'] = $names;
	$runner = new Library_Parity_Runner( $store );
	$out    = array(
		'is_runner' => array( $runner instanceof ActionScheduler_Abstract_QueueRunner, is_subclass_of( 'ActionScheduler_QueueRunner', 'ActionScheduler_Abstract_QueueRunner' ) ),
		'limits'    => $runner->limits(),
		'processed' => $runner->run(),
	);
	$out['hooks']    = $hooks;
	$out['statuses'] = array();
	$out['logs']     = array();
	foreach ( $names as $action_id => $name ) {
		$out['statuses'][ $name ] = $store->get_status( $action_id );
		$out['logs'][ $name ]     = array_map(
			function ( $entry ) {
				return $entry->get_message();
			},
			ActionScheduler::logger()->get_logs( $action_id )
		);
	}
	$out['successors'] = count( as_get_scheduled_actions( array( 'hook' => 'parity_runner_recurring', 'status' => 'pending' ), 'ids' ) );
	$out['saved_by_subclass'] = $store->saved; // The successor is stored through the global store, as in the library.
	$out['claims_left']       = (int) $GLOBALS['wpdb']->get_var( "SELECT COUNT(*) FROM {$GLOBALS['wpdb']->actionscheduler_claims}" );

	$factory = new Library_Parity_Factory();
	$stored  = $factory->get_stored_action( 'complete', 'parity_factory', array( 1 ), new ActionScheduler_SimpleSchedule( as_get_datetime_object( 1893456000 ) ), 'g', 7 );
	$out['factory'] = array(
		get_class( $stored ),
		$stored->get_priority(),
		get_class( $factory->async_unique( 'parity_factory_async' ) > 0 ? $stored : $factory ),
		gettype( $factory->single( 'parity_factory_single', array(), 1893456000 ) ),
		gettype( $factory->cron_unique( 'parity_factory_cron', array(), 1893456000, '0 0 * * *', '', true ) ),
		library_parity_typed( $factory->recurring_unique( 'parity_factory_cron', array(), 1893456000, 60, '', true ) ),
	);
	try {
		$factory->single( 'parity_factory_long', array( str_repeat( 'x', 9000 ) ) );
		$out['factory_throws'] = false;
	} catch ( Exception $e ) {
		$out['factory_throws'] = array( get_class( $e ), $e->getMessage() );
	}

	$lock        = ActionScheduler::lock();
	$custom_lock = new Library_Parity_Lock();
	delete_option( 'action_scheduler_lock_parity' );
	$out['lock'] = array(
		'class'                => array( get_class( $lock ), $lock instanceof ActionScheduler_Lock ),
		'expiration_when_free' => library_parity_typed( $lock->get_expiration( 'parity' ) ),
		'locked_when_free'     => $lock->is_locked( 'parity' ),
		'set'                  => $lock->set( 'parity' ),
		'set_again'            => $lock->set( 'parity' ),
		'locked'               => $lock->is_locked( 'parity' ),
		'expires_in'           => $lock->get_expiration( 'parity' ) - time() >= 59,
		'custom'               => array( $custom_lock->is_locked( 'x' ), $custom_lock->set( 'x' ), $custom_lock->is_locked( 'x' ) ),
	);
	delete_option( 'action_scheduler_lock_parity' );

	$async        = new Library_Parity_Async_Request( ActionScheduler::store() );
	$out['async'] = array(
		'allowed_with_due' => array( ActionScheduler::store()->has_pending_actions_due(), $async->allowed() ),
		'sleep'            => $async->sleep_seconds(),
		'request'          => $async->request(),
		'hooked'           => has_action( 'wp_ajax_as_async_request_queue_runner', array( $async, 'maybe_handle' ) ),
		'parent'           => get_parent_class( $async ),
	);

	$exception         = ActionScheduler_InvalidActionException::from_decoding_args( 5 );
	$out['exceptions'] = array( $exception instanceof ActionScheduler_Exception, $exception instanceof InvalidArgumentException, $exception->getMessage() );
	$out['compat']     = array( ActionScheduler_Compatibility::convert_hr_to_bytes( '64M' ), ActionScheduler_Compatibility::convert_hr_to_bytes( '1G' ) );
	$out['data']       = array( ActionScheduler_DataController::DATASTORE_CLASS, ActionScheduler_DataController::is_migration_complete(), get_class( ActionScheduler_DataController::instance() ) );
	$out['monitor']    = get_class( new ActionScheduler_FatalErrorMonitor( ActionScheduler::store() ) );
	library_parity_reset();
	return $out;
}

/** (g) The table makers plugins call to check and recreate the queue tables (test set-ups do, after dropping them). */
function library_parity_schema() {
	global $wpdb;
	$events = array();
	add_action( 'action_scheduler/created_table', function ( $full, $short ) use ( &$events ) { // phpcs:ignore WordPress.NamingConventions.ValidHookName
		$events[] = array( 'created', $full === $GLOBALS['wpdb']->prefix . $short, $short );
	}, 10, 2 );
	add_action( 'action_scheduler_before_schema_update', function ( $table, $db_version ) use ( &$events ) {
		$events[] = array( 'before_update', $table, preg_replace( '/\.\d+$/', '.<time>', (string) $db_version ) );
	}, 10, 2 );
	$store  = new ActionScheduler_StoreSchema();
	$logger = new ActionScheduler_LoggerSchema();
	$store->init();
	$logger->init();
	$out = array( 'exist' => array( $store->tables_exist(), $logger->tables_exist() ) );
	$wpdb->query( "DROP TABLE {$wpdb->prefix}actionscheduler_claims" );
	$wpdb->query( "DROP TABLE {$wpdb->prefix}actionscheduler_logs" );
	$out['after_drop'] = array( $store->tables_exist(), $logger->tables_exist() );
	$store->register_tables();
	$logger->register_tables();
	$out['unforced'] = array( $store->tables_exist(), $logger->tables_exist() );
	$store->register_tables( true );
	$logger->register_tables( true );
	$out['forced']  = array( $store->tables_exist(), $logger->tables_exist() );
	$out['events']  = $events;
	$out['options'] = array( (bool) preg_match( '/^7\.0\.\d+$/', get_option( 'schema-ActionScheduler_StoreSchema' ) ), (bool) preg_match( '/^3\.0\.\d+$/', get_option( 'schema-ActionScheduler_LoggerSchema' ) ) );
	foreach ( array( 'actionscheduler_claims', 'actionscheduler_logs' ) as $table ) {
		$create                  = $wpdb->get_row( "SHOW CREATE TABLE {$wpdb->prefix}{$table}", ARRAY_N )[1];
		$out['create'][ $table ] = str_replace( $wpdb->prefix, '{prefix}', preg_replace( '/ AUTO_INCREMENT=\d+/', '', $create ) );
	}
	$out['constants'] = array( ActionScheduler_StoreSchema::ACTIONS_TABLE, ActionScheduler_StoreSchema::DEFAULT_DATE, ActionScheduler_LoggerSchema::LOG_TABLE );
	$out['still_works'] = as_schedule_single_action( time() + 60, 'parity_schema' ) > 0 && 1 === count( ActionScheduler::logger()->get_logs( as_next_scheduled_action( 'parity_schema' ) ? (int) ActionScheduler::store()->query_action( array( 'hook' => 'parity_schema' ) ) : 0 ) );
	library_parity_reset();
	return $out;
}

$library_parity_scenarios = array(
	'manual-offset' => 'library_parity_manual_offset',
	'cancel-ids'    => 'library_parity_cancel_ids',
	'long-args'     => 'library_parity_long_args',
	'pre-filters'   => 'library_parity_pre_filters',
	'groups'        => 'library_parity_groups',
	'time-limit'    => 'library_parity_time_limit',
	'versions'      => 'library_parity_versions',
	'custom-runner' => 'library_parity_custom_runner',
	'schema'        => 'library_parity_schema',
);
$library_parity_name = getenv( 'LIBRARY_PARITY_SCENARIO' );
if ( ! isset( $library_parity_scenarios[ $library_parity_name ] ) ) {
	fwrite( STDERR, "unknown scenario {$library_parity_name}\n" );
	exit( 2 );
}
library_parity_reset();
echo "\n" . wp_json_encode( call_user_func( $library_parity_scenarios[ $library_parity_name ] ) ) . "\n";
