<?php
/**
 * The store in the sidecar's worker: whichever ActionScheduler_DBStore is loaded (the bundled library's or ours, see
 * WorkerClasses), with the sidecar's differences in execution and nothing else. While a CommitPipeline runs:
 *
 * - an action's turn reads its row once (before the runner's hooks, through the parent's own fetch_action()), and
 *   the runner's status check and fetch reuse it unless other code wrote to the actions table in between;
 * - log_execution() is where the worker's transaction happens: the previous action's held completion and log lines
 *   and this action's start, committed together, and only if the row is still pending under the worker's claim;
 *   this is the last call before the callback, so no other code runs while it is open;
 * - mark_complete() holds its UPDATE back for the next commit and fires the library's completion hook as it does;
 * - actions a start window marked in progress read as pending to the code of this process.
 *
 * Without a running pipeline every method is the parent's.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

class WorkerStore extends \ActionScheduler_DBStore {
	/**
	 * @var array|null The current turn's read: id, status and claim_id of the row (null status: no row), the action
	 *                 made from it (null: refetch), the actions-table write count when it was read.
	 */
	private $turn = null;
	/** @var int The action whose runner status check is next (armed by the last before_execute callback). */
	private $armed = 0;
	/** @var array|null|false Set while the turn reads its row: the raw status and claim of the row. */
	private $capture = null;

	/** Reads the row for the action's turn (the worker, right before process_action()). Returns the read. */
	public function read_turn( $action_id ) {
		$action_id     = (int) $action_id;
		$this->capture = false;
		try {
			$action = QueryWatch::trusted(
				function () use ( $action_id ) {
					return parent::fetch_action( $action_id );
				}
			);
			$seen   = $this->capture;
		} finally {
			$this->capture = null;
		}
		$this->turn = array(
			'id'     => $action_id,
			'status' => $seen ? $seen['status'] : null,
			'claim'  => $seen ? $seen['claim'] : 0,
			'action' => $seen && ! $seen['invalid'] ? $action : null,
			'writes' => QueryWatch::actions_writes(),
		);
		return $this->turn;
	}

	/** Hooked last on action_scheduler_before_execute: the runner's next status check of this action is its turn's. */
	public function arm_turn( $action_id ) {
		$this->armed = (int) $action_id;
	}

	public function end_turn() {
		$this->turn  = null;
		$this->armed = 0;
	}

	public function get_status( $action_id ) {
		if ( $this->armed && $this->armed === (int) $action_id && CommitPipeline::running() ) {
			$this->armed = 0;
			$turn        = $this->turn;
			if ( ! $turn || $turn['id'] !== (int) $action_id || QueryWatch::actions_writes() !== $turn['writes'] ) {
				$turn = $this->read_turn( $action_id ); // other code wrote to the table since: read it again
			}
			if ( ! is_string( $turn['status'] ) || '' === $turn['status'] ) {
				$this->turn = null;
				return parent::get_status( $action_id ); // no row, or no status: the parent's own exception
			}
			return StartWindow::status_at_turn( $action_id, $turn['status'] );
		}
		$status = parent::get_status( $action_id );
		// A start window's mark, seen from code in this worker: still pending, as with the library. So is a mark
		// taken at its turn until the action starts: the check that took it may have been other code's (a listener
		// after arm_turn at the same priority), and the runner's own check, which comes here, must not then ignore
		// an action that is ours to run (it would stay in progress, never run).
		if ( self::STATUS_RUNNING === $status && ( StartWindow::holds( $action_id ) || StartWindow::taken_not_started( $action_id ) ) ) {
			return self::STATUS_PENDING;
		}
		return $status;
	}

	public function fetch_action( $action_id ) {
		$turn = $this->turn;
		if ( $turn && $turn['id'] === (int) $action_id ) {
			$this->turn = null; // served once: a later fetch reads the row again
			if ( $turn['action'] && QueryWatch::actions_writes() === $turn['writes'] ) {
				return $turn['action'];
			}
		}
		return parent::fetch_action( $action_id );
	}

	protected function make_action_from_db_record( $data ) {
		if ( false === $this->capture ) {
			$this->capture = array(
				'status'  => $data->status,
				'claim'   => (int) $data->claim_id,
				'invalid' => false,
			);
		}
		if ( self::STATUS_RUNNING === $data->status && ( StartWindow::holds( $data->action_id ) || StartWindow::started_by_window( $data->action_id ) ) ) {
			// Marked by this worker's start window, not started by anyone: the pending action it is (the factory
			// makes a finished action, which runs nothing, of any other status).
			$data         = clone $data;
			$data->status = self::STATUS_PENDING;
		}
		if ( null === $this->capture ) {
			return parent::make_action_from_db_record( $data );
		}
		try {
			return parent::make_action_from_db_record( $data );
		} catch ( \ActionScheduler_InvalidActionException $e ) {
			// Not reported now: the runner's own fetch reads the row again and reports it where the library does.
			$this->capture['invalid'] = true;
			return new \ActionScheduler_NullAction();
		}
	}

	public function log_execution( $action_id ) {
		$pipeline = CommitPipeline::running();
		if ( ! $pipeline ) {
			parent::log_execution( $action_id );
			return;
		}
		if ( ! $pipeline->start_action( (int) $action_id ) ) {
			parent::log_execution( $action_id ); // the row is gone: the parent's statement finds nothing and throws its own error
		}
	}

	public function mark_complete( $action_id ) {
		$pipeline = CommitPipeline::running();
		if ( ! $pipeline || ! $pipeline->is_turn( $action_id ) ) {
			// Also an action a callback processed itself (nested): written now, as the library does, since the
			// sidecar, which settles what a dead worker reported, only knows the stream's own actions.
			parent::mark_complete( $action_id );
			return;
		}
		// The parent's UPDATE, held back to be committed with the next start (see CommitPipeline), then its hook.
		// One difference: if the row was deleted while the action ran, the parent throws and the action is reported
		// failed; here the completion hook has fired and the held UPDATE finds no row.
		$pipeline->hold_completion( (int) $action_id );
		do_action( 'action_scheduler_completed_action', $action_id );
	}

	public function query_actions( $query = array(), $query_type = 'select' ) {
		$held     = StartWindow::held_ids();
		$statuses = is_array( $query ) && ! empty( $query['status'] ) ? (array) $query['status'] : array();
		$pending  = in_array( self::STATUS_PENDING, $statuses, true );
		$running  = in_array( self::STATUS_RUNNING, $statuses, true );
		if ( ! $held || $pending === $running ) {
			return parent::query_actions( $query, $query_type );
		}
		$rewritten = false;
		$result    = QueryWatch::with_held_as_pending(
			$statuses,
			$held,
			function () use ( $query, $query_type ) {
				return parent::query_actions( $query, $query_type );
			},
			$rewritten
		);
		if ( $rewritten ) {
			return $result;
		}
		// The statement had a shape we do not know: end the window (its marks back to pending) and ask again.
		StartWindow::release_held();
		return parent::query_actions( $query, $query_type );
	}
}
