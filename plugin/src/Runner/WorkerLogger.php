<?php
/**
 * The logger in the sidecar's worker: whichever ActionScheduler_DBLogger is loaded (see WorkerClasses). Every line is
 * still made by the logger's own handlers, on the library's own hooks (a plugin that unhooks log_started_action
 * silences it here too), with the library's texts; the worker only changes when two of them are sent:
 *
 * - the "started" and "complete" lines of an action are held back (the parent's INSERT taken out of the stream, see
 *   QueryWatch::capture()) and committed with the next start, in the order they were logged;
 * - a start window has the "started" lines of its actions made ahead of their turns, and written with its marks; at
 *   the turn, the handler then finds its line already written.
 *
 * Without a running pipeline every method is the parent's.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

class WorkerLogger extends \ActionScheduler_DBLogger {
	/** @var bool True while a handler whose line is held back runs. */
	private $holding = false;
	/** @var \DateTime|null Settling a dead worker's outcomes: the time it reported, for lines logged without one. */
	private $date = null;
	/** @var array|null While making a window's lines: what the parent's log() was asked to write. */
	private $asked = null;

	public function log( $action_id, $message, $date = null ) {
		if ( null === $date && null !== $this->date ) {
			$date = $this->date;
		}
		if ( null !== $this->asked ) {
			$this->asked[] = $message;
		}
		$pipeline = $this->holding ? CommitPipeline::running() : null;
		if ( ! $pipeline ) {
			return parent::log( $action_id, $message, $date );
		}
		$pipeline->hold_line(
			(int) $action_id,
			$message,
			function () use ( $action_id, $message, $date ) {
				parent::log( $action_id, $message, $date );
			}
		);
		return 0;
	}

	public function log_started_action( $action_id, $context = '' ) {
		if ( StartWindow::started_by_window( $action_id ) ) {
			StartWindow::line_confirmed( $action_id ); // its window wrote this line before the turn
			return;
		}
		$this->holding = true;
		try {
			parent::log_started_action( $action_id, $context );
		} finally {
			$this->holding = false;
		}
	}

	public function log_completed_action( $action_id, $action = null, $context = '' ) {
		$pipeline      = CommitPipeline::running();
		$this->holding = $pipeline && $pipeline->is_turn( $action_id ); // a nested action's line is written now
		try {
			parent::log_completed_action( $action_id, $action, $context );
		} finally {
			$this->holding = false;
		}
	}

	/**
	 * The "started" line this logger's handler would write for each action, made now and not written: action ID =>
	 * array( message, statement parts ). Empty when the handler is not hooked (a plugin unhooked it).
	 */
	public function started_lines( array $ids, $context ) {
		if ( false === has_action( 'action_scheduler_begin_execute', array( $this, 'log_started_action' ) ) ) {
			return array();
		}
		$lines = array();
		foreach ( $ids as $id ) {
			$this->asked = array();
			try {
				$insert = QueryWatch::capture(
					function () use ( $id, $context ) {
						parent::log_started_action( $id, $context );
					}
				);
				$asked  = $this->asked;
			} finally {
				$this->asked = null;
			}
			if ( $insert && 1 === count( $asked ) ) {
				$lines[ (int) $id ] = array( $asked[0], $insert );
			}
		}
		return $lines;
	}

	/** Runs $log with $date as the time of lines logged without one (settling what a dead worker reported). */
	public function dated( \DateTime $date, callable $log ) {
		$this->date = $date;
		try {
			$log();
		} finally {
			$this->date = null;
		}
	}
}
