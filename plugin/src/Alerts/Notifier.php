<?php
/**
 * Delivers an alert or a recovery: an email through wp_mail() to each recipient, and a JSON webhook signed with
 * HMAC-SHA256 (X-Sidecar-Alert-Signature: sha256=hex of "<timestamp>.<body>", X-Sidecar-Alert-Timestamp). A webhook
 * that fails (no answer or not 2xx) is kept and retried by later evaluations with a doubling delay.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Alerts;

defined( 'ABSPATH' ) || exit;

/**
 * Email and webhook delivery.
 */
final class Notifier {

	/**
	 * Sends one message by email and webhook.
	 *
	 * @param array $message { event: alert|recovery, code, summary, site, time }.
	 * @param array $s       Settings.
	 * @return array|null A webhook delivery to retry later, or null.
	 */
	public static function send( array $message, array $s ) {
		if ( $s['emails'] ) {
			$subject = 'alert' === $message['event']
				/* translators: 1: site name, 2: summary */
				? sprintf( __( '[%1$s] Queue alert: %2$s', 'sidecar-scheduler' ), $message['site'], $message['summary'] )
				/* translators: 1: site name, 2: alert code */
				: sprintf( __( '[%1$s] Queue recovered: %2$s', 'sidecar-scheduler' ), $message['site'], $message['code'] );
			$body = 'alert' === $message['event']
				/* translators: 1: summary, 2: code, 3: time, 4: admin URL */
				? sprintf( __( "%1\$s\n\nAlert: %2\$s, since %3\$s UTC.\nQueue screen: %4\$s", 'sidecar-scheduler' ), $message['summary'], $message['code'], $message['time'], $message['url'] )
				/* translators: 1: code, 2: time, 3: admin URL */
				: sprintf( __( "The condition %1\$s has cleared at %2\$s UTC.\nQueue screen: %3\$s", 'sidecar-scheduler' ), $message['code'], $message['time'], $message['url'] );
			wp_mail( $s['emails'], $subject, $body );
		}
		if ( ! $s['webhook_url'] ) {
			return null;
		}
		$delivery = array(
			'body'     => wp_json_encode( $message ),
			'attempts' => 0,
			'next_at'  => 0,
		);
		return self::deliver( $delivery, $s );
	}

	/**
	 * One webhook attempt.
	 *
	 * @param array $delivery { body, attempts, next_at }.
	 * @param array $s        Settings.
	 * @return array|null The delivery to retry (attempts counted), or null when delivered or given up.
	 */
	public static function deliver( array $delivery, array $s ) {
		$timestamp = (string) time();
		$response  = wp_remote_post(
			$s['webhook_url'],
			array(
				'timeout' => 5,
				'headers' => array(
					'Content-Type'              => 'application/json',
					'X-Sidecar-Alert-Timestamp' => $timestamp,
					'X-Sidecar-Alert-Signature' => 'sha256=' . hash_hmac( 'sha256', $timestamp . '.' . $delivery['body'], (string) $s['webhook_secret'] ),
				),
				'body'    => $delivery['body'],
			)
		);
		$code      = is_wp_error( $response ) ? 0 : (int) wp_remote_retrieve_response_code( $response );
		if ( $code >= 200 && $code < 300 ) {
			return null;
		}
		++$delivery['attempts'];
		if ( $delivery['attempts'] >= (int) $s['webhook_max_attempts'] ) {
			return null; // Given up; the email, if any, went out.
		}
		$delivery['next_at'] = time() + (int) $s['webhook_retry_seconds'] * ( 2 ** ( $delivery['attempts'] - 1 ) );
		return $delivery;
	}
}
