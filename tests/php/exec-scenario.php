<?php
/**
 * The execution scenario the path tests run on every execution path (tests/integration/conformance-paths.test.ts):
 * empty tables, then a fixed set of due actions whose callbacks are the observer's (tests/fixtures/observer.php),
 * in a claim order that ties nowhere (priority, then ID). Prints nothing.
 */
require_once dirname( __DIR__ ) . '/fixtures/observer.php';
Sidecar_Test_Observer::truncate();
// Ours schedules Action Scheduler 3.9's daily ensure hook from admin and CLI requests (deliberate, README): it is
// there on both sites, so ours finds it and the IDs that follow agree.
as_schedule_recurring_action( time() + DAY_IN_SECONDS, DAY_IN_SECONDS, 'action_scheduler_ensure_recurring_actions', array(), 'ActionScheduler', true );
as_schedule_single_action( 2000000000, 'sidecar_test_obs_ok', array( 'the future, not due' ) );
as_schedule_single_action( 2000000000, 'obs_victim', array(), 'victims' );
as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'one', 2, 3.5, true, null, array( 'k' => 'v' ) ), 'paths', false, 1 );
as_enqueue_async_action( 'sidecar_test_obs_throw', array( 'x' ), 'paths', false, 2 );
as_enqueue_async_action( 'sidecar_test_obs_warning', array(), '', false, 3 );
as_enqueue_async_action( 'sidecar_test_obs_user_error', array(), '', false, 4 );
as_enqueue_async_action( 'obs_no_callbacks', array(), '', false, 5 );
as_enqueue_async_action( 'sidecar_test_obs_cancel', array( 'obs_victim' ), '', false, 6 );
as_enqueue_async_action( 'sidecar_test_obs_enqueue', array( 'obs_child_of_path' ), '', false, 7 );
as_schedule_recurring_action( time() - 120, 600, 'sidecar_test_obs_ok', array( 'recurring' ), 'paths', false, 8 );
as_schedule_cron_action( 1735689600, '0 3 * * * 2099', 'sidecar_test_obs_ok', array( 'cron' ), 'paths', false, 9 );
$canceled = as_enqueue_async_action( 'sidecar_test_obs_ok', array( 'canceled before the run' ), '', false, 10 );
as_unschedule_action( 'sidecar_test_obs_ok', array( 'canceled before the run' ) );
as_schedule_single_action( time() - 3600, 'sidecar_test_obs_ok', array( 'an hour late' ), '', false, 11 );
