<?php
/**
 * Differential conformance: black-box observations of an Action Scheduler implementation, run inside real WordPress
 * (loaded by the caller) on a site with only the real library and on a site with only ours. Every step goes through
 * what plugins use (the as_* and wc_* functions, ActionScheduler::store()/runner()/logger(), the schedule and cron
 * classes, the public hooks, the four tables); tests/fixtures/observer.php records return values, hook arguments,
 * PHP errors and error_log() lines with their PHP types, and the rows. conformance.test.ts compares the two outputs.
 *
 * Prints one JSON object: observation name => observed value. Fixed timestamps wherever the API allows them.
 */
require_once dirname( __DIR__ ) . '/fixtures/observer.php';

global $wpdb;
$obs = array();
$t   = $wpdb->prefix . 'actionscheduler_actions';

/** One observed step: return value, hook events, errors, error_log lines are one observation each. */
$step = function ( $name, callable $fn ) use ( &$obs ) {
	foreach ( Sidecar_Test_Observer::step( $fn ) as $part => $value ) {
		$obs[ "{$name} | {$part}" ] = $value;
	}
};
/** The four tables at this point, one observation per row. */
$snapshot = function ( $label ) use ( &$obs ) {
	foreach ( Sidecar_Test_Observer::rows() as $key => $row ) {
		$obs[ "rows {$label} | {$key}" ] = $row;
	}
};
$store = function () {
	return ActionScheduler::store();
};

Sidecar_Test_Observer::truncate();
Sidecar_Test_Observer::listen();

const SIDECAR_OBS_T    = 1893456000; // 2030-01-01 00:00:00 UTC, a Tuesday.
const SIDECAR_OBS_PAST = 1735689600; // 2025-01-01 00:00:00 UTC.

// ---------------------------------------------------------------- scheduling
$step( 'enqueue async', function () { return as_enqueue_async_action( 'obs_async' ); } );
$step( 'enqueue async with args, group, priority', function () { return as_enqueue_async_action( 'obs_async', array( 'a' => 1, 'b' => 'x' ), 'grp-a', false, 5 ); } );
$step( 'schedule single (future)', function () { return as_schedule_single_action( SIDECAR_OBS_T, 'obs_single', array( 1, 2 ), 'grp-a' ); } );
$step( 'schedule single (past)', function () { return as_schedule_single_action( SIDECAR_OBS_PAST, 'obs_single_past', array( 'p' ) ); } );
$step( 'schedule single (numeric string timestamp)', function () { return as_schedule_single_action( (string) SIDECAR_OBS_T, 'obs_single_str' ); } );
$step( 'schedule single (float timestamp)', function () { return as_schedule_single_action( SIDECAR_OBS_T + 0.7, 'obs_single_float' ); } );
$step( 'schedule recurring int', function () { return as_schedule_recurring_action( SIDECAR_OBS_T, 3600, 'obs_interval', array(), 'grp-b' ); } );
$step( 'schedule recurring numeric string', function () { return as_schedule_recurring_action( SIDECAR_OBS_T, '600', 'obs_interval_str' ); } );
$step( 'schedule recurring 0 (becomes single)', function () { return as_schedule_recurring_action( SIDECAR_OBS_T, 0, 'obs_interval_zero' ); } );
foreach ( array( 'blank' => '', 'words' => '10 minutes', 'fraction' => 600.5, 'bool' => true, 'negative' => -60, 'null' => null, 'float int' => 600.0 ) as $label => $bad ) {
	$step( "schedule recurring interval {$label}", function () use ( $bad ) { return as_schedule_recurring_action( SIDECAR_OBS_T, $bad, 'obs_interval_bad' ); } );
}
$step( 'schedule cron daily 03:00', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '0 3 * * *', 'obs_cron', array( 'c' => 1 ) ); } );
$step( 'schedule cron @daily', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '@daily', 'obs_cron_macro' ); } );
$step( 'schedule cron every 15 min', function () { return as_schedule_cron_action( SIDECAR_OBS_T + 60, '*/15 * * * *', 'obs_cron_15' ); } );
$step( 'schedule cron with year field', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '0 0 1 1 * 2031', 'obs_cron_year' ); } );
$step( 'schedule cron invalid', function () { return as_schedule_cron_action( SIDECAR_OBS_T, 'not a cron', 'obs_cron_bad' ); } );
$step( 'schedule cron lowercase month name', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '0 0 1 feb *', 'obs_cron_bad' ); } );
$step( 'unique async first', function () { return as_enqueue_async_action( 'obs_unique', array( 1 ), 'u1', true ); } );
$step( 'unique async collision (other args)', function () { return as_enqueue_async_action( 'obs_unique', array( 2 ), 'u1', true ); } );
$step( 'unique async other group', function () { return as_enqueue_async_action( 'obs_unique', array( 2 ), 'u2', true ); } );
$step( 'unique single collision with async', function () { return as_schedule_single_action( SIDECAR_OBS_T, 'obs_unique', array(), 'u1', true ); } );
$step( 'unique recurring first', function () { return as_schedule_recurring_action( SIDECAR_OBS_T, 60, 'obs_unique_rec', array(), '', true ); } );
$step( 'unique recurring collision', function () { return as_schedule_recurring_action( SIDECAR_OBS_T, 60, 'obs_unique_rec', array(), '', true ); } );
$step( 'unique cron first', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '0 * * * *', 'obs_unique_cron', array(), '', true ); } );
$step( 'unique cron collision', function () { return as_schedule_cron_action( SIDECAR_OBS_T, '0 * * * *', 'obs_unique_cron', array(), '', true ); } );
foreach ( array( '300' => 300, '-5' => -5, 'abc' => 'abc', 'string 7' => '7', 'float 7.9' => 7.9, 'null' => null ) as $label => $priority ) {
	$step( "priority {$label}", function () use ( $priority ) { return as_enqueue_async_action( 'obs_priority', array(), '', false, $priority ); } );
}
$step( 'args of 300 bytes (hashed)', function () { return as_enqueue_async_action( 'obs_long', array( 'k' => str_repeat( 'x', 300 ) ) ); } );
$step( 'args of 191 bytes', function () { return as_enqueue_async_action( 'obs_long', array( str_repeat( 'y', 187 ) ) ); } );
$step( 'args of 192 bytes', function () { return as_enqueue_async_action( 'obs_long', array( str_repeat( 'y', 188 ) ) ); } );
$step( 'args of 8000 bytes', function () { return as_enqueue_async_action( 'obs_long', array( str_repeat( 'z', 7996 ) ) ); } );
$step( 'args over 8000 bytes', function () { return as_enqueue_async_action( 'obs_huge', array( str_repeat( 'z', 8100 ) ) ); } );
$step( 'args json escaping', function () { return as_enqueue_async_action( 'obs_json', array( 'a/b', 'é', 1.0, 2.5, true, null, array( 'n' => array( 1 ) ), '<&>' ) ); } );
$step( 'args with an object', function () { return as_enqueue_async_action( 'obs_json', array( (object) array( 'o' => 1 ) ) ); } );
$step( 'args not an array', function () { return as_enqueue_async_action( 'obs_type', 'not-an-array' ); } );
$step( 'empty hook', function () { return as_enqueue_async_action( '' ); } );
$step( 'hook over 191 characters', function () { return as_enqueue_async_action( str_repeat( 'h', 200 ) ); } );
$step( 'group slug over 255 characters', function () { return as_enqueue_async_action( 'obs_group_long', array(), str_repeat( 'g', 300 ) ); } );
$step( 'empty group', function () { return as_enqueue_async_action( 'obs_group_empty', array(), '' ); } );
$step( 'group reused', function () { return as_enqueue_async_action( 'obs_group_reuse', array(), 'grp-a' ); } );
$step( 'wc_schedule_single_action', function () { return wc_schedule_single_action( SIDECAR_OBS_T, 'obs_wc', array( 'w' ), 'grp-wc' ); } );
$step( 'wc_schedule_recurring_action', function () { return wc_schedule_recurring_action( SIDECAR_OBS_T, 120, 'obs_wc_rec' ); } );
$step( 'wc_schedule_cron_action', function () { return wc_schedule_cron_action( SIDECAR_OBS_T, '30 1 * * *', 'obs_wc_cron' ); } );
foreach ( array( 'pre_as_enqueue_async_action', 'pre_as_schedule_single_action', 'pre_as_schedule_recurring_action', 'pre_as_schedule_cron_action' ) as $filter ) {
	foreach ( array( 'int' => 12345, 'string' => '12345', 'false' => false ) as $label => $short ) {
		$step(
			"{$filter} short-circuit {$label}",
			function () use ( $filter, $short ) {
				$cb = function () use ( $short ) { return $short; };
				add_filter( $filter, $cb );
				try {
					switch ( $filter ) {
						case 'pre_as_enqueue_async_action': return as_enqueue_async_action( 'obs_pre', array( 1 ), 'g', true, 3 );
						case 'pre_as_schedule_single_action': return as_schedule_single_action( SIDECAR_OBS_T, 'obs_pre', array( 1 ), 'g', true, 3 );
						case 'pre_as_schedule_recurring_action': return as_schedule_recurring_action( SIDECAR_OBS_T, 60, 'obs_pre', array( 1 ), 'g', true, 3 );
						default: return as_schedule_cron_action( SIDECAR_OBS_T, '* * * * *', 'obs_pre', array( 1 ), 'g', true, 3 );
					}
				} finally {
					remove_filter( $filter, $cb );
				}
			}
		);
	}
}
$snapshot( 'after scheduling' );

// ---------------------------------------------------------------- queries
$step( 'next: async', function () { return as_next_scheduled_action( 'obs_async' ); } );
$step( 'next: single', function () { return as_next_scheduled_action( 'obs_single' ); } );
$step( 'next: single with args', function () { return as_next_scheduled_action( 'obs_single', array( 1, 2 ) ); } );
$step( 'next: single with other args', function () { return as_next_scheduled_action( 'obs_single', array( 2 ) ); } );
$step( 'next: single in group', function () { return as_next_scheduled_action( 'obs_single', null, 'grp-a' ); } );
$step( 'next: single in other group', function () { return as_next_scheduled_action( 'obs_single', null, 'grp-b' ); } );
$step( 'next: recurring', function () { return as_next_scheduled_action( 'obs_interval' ); } );
$step( 'next: cron', function () { return as_next_scheduled_action( 'obs_cron' ); } );
$step( 'next: none', function () { return as_next_scheduled_action( 'obs_nothing' ); } );
$step( 'next: empty args', function () { return as_next_scheduled_action( 'obs_single', array() ); } );
$step( 'has: single', function () { return as_has_scheduled_action( 'obs_single' ); } );
$step( 'has: [] means exactly empty args', function () { return as_has_scheduled_action( 'obs_single', array() ); } );
$step( 'has: in group', function () { return as_has_scheduled_action( 'obs_single', null, 'grp-a' ); } );
$step( 'has: none', function () { return as_has_scheduled_action( 'obs_nothing' ); } );
$step( 'wc_next_scheduled_action', function () { return wc_next_scheduled_action( 'obs_wc' ); } );
$queries = array(
	'hook ids'                 => array( array( 'hook' => 'obs_priority', 'orderby' => 'action_id' ), 'ids' ),
	'hook int'                 => array( array( 'hook' => 'obs_priority', 'orderby' => 'action_id' ), 'int' ),
	'hook OBJECT'              => array( array( 'hook' => 'obs_priority', 'per_page' => 2, 'orderby' => 'action_id' ), OBJECT ),
	'hook ARRAY_A'             => array( array( 'hook' => 'obs_priority', 'per_page' => 2, 'orderby' => 'action_id' ), ARRAY_A ),
	'per_page -1'              => array( array( 'hook' => 'obs_priority', 'per_page' => -1 ), 'ids' ),
	'per_page 2 offset 1'      => array( array( 'hook' => 'obs_priority', 'per_page' => 2, 'offset' => 1, 'orderby' => 'action_id', 'order' => 'ASC' ), 'ids' ),
	'order by date DESC'       => array( array( 'per_page' => 50, 'orderby' => 'date', 'order' => 'DESC' ), 'ids' ),
	'order by hook ASC'        => array( array( 'per_page' => 50, 'orderby' => 'hook', 'order' => 'ASC' ), 'ids' ),
	'order by group'           => array( array( 'per_page' => 50, 'orderby' => 'group' ), 'ids' ),
	'order by action_id DESC'  => array( array( 'per_page' => 50, 'orderby' => 'action_id', 'order' => 'DESC' ), 'ids' ),
	'order by none'            => array( array( 'hook' => 'obs_priority', 'orderby' => 'none' ), 'ids' ),
	'order by bogus'           => array( array( 'per_page' => 50, 'orderby' => 'bogus', 'order' => 'sideways' ), 'ids' ),
	'status pending'           => array( array( 'status' => 'pending', 'per_page' => 100 ), 'ids' ),
	'status array'             => array( array( 'status' => array( 'pending', 'canceled' ), 'per_page' => 100 ), 'ids' ),
	'status empty'             => array( array( 'status' => '', 'per_page' => 100 ), 'ids' ),
	'group'                    => array( array( 'group' => 'grp-a' ), 'ids' ),
	'group unknown'            => array( array( 'group' => 'no-such-group' ), 'ids' ),
	'args exact'               => array( array( 'hook' => 'obs_single', 'args' => array( 1, 2 ) ), 'ids' ),
	'args empty array'         => array( array( 'hook' => 'obs_async', 'args' => array() ), 'ids' ),
	'args partial like'        => array( array( 'hook' => 'obs_async', 'args' => array( 'a' => 1 ), 'partial_args_matching' => 'like' ), 'ids' ),
	'args partial json'        => array( array( 'hook' => 'obs_async', 'args' => array( 'a' => 1 ), 'partial_args_matching' => 'json' ), 'ids' ),
	'args partial off'         => array( array( 'hook' => 'obs_async', 'args' => array( 'a' => 1 ), 'partial_args_matching' => 'off' ), 'ids' ),
	'date before T (<=)'       => array( array( 'date' => SIDECAR_OBS_T, 'per_page' => 100 ), 'ids' ),
	'date before T (<)'        => array( array( 'date' => SIDECAR_OBS_T, 'date_compare' => '<', 'per_page' => 100 ), 'ids' ),
	'date after T (>=)'        => array( array( 'date' => SIDECAR_OBS_T, 'date_compare' => '>=', 'per_page' => 100 ), 'ids' ),
	'date as string'           => array( array( 'date' => '2029-12-31 23:00:00', 'date_compare' => '>', 'per_page' => 100 ), 'ids' ),
	'claimed false'            => array( array( 'claimed' => false, 'hook' => 'obs_priority', 'per_page' => 10 ), 'ids' ),
	'claimed true'             => array( array( 'claimed' => true ), 'ids' ),
	'search'                   => array( array( 'search' => 'obs_wc', 'per_page' => 100 ), 'ids' ),
	'hook unknown OBJECT'      => array( array( 'hook' => 'nothing here' ), OBJECT ),
	'cron OBJECT'              => array( array( 'hook' => 'obs_cron' ), OBJECT ),
	'interval ARRAY_A'         => array( array( 'hook' => 'obs_interval' ), ARRAY_A ),
	'wc_get_scheduled_actions' => array( array( 'hook' => 'obs_wc' ), 'wc' ),
);
/**
 * Rows that tie on the sort column come back in whatever order the server's plan gives (the library's SQL has no
 * tie-breaker, and our claim index can change the plan): IDs are sorted within each run of equal (normalised) sort
 * keys, the order of the runs is kept. Keys are returned with the IDs.
 */
$untie = function ( $ids, $orderby ) use ( $wpdb, $t ) {
	if ( ! is_array( $ids ) || ! $ids ) {
		return $ids;
	}
	$column = array( 'hook' => 'a.hook', 'group' => 'g.slug', 'action_id' => 'a.action_id', 'none' => "''" )[ $orderby ] ?? 'a.scheduled_date_gmt';
	$keys   = $wpdb->get_results( "SELECT a.action_id, {$column} AS k FROM {$t} a LEFT JOIN {$wpdb->prefix}actionscheduler_groups g ON g.group_id = a.group_id WHERE a.action_id IN (" . implode( ',', array_map( 'intval', array_keys( is_string( reset( $ids ) ) || is_int( reset( $ids ) ) ? array_flip( $ids ) : $ids ) ) ) . ')', OBJECT_K ); // phpcs:ignore
	$out    = array();
	foreach ( $ids as $pos => $value ) {
		$id = is_object( $value ) || is_array( $value ) ? $pos : $value;
		// Normalised as the observation shows it: two rows written a second apart "now" tie as well.
		$k  = isset( $keys[ $id ] ) ? Sidecar_Test_Observer::norm_string( (string) $keys[ $id ]->k ) : null;
		if ( ! $out || end( $out )[0] !== $k ) {
			$out[] = array( $k, array() );
		}
		$out[ count( $out ) - 1 ][1][ $pos ] = $value;
	}
	foreach ( $out as &$run ) {
		ksort( $run[1] );
		if ( ! is_object( reset( $run[1] ) ) && ! is_array( reset( $run[1] ) ) ) {
			sort( $run[1] );
		}
	}
	return $out;
};
foreach ( $queries as $label => list( $args, $format ) ) {
	$step( "as_get_scheduled_actions {$label}", function () use ( $args, $format, $untie ) { return $untie( 'wc' === $format ? wc_get_scheduled_actions( $args ) : as_get_scheduled_actions( $args, $format ), $args['orderby'] ?? 'date' ); } );
}
$step( 'store query_actions count', function () use ( $store ) { return $store()->query_actions( array( 'hook' => 'obs_priority' ), 'count' ); } );
$step( 'store query_action', function () use ( $store ) { return $store()->query_action( array( 'hook' => 'obs_single' ) ); } );
$step( 'store query_action none', function () use ( $store ) { return $store()->query_action( array( 'hook' => 'obs_nothing' ) ); } );
$step( 'store find_action', function () use ( $store ) { return $store()->find_action( 'obs_single', array( 'args' => array( 1, 2 ) ) ); } );
$step( 'store find_action none', function () use ( $store ) { return $store()->find_action( 'obs_nothing' ); } );
$step( 'store action_counts', function () use ( $store ) { return $store()->action_counts(); } );
$step( 'store get_status_labels', function () use ( $store ) { return $store()->get_status_labels(); } );
$step( 'store fetch_action pending', function () use ( $store ) { return $store()->fetch_action( 3 ); } );
$step( 'store fetch_action missing', function () use ( $store ) { return $store()->fetch_action( 999999 ); } );
$step( 'store fetch_action string id', function () use ( $store ) { return $store()->fetch_action( '3' ); } );
$step( 'store get_status', function () use ( $store ) { return $store()->get_status( 3 ); } );
$step( 'store get_status missing', function () use ( $store ) { return $store()->get_status( 999999 ); } );
$step( 'store get_date single', function () use ( $store ) { return $store()->get_date( 3 ); } );
$step( 'store get_date missing', function () use ( $store ) { return $store()->get_date( 999999 ); } );
$step( 'store get_claim_id', function () use ( $store ) { return $store()->get_claim_id( 3 ); } );
$step( 'store get_claim_count', function () use ( $store ) { return $store()->get_claim_count(); } );
$step( 'store has_pending_actions_due', function () use ( $store ) { return $store()->has_pending_actions_due(); } );
$step( 'store class', function () use ( $store ) { return get_class( $store() ); } );
$step( 'logger get_logs', function () { return array_map( function ( $e ) { return array( get_class( $e ), $e->get_message(), $e->get_action_id() ); }, ActionScheduler::logger()->get_logs( 3 ) ); } );
$step( 'logger get_logs missing', function () { return ActionScheduler::logger()->get_logs( 999999 ); } );
$step( 'logger log', function () { return ActionScheduler::logger()->log( 3, 'a plugin log line' ); } );
$step( 'as_get_datetime_object null', function () { return as_get_datetime_object(); } );
$step( 'as_get_datetime_object int', function () { return as_get_datetime_object( SIDECAR_OBS_T ); } );
$step( 'as_get_datetime_object string', function () { return as_get_datetime_object( '2030-01-01 12:00:00' ); } );
$step( 'as_get_datetime_object string with zone', function () { return as_get_datetime_object( '2030-01-01 12:00:00', 'Europe/Berlin' ); } );
$step( 'as_get_datetime_object DateTime', function () { return as_get_datetime_object( new DateTime( '2025-01-01 12:00:00', new DateTimeZone( 'America/New_York' ) ) ); } );
$step( 'as_supports ensure hook', function () { return function_exists( 'as_supports' ) ? as_supports( 'ensure_recurring_actions_hook' ) : 'no such function'; } );

// ---------------------------------------------------------------- cancel and delete
$step( 'as_enqueue for cancel', function () { return array( as_enqueue_async_action( 'obs_cancel', array( 1 ) ), as_enqueue_async_action( 'obs_cancel', array( 2 ), 'grp-c' ), as_schedule_single_action( SIDECAR_OBS_T, 'obs_cancel', array( 3 ), 'grp-c' ) ); } );
$step( 'unschedule default args (no match)', function () { return as_unschedule_action( 'obs_cancel' ); } );
$step( 'unschedule exact args', function () { return as_unschedule_action( 'obs_cancel', array( 1 ) ); } );
$step( 'unschedule null args in group', function () { return as_unschedule_action( 'obs_cancel', null, 'grp-c' ); } );
$step( 'unschedule none left matching', function () { return as_unschedule_action( 'obs_cancel', array( 1 ) ); } );
$step( 'wc_unschedule_action', function () { return wc_unschedule_action( 'obs_wc' ); } );
$step( 'as_enqueue for unschedule all', function () { return array( as_enqueue_async_action( 'obs_all', array( 1 ) ), as_enqueue_async_action( 'obs_all', array( 2 ) ), as_enqueue_async_action( 'obs_all_g', array(), 'grp-all' ), as_schedule_recurring_action( SIDECAR_OBS_T, 60, 'obs_all_g', array(), 'grp-all' ) ); } );
$step( 'unschedule all by hook and args', function () { return as_unschedule_all_actions( 'obs_all', array( 2 ) ); } );
$step( 'unschedule all by hook', function () { return as_unschedule_all_actions( 'obs_all' ); } );
$step( 'unschedule all by group only', function () { return as_unschedule_all_actions( '', array(), 'grp-all' ); } );
$step( 'unschedule all nothing', function () { return as_unschedule_all_actions( 'obs_nothing' ); } );
$step( 'store cancel_action missing', function () use ( $store ) { $store()->cancel_action( 999999 ); return 'no exception'; } );
$step( 'store cancel_action twice', function () use ( $store ) { $id = as_enqueue_async_action( 'obs_cancel_twice' ); $store()->cancel_action( $id ); $store()->cancel_action( $id ); return $store()->get_status( $id ); } );
$step( 'store delete_action', function () use ( $store ) { $id = as_enqueue_async_action( 'obs_delete' ); $store()->delete_action( $id ); return $store()->fetch_action( $id ); } );
$step( 'store delete_action missing', function () use ( $store ) { $store()->delete_action( 999999 ); return 'no exception'; } );
$step( 'store cancel_actions_by_hook', function () use ( $store ) { as_enqueue_async_action( 'obs_bulk' ); as_enqueue_async_action( 'obs_bulk', array( 1 ) ); return $store()->cancel_actions_by_hook( 'obs_bulk' ); } );
$step( 'store cancel_actions_by_group', function () use ( $store ) { as_enqueue_async_action( 'obs_bulk_g', array(), 'grp-bulk' ); return $store()->cancel_actions_by_group( 'grp-bulk' ); } );
$step( 'fetch canceled action', function () use ( $store ) { return $store()->fetch_action( as_get_scheduled_actions( array( 'hook' => 'obs_bulk', 'status' => 'canceled' ), 'ids' )[0] ); } );
$snapshot( 'after cancel' );

// ---------------------------------------------------------------- execution in process
$run = function ( $id ) { return ActionScheduler::runner()->process_action( $id, 'Obs' ); };
$step( 'process success with typed args', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'one', 2, 3.5, true, null, array( 'k' => 'v' ) ) ) ); } );
$step( 'process again (ignored)', function () use ( $run ) { return $run( as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_ok', 'status' => 'complete' ), 'ids' )[0] ); } );
$step( 'process missing id', function () use ( $run ) { return $run( 999999 ); } );
$step( 'process no callbacks', function () use ( $run ) { return $run( as_enqueue_async_action( 'obs_no_callbacks' ) ); } );
$step( 'process throws', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_throw', array( 'x' ) ) ); } );
$step( 'process warning', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_warning' ) ); } );
$step( 'process E_USER_ERROR', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_user_error' ) ); } );
$step( 'process ArgumentCountError', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_type_error' ) ); } );
$step( 'process canceled action', function () use ( $run ) { $id = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'canceled' ) ); as_unschedule_action( 'sidecar_test_obs_ok', array( 'canceled' ) ); return $run( $id ); } );
$step( 'process a future single early', function () use ( $run ) { return $run( as_schedule_single_action( SIDECAR_OBS_T, 'sidecar_test_obs_ok', array( 'early' ) ) ); } );
$step(
	'process corrupt args',
	function () use ( $run, $wpdb, $t ) {
		$id = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'corrupt' ) );
		$wpdb->query( $wpdb->prepare( "UPDATE {$t} SET args = 'not json' WHERE action_id = %d", $id ) ); // phpcs:ignore
		return $run( $id );
	}
);
$step(
	'process corrupt schedule',
	function () use ( $run, $wpdb, $t ) {
		$id = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'bad schedule' ) );
		$wpdb->query( $wpdb->prepare( "UPDATE {$t} SET schedule = 'O:8:\"stdClass\":0:{}' WHERE action_id = %d", $id ) ); // phpcs:ignore
		return $run( $id );
	}
);
$step( 'process callback cancels another', function () use ( $run ) { as_schedule_single_action( SIDECAR_OBS_T, 'obs_victim' ); return $run( as_enqueue_async_action( 'sidecar_test_obs_cancel', array( 'obs_victim' ) ) ); } );
$step( 'process callback enqueues another', function () use ( $run ) { return $run( as_enqueue_async_action( 'sidecar_test_obs_enqueue', array( 'obs_child' ) ) ); } );
// A row deleted during its own run (by the callback here; another process's cleanup alike): mark_complete() and then
// mark_failure() find no row, and the library's process_action() lets the store's exception escape, with no
// failed_execution hook and no successor. Both with a callback that returns and with one that throws after deleting.
add_action(
	'obs_self_delete',
	function ( $mode ) {
		$id = (int) as_get_scheduled_actions( array( 'hook' => 'obs_self_delete', 'args' => array( $mode ), 'status' => ActionScheduler_Store::STATUS_RUNNING ), 'ids' )[0];
		ActionScheduler::store()->delete_action( $id );
		Sidecar_Test_Observer::record( 'callback:obs_self_delete', array( $mode, $id ) );
		if ( 'throw' === $mode ) {
			throw new RuntimeException( 'thrown after deleting its own row' );
		}
	}
);
$step( 'process a row deleted during its run', function () use ( $run ) { return $run( as_enqueue_async_action( 'obs_self_delete', array( 'return' ) ) ); } );
$step( 'process throws after deleting its row', function () use ( $run ) { return $run( as_enqueue_async_action( 'obs_self_delete', array( 'throw' ) ) ); } );
$step( 'process recurring deleted during its run', function () use ( $run ) { return $run( as_schedule_recurring_action( time() - 120, 600, 'obs_self_delete', array( 'recurring' ), 'recur-del' ) ); } );
$step( 'process recurring due (successor)', function () use ( $run ) { return $run( as_schedule_recurring_action( time() - 120, 600, 'sidecar_test_obs_ok', array( 'rec' ), 'recur' ) ); } );
$step( 'process recurring failing (successor)', function () use ( $run ) { return $run( as_schedule_recurring_action( time() - 120, 600, 'sidecar_test_obs_throw', array( 'rec' ), 'recur' ) ); } );
$step( 'process recurring early (successor date)', function () use ( $run ) { return $run( as_schedule_recurring_action( SIDECAR_OBS_T, 600, 'sidecar_test_obs_ok', array( 'rec-early' ) ) ); } );
$step( 'process cron early (successor date)', function () use ( $run ) { return $run( as_schedule_cron_action( SIDECAR_OBS_T, '0 3 * * *', 'sidecar_test_obs_ok', array( 'cron-early' ) ) ); } );
// Its successor is the next match after now: a year field keeps that date fixed (a daily one would move with the clock).
$step( 'process cron due (successor)', function () use ( $run ) { return $run( as_schedule_cron_action( SIDECAR_OBS_PAST, '0 3 * * * 2099', 'sidecar_test_obs_ok', array( 'cron-due' ) ) ); } );
$step( 'process unique recurring (successor stays unique)', function () use ( $run ) { return $run( as_schedule_recurring_action( time() - 120, 300, 'sidecar_test_obs_ok', array( 'rec-unique' ), 'ru', true ) ); } );
$step( 'recurring successors', function () { return as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_ok', 'status' => 'pending', 'per_page' => 20, 'orderby' => 'action_id' ), OBJECT ); } );
$step( 'failing recurring successors', function () { return as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_throw', 'status' => 'pending', 'per_page' => 20 ), 'ids' ); } );
$step( 'fetch complete action', function () use ( $store ) { return $store()->fetch_action( as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_ok', 'status' => 'complete', 'orderby' => 'action_id' ), 'ids' )[0] ); } );
$step( 'fetch failed action', function () use ( $store ) { return $store()->fetch_action( as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_throw', 'status' => 'failed' ), 'ids' )[0] ); } );
$step( 'action_counts after runs', function () use ( $store ) { return $store()->action_counts(); } );
$snapshot( 'after processing' );

// ---------------------------------------------------------------- schedule and cron maths across DST (fixed dates)
$berlin = new DateTimeZone( 'Europe/Berlin' );
$utc    = new DateTimeZone( 'UTC' );
$step(
	'cron schedule get_next across DST',
	function () use ( $store, $berlin, $utc ) {
		$out = array();
		$id  = as_schedule_cron_action( 1743210000, '30 2 * * *', 'obs_dst' ); // 2025-03-29 01:00 UTC; Berlin skips 02:00-03:00 on 03-30.
		$s   = $store()->fetch_action( $id )->get_schedule();
		foreach ( array( '2025-03-29 23:00', '2025-03-30 00:30', '2025-10-25 23:00', '2025-10-26 00:30' ) as $from ) {
			$out[] = array( $s->get_next( new DateTime( $from, $utc ) ), $s->get_next( new DateTime( $from, $berlin ) ) );
		}
		return array( $out, $s->get_date(), $s->is_recurring(), $s->get_recurrence() );
	}
);
$step(
	'interval schedule get_next across DST',
	function () use ( $store, $berlin ) {
		$s = $store()->fetch_action( as_schedule_recurring_action( 1743210000, DAY_IN_SECONDS, 'obs_dst_interval' ) )->get_schedule();
		return array( $s->get_next( new DateTime( '2025-03-30 01:00', $berlin ) ), $s->get_next( new DateTime( '2025-10-26 04:00', $berlin ) ), $s->get_date(), $s->get_recurrence() );
	}
);
$cron_cases = array(
	array( '0 0 1 * 1', '2025-01-01 00:00', 'UTC' ), array( '0 12 L * *', '2025-02-01 00:00', 'UTC' ), array( '0 0 * * 5L', '2025-01-01 00:00', 'UTC' ),
	array( '0 0 15W * *', '2025-03-01 00:00', 'UTC' ), array( '0 0 * * 1#2', '2025-01-01 00:00', 'UTC' ), array( '0 0 1 Feb mON', '2025-01-01 00:00', 'UTC' ),
	array( '@weekly', '2025-01-01 00:00', 'UTC' ), array( '@hourly', '2025-01-01 00:30', 'UTC' ), array( '@monthly', '2025-01-15 00:00', 'UTC' ),
	array( '@yearly', '2025-01-15 00:00', 'UTC' ), array( '0 0 1 1 * 2030', '2025-01-01 00:00', 'UTC' ), array( '0 0 * * 7', '2025-01-01 00:00', 'UTC' ),
	array( '0 0 * * 0', '2025-01-01 00:00', 'UTC' ), array( '0 0 * * 5#1', '2025-01-01 00:00', 'UTC' ), array( '0 0 LW * *', '2025-05-01 00:00', 'UTC' ),
	array( '1-10/3 * * * *', '2025-01-01 00:05', 'UTC' ), array( '0 9-17 * * MON-FRI', '2025-01-04 10:00', 'UTC' ), array( '0 0 31 * *', '2025-02-01 00:00', 'UTC' ),
	array( '30 2 * * *', '2025-03-30 00:00', 'Europe/Berlin' ), array( '30 2 * * *', '2025-10-26 00:00', 'Europe/Berlin' ), array( '0 * * * *', '2025-03-30 01:30', 'Europe/Berlin' ),
	array( '0 * * * *', '2025-10-26 02:30', 'Europe/Berlin' ), array( '*/30 * * * *', '2025-10-26 01:45', 'Europe/Berlin' ), array( '0 3 * * *', '2025-03-29 12:00', 'America/New_York' ),
	array( '0 0 29 2 *', '2025-01-01 00:00', 'UTC' ), array( '61 * * * *', '2025-01-01 00:00', 'UTC' ), array( '0 0 30 2 *', '2025-01-01 00:00', 'UTC' ),
);
foreach ( $cron_cases as list( $expr, $from, $zone ) ) {
	$step(
		"CronExpression {$expr} from {$from} {$zone}",
		function () use ( $expr, $from, $zone ) {
			$cron = CronExpression::factory( $expr );
			$at   = new DateTime( $from, new DateTimeZone( $zone ) );
			return array(
				$cron->getNextRunDate( clone $at, 0, false )->format( 'Y-m-d H:i:s T' ),
				$cron->getNextRunDate( clone $at, 1, false )->format( 'Y-m-d H:i:s T' ),
				$cron->getPreviousRunDate( clone $at, 0, false )->format( 'Y-m-d H:i:s T' ),
				$cron->isDue( clone $at ),
				(string) $cron,
			);
		}
	);
}
$step( 'CronExpression isValidExpression', function () { return array( CronExpression::isValidExpression( '* * * * *' ), CronExpression::isValidExpression( 'bad' ) ); } );
$step( 'CronExpression all-lowercase name', function () { return CronExpression::factory( '0 0 1 feb *' ); } );
$step( 'CronExpression too few fields', function () { return CronExpression::factory( '* * *' ); } );

// ---------------------------------------------------------------- claims
$step(
	'claims: stake, find, unclaim, release',
	function () use ( $store ) {
		$s   = $store();
		$ids = array( as_schedule_single_action( SIDECAR_OBS_PAST + 60, 'obs_claim', array( 1 ), 'grp-claim' ), as_schedule_single_action( SIDECAR_OBS_PAST, 'obs_claim', array( 2 ), 'grp-claim' ), as_enqueue_async_action( 'obs_claim_other' ) );
		$c1  = $s->stake_claim( 2, null, array( 'obs_claim' ) );
		$out = array( $ids, $c1, $s->find_actions_by_claim_id( $c1->get_id() ), $s->get_claim_id( $ids[0] ), $s->get_claim_count() );
		$c2  = $s->stake_claim( 5, null, array(), 'grp-claim' );
		$out[] = $c2;
		$s->unclaim_action( $ids[0] );
		$out[] = array( $s->get_claim_id( $ids[0] ), $s->find_actions_by_claim_id( $c1->get_id() ) );
		$s->release_claim( $c1 );
		$out[] = array( $s->get_claim_id( $ids[1] ), $s->get_claim_count() );
		$c3    = $s->stake_claim( 1, as_get_datetime_object( SIDECAR_OBS_PAST ), array( 'obs_claim' ) );
		$out[] = $c3;
		$s->release_claim( $c3 );
		$s->release_claim( $c2 );
		$out[] = $s->get_claim_count();
		return $out;
	}
);
$step( 'claims: mark_failure', function () use ( $store ) { $id = as_enqueue_async_action( 'obs_mark_failure' ); $store()->mark_failure( $id ); return array( $store()->get_status( $id ), $store()->fetch_action( $id ) ); } );
$step( 'claims: mark_failure missing', function () use ( $store ) { $store()->mark_failure( 999999 ); return 'no exception'; } );
$step( 'claims: mark_complete missing', function () use ( $store ) { $store()->mark_complete( 999999 ); return 'no exception'; } );
$step( 'claims: log_execution', function () use ( $store ) { $id = as_enqueue_async_action( 'obs_log_execution' ); $store()->log_execution( $id ); return $store()->get_status( $id ); } );
$step( 'claims: the store keeps the last claim filters', function () use ( $store ) { return array( $store()->get_claim_filter( 'hooks' ), $store()->get_claim_filter( 'group' ), $store()->get_claim_filter( 'exclude-groups' ), $store()->get_claim_filter( 'bogus' ) ); } );
$step(
	'in progress: next, has, unschedule, query',
	function () use ( $wpdb, $t ) {
		$id = as_enqueue_async_action( 'obs_running', array( 'r' ) );
		$wpdb->query( $wpdb->prepare( "UPDATE {$t} SET status = 'in-progress' WHERE action_id = %d", $id ) ); // phpcs:ignore
		return array( as_next_scheduled_action( 'obs_running' ), as_has_scheduled_action( 'obs_running' ), as_unschedule_action( 'obs_running', null ), as_get_scheduled_actions( array( 'status' => 'in-progress' ), 'ids' ), as_get_scheduled_actions( array( 'hook' => 'obs_running', 'status' => 'in-progress' ) ) );
	}
);
$step(
	'recurring: unschedule cancels the pending instance only',
	function () use ( $run ) {
		$id = as_schedule_recurring_action( time() - 120, 3600, 'sidecar_test_obs_ok', array( 'unschedule-me' ) );
		$run( $id );
		return array( as_unschedule_action( 'sidecar_test_obs_ok', array( 'unschedule-me' ) ), as_get_scheduled_actions( array( 'hook' => 'sidecar_test_obs_ok', 'args' => array( 'unschedule-me' ), 'status' => '', 'orderby' => 'action_id' ), ARRAY_A ) );
	}
);
$step( 'schedule single with a DateTime', function () { return as_schedule_single_action( new DateTime( '@' . SIDECAR_OBS_T ), 'obs_single_datetime' ); } );
$step( 'action execute() directly', function () { $a = new ActionScheduler_Action( 'sidecar_test_obs_ok', array( 'direct' ) ); return $a->execute(); } );
$step( 'is_initialized with a function name', function () { return ActionScheduler::is_initialized( 'as_enqueue_async_action' ); } );
$step( 'logger log with a date, get_log', function () { $l = ActionScheduler::logger(); $log_id = $l->log( 3, 'dated line', as_get_datetime_object( SIDECAR_OBS_PAST ) ); $e = $l->get_log( $log_id ); return array( get_class( $e ), $e->get_message(), $e->get_date(), $e->get_action_id() ); } );
$step( 'logger get_log missing', function () { return get_class( ActionScheduler::logger()->get_log( 999999 ) ); } );
$step( 'cleaner: statuses filter (failed too)', function () use ( $wpdb, $t, $run ) {
	$id = as_enqueue_async_action( 'obs_cleaner_failed' );
	$run( $id );
	$wpdb->query( $wpdb->prepare( "UPDATE {$t} SET last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = %d", $id ) ); // phpcs:ignore
	$cb = function ( $statuses ) { $statuses[] = 'failed'; return $statuses; };
	add_filter( 'action_scheduler_default_cleaner_statuses', $cb );
	try {
		return array( ( new ActionScheduler_QueueCleaner() )->delete_old_actions(), ActionScheduler::store()->fetch_action( $id ) );
	} finally {
		remove_filter( 'action_scheduler_default_cleaner_statuses', $cb );
	}
} );
$snapshot( 'after claims' );

// ---------------------------------------------------------------- cleaner
$step(
	'cleaner: old rows, timeouts, stale claims',
	function () use ( $wpdb, $t, $run ) {
		$done = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'old' ) );
		$run( $done );
		$canceled = as_schedule_single_action( SIDECAR_OBS_PAST, 'obs_cleaner', array( 'canceled' ) );
		as_unschedule_action( 'obs_cleaner', array( 'canceled' ) );
		$failed = as_enqueue_async_action( 'obs_cleaner', array( 'failed' ) );
		$run( $failed );
		$stuck = as_enqueue_async_action( 'obs_cleaner', array( 'stuck' ) );
		$stale = as_enqueue_async_action( 'obs_cleaner', array( 'stale' ) );
		$wpdb->query( "UPDATE {$t} SET last_attempt_gmt = '2000-01-01 00:00:00', last_attempt_local = '2000-01-01 01:00:00' WHERE action_id IN ({$done}, {$failed})" ); // phpcs:ignore
		$wpdb->query( "UPDATE {$t} SET status = 'in-progress', last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = {$stuck}" ); // phpcs:ignore
		$wpdb->query( "UPDATE {$t} SET claim_id = 999, last_attempt_gmt = '2000-01-01 00:00:00' WHERE action_id = {$stale}" ); // phpcs:ignore
		( new ActionScheduler_QueueCleaner() )->clean( 300 );
		return array( $done, $canceled, $failed, $stuck, $stale );
	}
);
$step( 'cleaner: delete_old_actions', function () { return ( new ActionScheduler_QueueCleaner( null, 5 ) )->delete_old_actions(); } );
$step( 'cleaner: reset_timeouts, mark_failures', function () { $c = new ActionScheduler_QueueCleaner(); $c->reset_timeouts( 300 ); $c->mark_failures( 300 ); return 'done'; } );
$step(
	'cleaner: retention filter',
	function () use ( $run ) {
		$id = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'retained' ) );
		$run( $id );
		$cb = function () { return 0; };
		add_filter( 'action_scheduler_retention_period', $cb );
		try {
			return ( new ActionScheduler_QueueCleaner() )->delete_old_actions();
		} finally {
			remove_filter( 'action_scheduler_retention_period', $cb );
		}
	}
);
$snapshot( 'after cleaner' );

// ---------------------------------------------------------------- the queue runner in process
$step(
	'runner run() in process',
	function () {
		as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'run-1' ), '', false, 1 );
		as_schedule_single_action( SIDECAR_OBS_PAST, 'sidecar_test_obs_throw', array( 'run-2' ) );
		return ActionScheduler::runner()->run( 'Obs' );
	}
);
$step( 'runner run() nothing due', function () { return ActionScheduler::runner()->run( 'Obs' ); } );
$snapshot( 'after runner' );

// ---------------------------------------------------------------- a site on a manual UTC offset
$step(
	'UTC+5:30 site: schedule, next',
	function () {
		$tz  = get_option( 'timezone_string' );
		$off = get_option( 'gmt_offset' );
		update_option( 'timezone_string', '' );
		update_option( 'gmt_offset', 5.5 );
		try {
			$ids = array( as_schedule_single_action( SIDECAR_OBS_T, 'obs_offset' ), as_schedule_recurring_action( SIDECAR_OBS_T, 3600, 'obs_offset_rec' ), as_schedule_cron_action( SIDECAR_OBS_T, '0 3 * * *', 'obs_offset_cron' ) );
			return array( $ids, as_next_scheduled_action( 'obs_offset' ), as_next_scheduled_action( 'obs_offset_rec' ), as_next_scheduled_action( 'obs_offset_cron' ), as_get_scheduled_actions( array( 'hook' => 'obs_offset_cron' ) ) );
		} finally {
			update_option( 'timezone_string', $tz );
			update_option( 'gmt_offset', $off );
		}
	}
);
$snapshot( 'after offset site' );

// ---------------------------------------------------------------- the class surface plugins and their tests use
$classes = array(
	'ActionScheduler', 'ActionScheduler_Store', 'ActionScheduler_DBStore', 'ActionScheduler_Logger', 'ActionScheduler_DBLogger',
	'ActionScheduler_QueueRunner', 'ActionScheduler_Abstract_QueueRunner', 'ActionScheduler_AsyncRequest_QueueRunner',
	'ActionScheduler_Lock', 'ActionScheduler_OptionLock', 'ActionScheduler_Versions', 'ActionScheduler_Compatibility',
	'ActionScheduler_DateTime', 'ActionScheduler_Action', 'ActionScheduler_FinishedAction', 'ActionScheduler_CanceledAction',
	'ActionScheduler_NullAction', 'ActionScheduler_Schedule', 'ActionScheduler_SimpleSchedule', 'ActionScheduler_IntervalSchedule',
	'ActionScheduler_CronSchedule', 'ActionScheduler_NullSchedule', 'ActionScheduler_Abstract_Schedule', 'ActionScheduler_Abstract_RecurringSchedule',
	'ActionScheduler_ActionClaim', 'ActionScheduler_ActionFactory', 'ActionScheduler_QueueCleaner', 'ActionScheduler_LogEntry',
	'ActionScheduler_NullLogEntry', 'ActionScheduler_InvalidActionException', 'ActionScheduler_FatalErrorMonitor', 'ActionScheduler_AdminView',
	'ActionScheduler_ListTable', 'ActionScheduler_Abstract_ListTable', 'ActionScheduler_StoreSchema', 'ActionScheduler_LoggerSchema', 'ActionScheduler_Abstract_Schema',
	'ActionScheduler_TimezoneHelper', 'ActionScheduler_DataController', 'ActionScheduler_WPCommentCleaner', 'ActionScheduler_wcSystemStatus',
	'ActionScheduler_Abstract_QueueRunner_Deprecated', 'ActionScheduler_Store_Deprecated', 'ActionScheduler_Schedule_Deprecated',
	'ActionScheduler_HybridStore', 'ActionScheduler_wpPostStore', 'ActionScheduler_wpCommentLogger', 'CronExpression', 'CronExpression_FieldFactory',
	// The library's WP-CLI classes load only under WP-CLI (the execution-path tests run its commands).
);
foreach ( $classes as $class ) {
	$step( "class {$class}", function () use ( $class ) { $e = class_exists( $class ) || interface_exists( $class ); $i = $e ? array_values( class_implements( $class ) ) : null; $i && sort( $i ); return array( $e, $e ? get_parent_class( $class ) : null, $i ); } );
}
$step( 'ActionScheduler::lock()', function () { return method_exists( 'ActionScheduler', 'lock' ) ? ActionScheduler::lock() : 'no such method'; } );
$step( 'ActionScheduler_Versions latest', function () { return class_exists( 'ActionScheduler_Versions' ) ? array( ActionScheduler_Versions::instance()->latest_version(), array_keys( ActionScheduler_Versions::instance()->get_versions() ) ) : 'no such class'; } );
$step( 'ActionScheduler static surface', function () { return array( get_class( ActionScheduler::store() ), get_class( ActionScheduler::logger() ), get_class( ActionScheduler::runner() ), get_class( ActionScheduler::factory() ), ActionScheduler::is_initialized() ); } );
$step(
	'raise_time_limit(0)',
	function () {
		$before = ini_get( 'max_execution_time' );
		set_time_limit( 30 );
		ActionScheduler_Compatibility::raise_time_limit( 0 );
		$after = ini_get( 'max_execution_time' );
		set_time_limit( (int) $before );
		return $after;
	}
);
$step( 'raise_memory_limit', function () { return ActionScheduler_Compatibility::raise_memory_limit(); } );

echo wp_json_encode( $obs );
