<?php
/**
 * HMAC-SHA256 request signing for the runner route: signature = hex(hmac(secret, timestamp + "\n" + body)).
 * Requests older than the skew window, replayed (same signature seen in the window) or badly signed are refused.
 */

namespace SidecarScheduler\Rest;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;

final class Signature {
	/** The secret: a wp-config constant wins; otherwise one generated on activation and kept in an option. */
	public static function secret() {
		if ( defined( Contract::CONST_SECRET ) && constant( Contract::CONST_SECRET ) ) {
			return (string) constant( Contract::CONST_SECRET );
		}
		return (string) get_option( Contract::OPTION_SECRET, '' );
	}

	public static function ensure_secret() {
		if ( ! get_option( Contract::OPTION_SECRET ) ) {
			add_option( Contract::OPTION_SECRET, bin2hex( random_bytes( 32 ) ), '', 'no' );
		}
	}

	public static function sign( $secret, $timestamp, $body ) {
		return hash_hmac( 'sha256', $timestamp . "\n" . $body, $secret );
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
		$expected = self::sign( $secret, $timestamp, $request->get_body() );
		if ( ! hash_equals( $expected, strtolower( $signature ) ) ) {
			return $deny( __( 'Bad signature.', 'sidecar-scheduler' ) );
		}
		// Replay guard: remember each accepted signature for the skew window. add_option is an INSERT on a unique
		// key, so two concurrent replays cannot both pass.
		global $wpdb;
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s AND option_value < %d", $wpdb->esc_like( '_sidecar_sig_' ) . '%', time() - Contract::REST_MAX_SKEW_SECONDS ) );
		$inserted = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} ( option_name, option_value, autoload ) VALUES ( %s, %s, 'no' )", '_sidecar_sig_' . substr( $expected, 0, 40 ), (string) time() ) );
		if ( ! $inserted ) {
			return $deny( __( 'This request was already used.', 'sidecar-scheduler' ) );
		}
		return true;
	}
}
