<?php
/**
 * The library's execution log texts (facts §6), in one place: our logger writes them, and the worker writes the
 * same ones itself when a start window marks actions or when it settles what a dead worker left. Translated with the
 * library's text domain, as the library stores them. Kept out of the Compat classes, which in companion mode are
 * the bundled library's own.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class LogText {
	public static function started( $context ) {
		/* translators: %s: context */
		return $context ? sprintf( __( 'action started via %s', 'action-scheduler' ), $context ) : __( 'action started', 'action-scheduler' ); // phpcs:ignore WordPress.WP.I18n.TextDomainMismatch -- the library's own string.
	}

	public static function complete( $context ) {
		/* translators: %s: context */
		return $context ? sprintf( __( 'action complete via %s', 'action-scheduler' ), $context ) : __( 'action complete', 'action-scheduler' ); // phpcs:ignore WordPress.WP.I18n.TextDomainMismatch
	}

	public static function failed( $context, $error ) {
		/* translators: 1: context 2: exception message */
		return $context ? sprintf( __( 'action failed via %1$s: %2$s', 'action-scheduler' ), $context, $error ) : sprintf( __( 'action failed: %s', 'action-scheduler' ), $error ); // phpcs:ignore WordPress.WP.I18n.TextDomainMismatch
	}
}
