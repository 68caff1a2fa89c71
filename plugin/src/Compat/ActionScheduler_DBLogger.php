<?php
/** Writes the action log rows (the library's texts, translatable in our text domain) and listens to the lifecycle hooks. */
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the Action Scheduler tables are custom tables with no WordPress API, and runners change their rows concurrently, so an object cache would hand out stale statuses and claims (the library queries them directly too).

abstract class ActionScheduler_Logger {
	private static $logger = null;

	public static function instance() {
		if ( empty( self::$logger ) ) {
			$class        = apply_filters( 'action_scheduler_logger_class', 'ActionScheduler_DBLogger' );
			self::$logger = new $class();
		}
		return self::$logger;
	}

	abstract public function log( $action_id, $message, ?DateTime $date = null );
	abstract public function get_entry( $entry_id );
	abstract public function get_logs( $action_id );

	public function init() {
		$this->hook_stored_action();
		add_action( 'action_scheduler_canceled_action', array( $this, 'log_canceled_action' ), 10, 1 );
		add_action( 'action_scheduler_begin_execute', array( $this, 'log_started_action' ), 10, 2 );
		add_action( 'action_scheduler_after_execute', array( $this, 'log_completed_action' ), 10, 3 );
		add_action( 'action_scheduler_failed_execution', array( $this, 'log_failed_action' ), 10, 3 );
		add_action( 'action_scheduler_failed_action', array( $this, 'log_timed_out_action' ), 10, 2 );
		add_action( 'action_scheduler_unexpected_shutdown', array( $this, 'log_unexpected_shutdown' ), 10, 2 );
		add_action( 'action_scheduler_reset_action', array( $this, 'log_reset_action' ), 10, 1 );
		add_action( 'action_scheduler_execution_ignored', array( $this, 'log_ignored_action' ), 10, 2 );
		add_action( 'action_scheduler_failed_fetch_action', array( $this, 'log_failed_fetch_action' ), 10, 2 );
		add_action( 'action_scheduler_failed_to_schedule_next_instance', array( $this, 'log_failed_schedule_next_instance' ), 10, 2 );
		add_action( 'action_scheduler_bulk_cancel_actions', array( $this, 'bulk_log_cancel_actions' ), 10, 1 );
	}

	/** Plugins that store many actions at once unhook the "action created" line around them, and hook it back. */
	public function hook_stored_action() {
		add_action( 'action_scheduler_stored_action', array( $this, 'log_stored_action' ) );
	}

	public function unhook_stored_action() {
		remove_action( 'action_scheduler_stored_action', array( $this, 'log_stored_action' ) );
	}

	public function log_stored_action( $action_id ) {
		$this->log( $action_id, __( 'action created', 'sidecar-scheduler' ) );
	}

	public function log_canceled_action( $action_id ) {
		$this->log( $action_id, __( 'action canceled', 'sidecar-scheduler' ) );
	}

	public function log_started_action( $action_id, $context = '' ) {
		/* translators: %s: context */
		$this->log( $action_id, $context ? sprintf( __( 'action started via %s', 'sidecar-scheduler' ), $context ) : __( 'action started', 'sidecar-scheduler' ) );
	}

	public function log_completed_action( $action_id, $action = null, $context = '' ) {
		/* translators: %s: context */
		$this->log( $action_id, $context ? sprintf( __( 'action complete via %s', 'sidecar-scheduler' ), $context ) : __( 'action complete', 'sidecar-scheduler' ) );
	}

	public function log_failed_action( $action_id, Exception $exception, $context = '' ) {
		/* translators: 1: context 2: exception message */
		$this->log( $action_id, $context ? sprintf( __( 'action failed via %1$s: %2$s', 'sidecar-scheduler' ), $context, $exception->getMessage() ) : sprintf( __( 'action failed: %s', 'sidecar-scheduler' ), $exception->getMessage() ) );
	}

	public function log_timed_out_action( $action_id, $timeout ) {
		/* translators: %s: amount of time */
		$this->log( $action_id, sprintf( __( 'action marked as failed after %s seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.', 'sidecar-scheduler' ), $timeout ) );
	}

	public function log_unexpected_shutdown( $action_id, $error ) {
		if ( ! empty( $error ) ) {
			/* translators: 1: error message 2: filename 3: line */
			$this->log( $action_id, sprintf( __( 'unexpected shutdown: PHP Fatal error %1$s in %2$s on line %3$s', 'sidecar-scheduler' ), $error['message'], $error['file'], $error['line'] ) );
		}
	}

	public function log_reset_action( $action_id ) {
		$this->log( $action_id, __( 'action reset', 'sidecar-scheduler' ) );
	}

	public function log_ignored_action( $action_id, $context = '' ) {
		/* translators: %s: context */
		$this->log( $action_id, $context ? sprintf( __( 'action ignored via %s', 'sidecar-scheduler' ), $context ) : __( 'action ignored', 'sidecar-scheduler' ) );
	}

	public function log_failed_fetch_action( $action_id, ?Exception $exception = null ) {
		if ( $exception ) {
			/* translators: %s: exception message */
			$message = sprintf( __( 'There was a failure fetching this action: %s', 'sidecar-scheduler' ), $exception->getMessage() );
		} else {
			$message = __( 'There was a failure fetching this action', 'sidecar-scheduler' );
		}
		$this->log( $action_id, $message );
	}

	public function log_failed_schedule_next_instance( $action_id, Exception $exception ) {
		/* translators: %s: exception message */
		$this->log( $action_id, sprintf( __( 'There was a failure scheduling the next instance of this action: %s', 'sidecar-scheduler' ), $exception->getMessage() ) );
	}

	public function bulk_log_cancel_actions( $action_ids ) {
		foreach ( (array) $action_ids as $action_id ) {
			$this->log_canceled_action( $action_id );
		}
	}
}

class ActionScheduler_DBLogger extends ActionScheduler_Logger {
	public function log( $action_id, $message, ?DateTime $date = null ) {
		global $wpdb;
		$date     = empty( $date ) ? as_get_datetime_object() : clone $date;
		$date_gmt = $date->format( 'Y-m-d H:i:s' );
		ActionScheduler_TimezoneHelper::set_local_timezone( $date );
		$wpdb->insert(
			$wpdb->actionscheduler_logs,
			array(
				'action_id'      => $action_id,
				'message'        => $message,
				'log_date_gmt'   => $date_gmt,
				'log_date_local' => $date->format( 'Y-m-d H:i:s' ),
			),
			array( '%d', '%s', '%s', '%s' )
		);
		return $wpdb->insert_id;
	}

	public function get_entry( $entry_id ) {
		global $wpdb;
		$entry = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$wpdb->actionscheduler_logs} WHERE log_id=%d", $entry_id ) );
		return $this->create_entry_from_db_record( $entry );
	}

	private function create_entry_from_db_record( $record ) {
		if ( empty( $record ) ) {
			return new ActionScheduler_NullLogEntry();
		}
		$date = is_null( $record->log_date_gmt ) ? as_get_datetime_object( '0000-00-00 00:00:00' ) : as_get_datetime_object( $record->log_date_gmt );
		return new ActionScheduler_LogEntry( $record->action_id, $record->message, $date );
	}

	public function get_logs( $action_id ) {
		global $wpdb;
		$records = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$wpdb->actionscheduler_logs} WHERE action_id=%d ORDER BY log_id ASC", $action_id ) );
		return array_map( array( $this, 'create_entry_from_db_record' ), $records );
	}

	public function init() {
		parent::init();
		add_action( 'action_scheduler_deleted_action', array( $this, 'clear_deleted_action_logs' ), 10, 1 );
	}

	public function clear_deleted_action_logs( $action_id ) {
		global $wpdb;
		$wpdb->delete( $wpdb->actionscheduler_logs, array( 'action_id' => $action_id ), array( '%d' ) );
	}

	/** One multi-row INSERT per cancelled batch instead of one per action. */
	public function bulk_log_cancel_actions( $action_ids ) {
		global $wpdb;
		if ( empty( $action_ids ) ) {
			return;
		}
		$date     = as_get_datetime_object();
		$date_gmt = $date->format( 'Y-m-d H:i:s' );
		ActionScheduler_TimezoneHelper::set_local_timezone( $date );
		$date_local = $date->format( 'Y-m-d H:i:s' );
		$message    = __( 'action canceled', 'sidecar-scheduler' );
		$values     = array();
		foreach ( $action_ids as $action_id ) {
			$values[] = $wpdb->prepare( '( %d, %s, %s, %s )', $action_id, $message, $date_gmt, $date_local );
		}
		$wpdb->query( "INSERT {$wpdb->actionscheduler_logs} ( action_id, message, log_date_gmt, log_date_local ) VALUES " . implode( ',', $values ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- each value tuple was prepared above; the table name comes from $wpdb.
	}
}

class ActionScheduler_NullLogEntry extends ActionScheduler_LogEntry {
	public function __construct( $action_id = '', $message = '' ) { // phpcs:ignore Generic.CodeAnalysis.UselessOverridingMethod.Found -- the library's constructor makes both arguments optional.
		parent::__construct( $action_id, $message );
	}
}
