<?php
/**
 * The admin-shutdown loopback of the library, for standalone sites without a sidecar: at most once per lock period,
 * a non-blocking POST to admin-ajax runs the queue with context "Async Request".
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class AsyncRequest {
	const ACTION = 'as_async_request_queue_runner';

	public static function register() {
		add_action( 'shutdown', array( __CLASS__, 'maybe_dispatch' ) );
		add_action( 'wp_ajax_' . self::ACTION, array( __CLASS__, 'handle' ) );
		add_action( 'wp_ajax_nopriv_' . self::ACTION, array( __CLASS__, 'handle' ) );
	}

	private static function allowed() {
		$allowed = has_action( 'action_scheduler_run_queue' )
			&& ! \ActionScheduler::runner()->has_maximum_concurrent_batches()
			&& \ActionScheduler::store()->has_pending_actions_due();
		return apply_filters( 'action_scheduler_allow_async_request_runner', $allowed );
	}

	public static function maybe_dispatch() {
		if ( ! is_admin() || wp_doing_ajax() || ! did_action( 'action_scheduler_init' ) ) {
			return;
		}
		if ( ! \ActionScheduler::lock()->set( 'async-request-runner' ) || ! self::allowed() ) {
			return;
		}
		self::dispatch();
	}

	private static function dispatch() {
		$url = add_query_arg(
			apply_filters(
				'as_async_request_queue_runner_query_args', // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- the library's filter name, applied where the library applies it.
				array(
					'action' => self::ACTION,
					'nonce'  => wp_create_nonce( self::ACTION ),
				)
			),
			apply_filters( 'as_async_request_queue_runner_query_url', admin_url( 'admin-ajax.php' ) ) // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- the library's filter name, applied where the library applies it.
		);
		wp_remote_post(
			esc_url_raw( $url ),
			apply_filters(
				'as_async_request_queue_runner_post_args', // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- the library's filter name, applied where the library applies it.
				array(
					'timeout'   => 0.01,
					'blocking'  => false,
					'body'      => '',
					'cookies'   => $_COOKIE,
					'sslverify' => apply_filters( 'https_local_ssl_verify', false ), // phpcs:ignore WordPress.NamingConventions.PrefixAllGlobals.NonPrefixedHooknameFound -- WordPress core's filter for loopback requests, applied as core's spawn_cron() does.
				)
			)
		);
	}

	public static function handle() {
		session_write_close();
		check_ajax_referer( self::ACTION, 'nonce' );
		do_action( 'action_scheduler_run_queue', 'Async Request' );
		sleep( (int) apply_filters( 'action_scheduler_async_request_sleep_seconds', 5 ) );
		if ( self::allowed() ) {
			self::dispatch();
		}
		wp_die();
	}
}
