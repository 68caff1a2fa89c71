<?php
/**
 * SQL of the worker's writes to the logs table: sending the log lines it held back (as the logger built them), and
 * removing a line of a start that was undone. Each returns what wpdb::query() returned (rows, or false on an error).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the worker's writes to the queue's custom logs table, inside its own transactions; no WordPress API covers them.

/**
 * The logs table as the worker writes it.
 */
final class LogLines {

	/**
	 * Sends a log INSERT the worker held back, as the logger built it (QueryWatch::capture() took it out of the
	 * stream; several lines of the same shape may have been merged into one multi-row INSERT).
	 *
	 * @param string $statement The INSERT, every value in it prepared by the logger.
	 * @return int|false Rows inserted, false on a database error.
	 */
	public static function send( $statement ) {
		global $wpdb;
		return $wpdb->query( $statement ); // phpcs:ignore WordPress.DB.PreparedSQL -- statements the logger built and prepared.
	}

	/**
	 * Deletes the newest line of this action with this message logged at or after $since: the one written for a
	 * start that is being undone (a line carries its own time, at or after the moment given). Other lines with the
	 * same message, older ones, stay.
	 *
	 * @param int    $action_id Action ID.
	 * @param string $message   The line's message.
	 * @param string $since     'Y-m-d H:i:s' UTC: the line was logged at or after it.
	 * @return int|false Rows deleted (0 or 1), false on a database error.
	 */
	public static function delete_last_since( $action_id, $message, $since ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE action_id = %d AND message = %s AND log_date_gmt >= %s ORDER BY log_id DESC LIMIT 1", $action_id, $message, $since ) );
	}

	/**
	 * Deletes one line by its ID, only if it belongs to this action.
	 *
	 * @param int $log_id    Log ID.
	 * @param int $action_id Action ID.
	 * @return int|false Rows deleted (0 or 1), false on a database error.
	 */
	public static function delete_line( $log_id, $action_id ) {
		global $wpdb;
		return $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->actionscheduler_logs} WHERE log_id = %d AND action_id = %d", $log_id, $action_id ) );
	}
}
