<?php
/**
 * HMAC-SHA256 request signing for the runner route:
 * signature = hex(hmac(secret, timestamp \n host \n blog_id \n route \n body)), host lowercased.
 * Signing the host, the blog and the route as well as the body means a request captured for one site of a network (or
 * one route) is refused by every other. Requests outside the skew window, replayed, or badly signed are refused.
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\SigningRecords;

defined( 'ABSPATH' ) || exit;

final class Signature {
	/**
	 * The secret: a wp-config constant wins; otherwise the site's option, created when first needed (network
	 * activation runs the activation hook on the main site only, so subsites start without one).
	 */
	public static function secret() {
		if ( defined( Contract::CONST_SECRET ) && constant( Contract::CONST_SECRET ) ) {
			return (string) constant( Contract::CONST_SECRET );
		}
		$secret = (string) get_option( Contract::OPTION_SECRET, '' );
		return '' !== $secret ? $secret : self::ensure_secret();
	}

	/**
	 * Creates the site's secret if it has none, and returns the stored one. INSERT IGNORE on the option's unique name:
	 * the sidecar creates it the same way, and whoever comes first wins (add_option() would overwrite the other's).
	 * Read back from the table, not the cache, which may remember the option as missing.
	 */
	public static function ensure_secret() {
		SigningRecords::add_secret_unless_set( bin2hex( random_bytes( 32 ) ) );
		wp_cache_delete( 'notoptions', 'options' );
		wp_cache_delete( Contract::OPTION_SECRET, 'options' );
		return SigningRecords::stored_secret();
	}

	public static function sign( $secret, $timestamp, $host, $blog_id, $route, $body ) {
		return hash_hmac( 'sha256', $timestamp . "\n" . strtolower( (string) $host ) . "\n" . (int) $blog_id . "\n" . $route . "\n" . $body, $secret );
	}

	/** The Host the request was sent to, as the client named it. */
	private static function request_host() {
		return isset( $_SERVER['HTTP_HOST'] ) ? sanitize_text_field( wp_unslash( $_SERVER['HTTP_HOST'] ) ) : '';
	}

	/** @return true|\WP_Error */
	public static function verify( \WP_REST_Request $request ) {
		$secret    = self::secret();
		$timestamp = (string) $request->get_header( Contract::REST_TIMESTAMP_HEADER );
		$signature = (string) $request->get_header( Contract::REST_SIGNATURE_HEADER );
		$deny      = function ( $why ) {
			return new \WP_Error( 'sidecar_scheduler_bad_signature', $why, array( 'status' => 401 ) );
		};
		if ( '' === $secret ) {
			return $deny( __( 'The runner secret is not configured.', 'sidecar-scheduler' ) );
		}
		if ( '' === $timestamp || '' === $signature || ! ctype_digit( $timestamp ) ) {
			return $deny( __( 'Missing signature or timestamp.', 'sidecar-scheduler' ) );
		}
		if ( abs( time() - (int) $timestamp ) > Contract::REST_MAX_SKEW_SECONDS ) {
			return $deny( __( 'The request has expired.', 'sidecar-scheduler' ) );
		}
		$expected = self::sign( $secret, $timestamp, self::request_host(), get_current_blog_id(), $request->get_route(), $request->get_body() );
		if ( ! hash_equals( $expected, strtolower( $signature ) ) ) {
			return $deny( __( 'Bad signature.', 'sidecar-scheduler' ) );
		}
		return self::remember( $expected, (int) $timestamp ) ? true : $deny( __( 'This request was already used.', 'sidecar-scheduler' ) );
	}

	/**
	 * Replay guard, network-wide: each accepted signature is kept in the main site's options table (one table for the
	 * whole network) until its timestamp leaves the window, i.e. until timestamp + window, whatever the clock skew. The
	 * INSERT IGNORE is on a unique key, so two concurrent replays cannot both pass. False when it was seen before.
	 */
	private static function remember( $signature, $timestamp ) {
		SigningRecords::forget_expired_replays( time() );
		return SigningRecords::remember_replay( $signature, $timestamp + Contract::REST_MAX_SKEW_SECONDS );
	}
}
