<?php
/**
 * Why an operation on an action was refused: an error code (sidecar_scheduler_…), a translated message and its
 * kind. Admin\Actions throws it and knows nothing of HTTP; the REST API turns the kind into a status.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Admin;

defined( 'ABSPATH' ) || exit;

/**
 * A refused or failed operation on one action.
 */
final class ActionError extends \RuntimeException {
	/** There is no such action. */
	const NOT_FOUND = 'not_found';
	/** The action's state does not allow the operation (wrong status, already retried, a plugin refused the copy). */
	const CONFLICT = 'conflict';
	/** The request itself is wrong (an unknown operation). */
	const BAD_REQUEST = 'bad_request';
	/** The store threw while doing it. */
	const FAILED = 'failed';

	/**
	 * The error code, e.g. sidecar_scheduler_wrong_status.
	 *
	 * @var string
	 */
	private $error_code;

	/**
	 * One of the kinds above.
	 *
	 * @var string
	 */
	private $kind;

	/**
	 * An error.
	 *
	 * @param string $error_code Error code.
	 * @param string $message    Translated message.
	 * @param string $kind       One of the kind constants.
	 */
	public function __construct( $error_code, $message, $kind ) {
		parent::__construct( $message );
		$this->error_code = (string) $error_code;
		$this->kind       = (string) $kind;
	}

	/**
	 * The error code.
	 *
	 * @return string
	 */
	public function error_code() {
		return $this->error_code;
	}

	/**
	 * The kind.
	 *
	 * @return string
	 */
	public function kind() {
		return $this->kind;
	}

	/**
	 * There is no action $id.
	 *
	 * @param int $id Action ID.
	 * @return self
	 */
	public static function not_found( $id ) {
		/* translators: %d: action ID */
		return new self( 'sidecar_scheduler_not_found', sprintf( __( 'Action %d does not exist.', 'sidecar-scheduler' ), $id ), self::NOT_FOUND );
	}
}
