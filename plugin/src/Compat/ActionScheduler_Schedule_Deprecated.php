<?php
defined( 'ABSPATH' ) || exit;

/** next(), which the library replaced by get_date() / get_next() in 3.0 and keeps with a deprecation notice. */
abstract class ActionScheduler_Schedule_Deprecated implements ActionScheduler_Schedule {
	public function next( ?DateTime $after = null ) {
		if ( empty( $after ) ) {
			$replacement = 'get_date()';
			$next        = $this->get_date();
		} else {
			$replacement = 'get_next( $after )';
			$next        = $this->get_next( $after );
		}
		_deprecated_function( __METHOD__, '3.0.0', __CLASS__ . '::' . $replacement ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- a method name for _deprecated_function(), which escapes what it prints.
		return $next;
	}
}
