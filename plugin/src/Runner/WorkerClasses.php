<?php
/**
 * Installs the sidecar's way of executing (CommitPipeline, StartWindow) in the worker process only, as subclasses of
 * the store and logger classes that are loaded: WorkerStore extends ActionScheduler_DBStore and WorkerLogger extends
 * ActionScheduler_DBLogger, and those names belong to whichever copy of the library won the version race (a bundled
 * library in companion mode, Compat/ in standalone). A subclass is declared only when the class filter first returns
 * it, so it extends the copy that is loaded by then; there is one execution path for both modes.
 *
 * Installed through the library's own class filters, at the last priority, and only when the filtered class is the
 * plain DB store / logger whose methods have the signatures the subclasses override. That is checked by reflection
 * before a subclass is loaded (an incompatible override would be a fatal error): a newer library that changed one of
 * them, a plugin's own store class, or the library's hybrid store (before its migration finished) leave the worker on
 * the library's own classes, one autocommit per write, and the worker's ready message says why.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class WorkerClasses {
	const STORE_PARENT  = 'ActionScheduler_DBStore';
	const LOGGER_PARENT = 'ActionScheduler_DBLogger';

	/** Methods WorkerStore overrides, with the parameters it declares ("?" = optional). */
	const STORE_METHODS = array(
		'get_status'                 => array( 'action_id' ),
		'fetch_action'               => array( 'action_id' ),
		'make_action_from_db_record' => array( 'data' ),
		'log_execution'              => array( 'action_id' ),
		'mark_complete'              => array( 'action_id' ),
		'query_actions'              => array( 'query?', 'query_type?' ),
	);

	/** Methods WorkerLogger overrides. */
	const LOGGER_METHODS = array(
		'log'                  => array( 'action_id', 'message', 'date?' ),
		'log_started_action'   => array( 'action_id', 'context?' ),
		'log_completed_action' => array( 'action_id', 'action?', 'context?' ),
	);

	/** @var array<string, string> 'store' / 'logger' => why the library's own class is used. */
	private static $problems  = array();
	private static $installed = false;

	/**
	 * Called when the plugin file loads, before any copy of the library creates its store (plugins_loaded). Only the
	 * sidecar's worker gets the subclasses: php plugin/bin/worker.php (defines SIDECAR_SCHEDULER_WORKER before
	 * WordPress loads), `wp sidecar-scheduler work` (WP-CLI has parsed its command line before plugins load) and the
	 * rest channel's runner request.
	 */
	public static function install() {
		if ( self::$installed || ! self::in_worker_process() ) {
			return;
		}
		self::$installed = true;
		add_filter( 'action_scheduler_store_class', array( __CLASS__, 'store_class' ), PHP_INT_MAX );
		add_filter( 'action_scheduler_logger_class', array( __CLASS__, 'logger_class' ), PHP_INT_MAX );
	}

	public static function in_worker_process() {
		if ( defined( 'SIDECAR_SCHEDULER_WORKER' ) && SIDECAR_SCHEDULER_WORKER ) {
			return true;
		}
		// The rest channel's signed runner request (the signature is verified before anything runs; an unsigned or
		// forged request is refused whatever classes it was given).
		if ( isset( $_SERVER[ 'HTTP_' . strtoupper( str_replace( '-', '_', \SidecarScheduler\Contract::REST_SIGNATURE_HEADER ) ) ], $_SERVER['REQUEST_URI'] ) && false !== strpos( (string) $_SERVER['REQUEST_URI'], \SidecarScheduler\Contract::REST_RUN_ROUTE ) ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.MissingUnslash,WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- only compared with our fixed route, never stored or printed.
			return true;
		}
		// @phpstan-ignore function.alreadyNarrowedType (always true with the WP-CLI stub; kept as a guard for other WP_CLI classes)
		if ( defined( 'WP_CLI' ) && WP_CLI && class_exists( 'WP_CLI', false ) && method_exists( 'WP_CLI', 'get_runner' ) ) {
			$args = \WP_CLI::get_runner()->arguments;
			return is_array( $args ) && array( 'sidecar-scheduler', 'work' ) === array_slice( array_values( $args ), 0, 2 );
		}
		return false;
	}

	public static function store_class( $class_name ) {
		return self::choose( 'store', $class_name, self::STORE_PARENT, self::STORE_METHODS, WorkerStore::class );
	}

	public static function logger_class( $class_name ) {
		return self::choose( 'logger', $class_name, self::LOGGER_PARENT, self::LOGGER_METHODS, WorkerLogger::class );
	}

	private static function choose( $what, $class_name, $parent_class, array $methods, $ours ) {
		if ( $ours === $class_name ) {
			return $class_name;
		}
		if ( $parent_class !== $class_name ) {
			self::$problems[ $what ] = sprintf( 'the %s class is %s, not %s', $what, is_string( $class_name ) ? $class_name : gettype( $class_name ), $parent_class );
			return $class_name;
		}
		$problem = self::incompatibility( $parent_class, $methods );
		if ( $problem ) {
			self::$problems[ $what ] = $problem;
			return $class_name;
		}
		unset( self::$problems[ $what ] );
		return $ours;
	}

	/** Why $class_name cannot be extended by our subclass ('' when it can). */
	public static function incompatibility( $class_name, array $methods ) {
		if ( ! class_exists( $class_name ) ) {
			return sprintf( '%s is not loaded', $class_name );
		}
		foreach ( $methods as $name => $expected ) {
			if ( ! method_exists( $class_name, $name ) ) {
				return sprintf( '%s::%s() does not exist', $class_name, $name );
			}
			$method = new \ReflectionMethod( $class_name, $name );
			if ( $method->isFinal() || $method->isPrivate() || $method->isStatic() || $method->hasReturnType() ) {
				return sprintf( '%s::%s() is final, private, static or declares a return type', $class_name, $name );
			}
			$params = array();
			foreach ( $method->getParameters() as $param ) {
				$params[] = ( $param->isPassedByReference() ? '&' : '' ) . $param->getName() . ( $param->isOptional() ? '?' : '' );
			}
			if ( $params !== $expected ) {
				return sprintf( '%s::%s() takes (%s) where (%s) was expected', $class_name, $name, implode( ', ', $params ), implode( ', ', $expected ) );
			}
		}
		return '';
	}

	/** True when this process's store and logger are ours. */
	public static function active() {
		return \ActionScheduler::store() instanceof WorkerStore && \ActionScheduler::logger() instanceof WorkerLogger;
	}

	/** Why this process runs with the library's own classes ('' when it does not). */
	public static function fallback_reason() {
		if ( self::active() ) {
			return '';
		}
		if ( ! self::$installed ) {
			return 'not a sidecar worker process';
		}
		if ( self::$problems ) {
			return implode( '; ', self::$problems );
		}
		return sprintf( 'the store (%s) or logger (%s) was created before the class filters ran', get_class( \ActionScheduler::store() ), get_class( \ActionScheduler::logger() ) );
	}
}
