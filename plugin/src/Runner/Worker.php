<?php
/**
 * The execution worker the sidecar drives: WordPress boots once, then batches of claimed action IDs arrive as JSON
 * lines on stdin and one result line per action goes to stdout as soon as it finishes. PHP owns every write an
 * action causes (status, attempts, logs, hooks, successors) through the loaded library's own process_action(), run
 * with WorkerStore and WorkerLogger (see WorkerClasses) so that the sidecar's differences apply in both modes.
 *
 * Per action the sidecar hears "started" right before the action's start is committed (before that, a death leaves
 * it pending: the sidecar runs it again on a fresh worker instead of failing it), "running" once that start is
 * committed and the callback comes next (a death between the two undoes the start: the callback never ran; with the
 * library's own classes there is no "running"), "completed" as soon as its
 * completion is made (before the library's completion hook runs: a death after it settles the action as complete,
 * as the library's committed completion would stand), and "done" when its turn is over.
 *
 * Over 300 lines because it is the protocol's PHP end: every request, every reply, and the order of replies that
 * keeps a death safe, with the comments that explain that order.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\LogLines;
use SidecarScheduler\Store\RunnerRows;

defined( 'ABSPATH' ) || exit;

final class Worker {
	/** @var resource */
	private $out;
	/** @var resource|null The request stream, read between actions of a 'stream' for a "stop". */
	private $in = null;
	/** @var string[] Requests other than "stop" read during a stream: handled after it, in the order they came. */
	private $queued  = array();
	private $outcome = array();
	private $jobs    = 0;
	/** @var CommitPipeline|null */
	private $pipeline = null;
	/** @var string Why this worker runs with the library's own classes ('' when it does not). */
	private $fallback = '';
	/** @var float When WordPress finished booting in this process. */
	private $booted_at;
	private $last_code_check = 0.0;
	/** @var Freshness|null Whether this long-lived process still sees the code WordPress would load now. */
	private $freshness = null;

	public function __construct( $out ) {
		$this->out       = $out;
		$this->booted_at = microtime( true );
	}

	/**
	 * True when a PHP file this process loaded has changed on disk since it booted (a deploy, a plugin update):
	 * the sidecar then replaces the worker so new code runs. Checked at most every 5 s; ~1 ms for 1,000 files.
	 */
	private function code_changed() {
		if ( $this->freshness ) {
			return $this->freshness->stale_after_claim();
		}
		if ( microtime( true ) - $this->last_code_check < 5 ) {
			return false;
		}
		$this->last_code_check = microtime( true );
		clearstatcache();
		foreach ( get_included_files() as $file ) {
			$mtime = @filemtime( $file ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- a deleted file counts as changed.
			if ( false === $mtime || $mtime > $this->booted_at ) {
				return true;
			}
		}
		return false;
	}

	/** Reads requests until stdin closes. Exit code 0 on a clean end. */
	public static function run( $in, $out ) {
		$worker     = new self( $out );
		$worker->in = $in;
		// A fatal error must reach stderr, where the sidecar reads it to fail the action with the library's
		// "unexpected shutdown" text (WordPress turned display_errors off while booting, after worker.php set it).
		if ( 'cli' === PHP_SAPI ) {
			ini_set( 'display_errors', 'stderr' ); // phpcs:ignore WordPress.PHP.IniSet.display_errors_Disallowed, Squiz.PHP.DiscouragedFunctions.Discouraged -- stdout (or fd 3) is the protocol stream: PHP errors go to stderr, where the sidecar logs them.
		}
		$worker->listen_for_outcomes();
		$worker->pipeline = CommitPipeline::start(
			function ( $action_id, $start = null ) use ( $worker ) {
				$worker->send(
					array(
						'op' => Contract::REPLY_STARTED,
						'id' => $action_id,
					) + ( $start ? array( 'start' => $start ) : array() )
				);
			},
			function ( $action_id ) use ( $worker ) {
				$worker->send(
					array(
						'op'     => Contract::REPLY_DONE,
						'id'     => $action_id,
						'status' => Contract::OUTCOME_LOST,
					)
				);
			},
			function ( $action_id ) use ( $worker ) {
				$worker->send(
					array(
						'op' => Contract::REPLY_RUNNING,
						'id' => $action_id,
					)
				);
			}
		);
		// A long-lived process only (the rest route's worker lives for one request, and boots fresh each time).
		$worker->freshness = 'cli' === PHP_SAPI ? new Freshness() : null;
		$worker->fallback  = $worker->pipeline ? '' : ( CommitPipeline::enabled() ? WorkerClasses::fallback_reason() : 'sidecar_scheduler_pipeline_commits is off' );
		if ( ! $worker->pipeline ) {
			// The library's own classes: its start autocommits right after begin_execute, so "started" is sent there.
			add_action(
				'action_scheduler_begin_execute',
				function ( $action_id ) use ( $worker ) {
					$worker->send(
						array(
							'op' => Contract::REPLY_STARTED,
							'id' => (int) $action_id,
						)
					);
				},
				PHP_INT_MAX
			);
		}
		// Callbacks may echo. On a protocol channel of its own (ProtocolChannel) their output goes to stdout, which the
		// sidecar logs; otherwise echo is buffered and dropped (fwrite(STDOUT) still bypasses it).
		if ( ! ProtocolChannel::is_dedicated( $out ) ) {
			ob_start(); // stdout, or the rest route's buffer (its response body must stay JSON)
		}
		$worker->send(
			array(
				'op'       => Contract::REPLY_READY,
				'channel'  => ProtocolChannel::is_dedicated( $out ) ? 'fd' : 'shared',
				'pid'      => getmypid(),
				'mode'     => \SidecarScheduler\Plugin::mode(),
				'php'      => PHP_VERSION,
				'classes'  => $worker->pipeline ? Contract::CLASSES_SIDECAR : Contract::CLASSES_LIBRARY,
				'fallback' => $worker->fallback,
			)
		);
		while ( ( $line = $worker->next_line() ) !== false ) { // phpcs:ignore Generic.CodeAnalysis.AssignmentInCondition.FoundInWhileCondition -- the usual read-until-false loop.
			$line = trim( $line );
			if ( '' === $line ) {
				continue;
			}
			$request = json_decode( $line, true );
			if ( ! is_array( $request ) || empty( $request['op'] ) ) {
				$worker->send(
					array(
						'op'      => Contract::REPLY_ERROR,
						'message' => 'malformed request: ' . substr( $line, 0, 200 ),
					)
				);
				continue;
			}
			$worker->handle( $request );
			if ( Contract::OP_STREAM !== $request['op'] ) {
				$worker->commit(); // Only a stream may leave its last completion open, for the next stream to commit.
			}
			if ( ob_get_level() > 0 ) {
				ob_clean();
			}
		}
		$worker->commit();
		return 0;
	}

	/** The next request: one that arrived during a stream first (in order), then stdin. False when stdin closed. */
	private function next_line() {
		if ( $this->queued ) {
			return array_shift( $this->queued );
		}
		return fgets( $this->in );
	}

	private function commit() {
		// A failed commit keeps what it held (CommitPipeline::transaction()), so a second try sends it again, on the
		// connection wpdb reopened. If that fails too, this worker must not go on as if the completions were written:
		// it stops before its stream ends, so the sidecar sees it die with every outcome reported and writes them
		// through a fresh worker (settle), while the claim still holds the rows. Released first, they would be left
		// in progress with no claim, for the cleaner to fail after the failure period although they completed.
		if ( ! $this->pipeline || $this->pipeline->flush() || $this->pipeline->flush() ) {
			return;
		}
		error_log( 'Sidecar Scheduler: the completions of finished actions could not be committed (the database connection was lost twice); this worker stops so that the sidecar writes them through a fresh worker.' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- why this worker stops goes to PHP's error log, which the sidecar shows.
		exit( 75 ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an exit status for the sidecar (75: restart me), not output.
	}

	private function listen_for_outcomes() {
		$record = function ( $status ) {
			return function ( $action_id ) use ( $status ) {
				$this->outcome[ (int) $action_id ] = $status;
			};
		};
		add_action( 'action_scheduler_completed_action', $record( Contract::OUTCOME_COMPLETE ), 999 );
		// First on the completion hook: the sidecar knows the outcome before any other code of the hook runs.
		add_action(
			'action_scheduler_completed_action',
			function ( $action_id ) {
				$at = $this->pipeline ? $this->pipeline->completion_time( $action_id ) : null;
				$this->send(
					array(
						'op' => Contract::REPLY_COMPLETED,
						'id' => (int) $action_id,
						'at' => $at ? $at : array( current_time( 'mysql', true ), current_time( 'mysql' ) ),
					)
				);
			},
			PHP_INT_MIN
		);
		add_action( 'action_scheduler_failed_execution', $record( Contract::OUTCOME_FAILED ), 999 );
		add_action( 'action_scheduler_execution_ignored', $record( Contract::OUTCOME_IGNORED ), 999 );
		add_action( 'action_scheduler_failed_validation', $record( Contract::OUTCOME_INVALID ), 999 );
		add_action(
			'action_scheduler_failed_execution',
			function ( $action_id, $e ) {
				$this->outcome[ 'error_' . (int) $action_id ] = $e->getMessage();
			},
			999,
			2
		);
	}

	public function send( array $message ) {
		fwrite( $this->out, wp_json_encode( $message ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- the protocol stream to the sidecar (fd 3 or stdout), not a file.
		fflush( $this->out );
	}

	private function handle( array $request ) {
		switch ( $request['op'] ) {
			case Contract::OP_PING:
				$this->send(
					array(
						'op'   => Contract::REPLY_PONG,
						'mem'  => memory_get_usage( true ),
						'jobs' => $this->jobs,
					)
				);
				break;
			case Contract::OP_STREAM:
				$this->run_stream(
					array_map( 'intval', (array) $request['ids'] ),
					isset( $request['claim'] ) ? (int) $request['claim'] : 0,
					isset( $request['context'] ) ? (string) $request['context'] : Contract::CONTEXT_SIDECAR,
					isset( $request['since'] ) ? (float) $request['since'] : 0,
					isset( $request['max'] ) ? (int) $request['max'] : 0,
					isset( $request['max_mem'] ) ? (int) $request['max_mem'] : 0,
					isset( $request['window'] ) ? (int) $request['window'] : 1,
					isset( $request['hooks'] ) && count( (array) $request['hooks'] ) === count( (array) $request['ids'] ) ? array_combine( array_map( 'intval', (array) $request['ids'] ), (array) $request['hooks'] ) : array()
				);
				break;
			case Contract::OP_SETTLE:
				$this->settle( $request );
				break;
			case Contract::OP_STOP:
				break; // A "stop" that arrived after its stream had already ended: nothing to stop.
			case Contract::OP_FLUSH:
				$this->commit();
				$this->flush_caches();
				$this->send(
					array(
						'op'    => Contract::REPLY_FLUSHED,
						'mem'   => memory_get_usage( true ),
						'stale' => $this->code_changed(),
					)
				);
				break;
			case Contract::OP_BATCH:
				$this->run_batch( array_map( 'intval', (array) $request['ids'] ), isset( $request['claim'] ) ? (int) $request['claim'] : 0, isset( $request['context'] ) ? (string) $request['context'] : Contract::CONTEXT_SIDECAR );
				break;
			case Contract::OP_FAIL:
				$this->fail( (int) $request['id'], $request );
				break;
			case Contract::OP_CLEAN:
				$this->clean();
				break;
			case Contract::OP_SETTINGS:
				$this->send( array( 'op' => Contract::REPLY_SETTINGS ) + Settings::current() );
				break;
			default:
				$this->send(
					array(
						'op'      => Contract::REPLY_ERROR,
						'message' => 'unknown op: ' . $request['op'],
					)
				);
		}
	}

	/**
	 * Runs a claimed batch in order without waiting for the sidecar between actions: one 'done' line per action as it
	 * finishes, then 'stream_end'. The sidecar still decides what starts: before each action this reads a
	 * "stop" if one is waiting (SIGTERM), and it ends early after `max` actions or above `max_mem` bytes, so that a
	 * worker due for replacement never starts another action. Since actions run strictly in order, the sidecar
	 * knows which one was running if this process dies: the first without a 'done'.
	 *
	 * Like the library's runners around a batch, action_scheduler_before_process_queue fires before the first action
	 * and action_scheduler_after_process_queue after the last (with everything held back committed by then).
	 *
	 * With $window > 1 (fast actions) the starts of up to $window actions are committed at once
	 * (StartWindow). A 'window' line tells the sidecar which, before they are committed, so it can undo the marks
	 * of those that never ran if this process dies; when this worker stops early it undoes them itself.
	 */
	private function run_stream( array $ids, $claim_id, $context, $claimed_at, $max, $max_mem, $window, array $hooks = array() ) {
		$ran    = 0;
		$reason = Contract::END_DONE;
		// Out of date before anything ran (Freshness): nothing of the stream starts, no hook fires; the sidecar replaces us.
		// Likewise when the first action would be handed back: not even action_scheduler_before_process_queue fires here.
		$first    = $ids && isset( $hooks[ $ids[0] ] ) ? (string) $hooks[ $ids[0] ] : null;
		$give_way = null;
		if ( $this->freshness && $this->freshness->stale_before_stream( $claimed_at ) ) {
			$give_way = Contract::END_STALE;
		} elseif ( $this->freshness && $this->freshness->hand_back( $first, $claimed_at ) ) {
			$give_way = Contract::END_HANDBACK;
		}
		if ( $give_way ) {
			$this->commit();
			$this->send(
				array(
					'op'     => Contract::REPLY_STREAM_END,
					'ran'    => 0,
					'reason' => $give_way,
					'why'    => $this->freshness->reason(),
					'mem'    => memory_get_usage( true ),
				)
			);
			return;
		}
		$windowed = $window > 1 && $this->pipeline;
		StartWindow::activate(
			$windowed,
			function ( array $marks ) {
				$this->send( array( 'op' => Contract::REPLY_UNRELEASED ) + $marks );
			}
		);
		do_action( 'action_scheduler_before_process_queue' );
		try {
			foreach ( $ids as $i => $action_id ) {
				// A start mark the database would not let this worker undo (sent to the sidecar to undo): it starts
				// nothing more, as a later window would mark more that it may not undo either.
				if ( $this->stop_requested() || StartWindow::has_unreleased() ) {
					$reason = Contract::END_STOPPED;
					break;
				}
				// At least one action per stream, so a threshold below a fresh worker's own footprint cannot stall the lane.
				if ( ( $max > 0 && $ran >= $max ) || ( $ran > 0 && $max_mem > 0 && memory_get_usage( true ) > $max_mem ) ) {
					$reason = $max > 0 && $ran >= $max ? Contract::END_LIMIT : Contract::END_MEMORY;
					break;
				}
				if ( $this->freshness && $ran > 0 && $this->freshness->stale_during_stream() ) {
					$reason = Contract::END_STALE;
					break;
				}
				// No callback here: handed back untouched (a start-window mark is undone below) for a fresh worker.
				if ( $this->freshness && $this->freshness->hand_back( isset( $hooks[ $action_id ] ) ? (string) $hooks[ $action_id ] : null, $claimed_at ) ) {
					$reason = Contract::END_HANDBACK;
					break;
				}
				// A new window only when none is open: an action its window skipped (cancelled or deleted after the
				// claim) runs alone, and the marks of the later ones stay held. Opening one here found those rows in
				// progress (our own marks), marked nothing, and dropped them: they were then ignored at their turn and
				// left in progress for the cleaner to fail, though they never ran.
				if ( $windowed && ! StartWindow::holds( $action_id ) && ! StartWindow::held_ids() ) {
					$size = $max > 0 ? min( $window, $max - $ran ) : $window;
					if ( $size > 1 ) {
						StartWindow::open(
							array_slice( $ids, $i, $size ),
							$claim_id,
							$context,
							$this->pipeline,
							function ( array $marks ) {
								$this->send( array( 'op' => Contract::REPLY_WINDOW ) + $marks );
							}
						);
					}
				}
				$this->run_one( $action_id, $claim_id, $context, $claimed_at );
				++$ran;
				if ( ob_get_level() > 0 ) {
					ob_clean();
				}
			}
		} finally {
			StartWindow::release_held(); // Marks of actions this stream will not run: back to pending.
			StartWindow::activate( false );
		}
		$this->commit();
		do_action( 'action_scheduler_after_process_queue' );
		$this->send(
			array(
				'op'     => Contract::REPLY_STREAM_END,
				'ran'    => $ran,
				'reason' => $reason,
				'why'    => Contract::END_STALE === $reason || Contract::END_HANDBACK === $reason ? $this->freshness->reason() : '',
				'mem'    => memory_get_usage( true ),
			)
		);
	}

	/** A "stop" line waiting on the request stream (or the stream closed: the sidecar is gone). Never blocks. */
	private function stop_requested() {
		if ( ! $this->in ) {
			return false;
		}
		$read   = array( $this->in );
		$write  = null;
		$except = null;
		// PHP reports a stream with buffered, unread data as readable, so a line already buffered is not missed.
		if ( ! @stream_select( $read, $write, $except, 0 ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- EINTR is "not now".
			return false;
		}
		$line = fgets( $this->in );
		if ( false === $line ) {
			return feof( $this->in );
		}
		$request = json_decode( trim( $line ), true );
		if ( is_array( $request ) && isset( $request['op'] ) && Contract::OP_STOP === $request['op'] ) {
			return true;
		}
		// Anything else waits its turn, as it would have without a stream.
		$this->queued[] = $line;
		return false;
	}

	private function run_batch( array $ids, $claim_id, $context ) {
		$started = microtime( true );
		do_action( 'action_scheduler_before_process_queue' );
		foreach ( $ids as $action_id ) {
			$this->run_one( $action_id, $claim_id, $context, $started );
		}
		$this->commit();
		do_action( 'action_scheduler_after_process_queue' );
		$this->flush_caches();
		$this->send(
			array(
				'op'    => Contract::REPLY_BATCH_DONE,
				'count' => count( $ids ),
			)
		);
	}

	/**
	 * @param float $claimed_at Unix time the claim was made; a claim older than 60 s may have been reset as stale
	 *                          and re-claimed elsewhere, so then the claim is re-checked first, as the library does.
	 */
	private function run_one( $action_id, $claim_id, $context, $claimed_at ) {
		$store = \ActionScheduler::store();
		if ( $claim_id && $claimed_at && microtime( true ) - $claimed_at > 60 && (int) $store->get_claim_id( $action_id ) !== $claim_id ) {
			$this->send(
				array(
					'op'     => Contract::REPLY_DONE,
					'id'     => $action_id,
					'status' => Contract::OUTCOME_LOST,
				)
			);
			return;
		}
		$t0 = microtime( true );
		unset( $this->outcome[ $action_id ], $this->outcome[ 'error_' . $action_id ] );
		// Only what this claim holds starts (a stale claim, a late request): an action another claim took is "lost",
		// never run, never failed. Checked on the row the turn reads anyway, then again by the start itself (the
		// pipeline's compare-and-set).
		$store = \ActionScheduler::store();
		if ( $this->pipeline && $store instanceof WorkerStore ) {
			$this->pipeline->expect( $action_id, $claim_id );
			$turn    = $store->read_turn( $action_id );
			$claimed = null === $turn['status'] || (int) $turn['claim'] === (int) $claim_id;
		} else {
			$claimed = $this->claimed_by( $action_id, $claim_id );
		}
		if ( $claim_id && ! $claimed ) {
			if ( $store instanceof WorkerStore ) {
				$store->end_turn();
			}
			$this->send(
				array(
					'op'     => Contract::REPLY_DONE,
					'id'     => $action_id,
					'status' => Contract::OUTCOME_LOST,
				)
			);
			return;
		}
		if ( $this->pipeline || ! $claim_id ) {
			\ActionScheduler::runner()->process_action( $action_id, $context );
		} else {
			$this->process_guarded( $action_id, $claim_id, $context );
		}
		StartWindow::turn_over( $action_id );
		if ( $store instanceof WorkerStore ) {
			$store->end_turn();
		}
		++$this->jobs;
		$message = array(
			'op'     => Contract::REPLY_DONE,
			'id'     => $action_id,
			'status' => isset( $this->outcome[ $action_id ] ) ? $this->outcome[ $action_id ] : Contract::OUTCOME_UNKNOWN,
			'ms'     => round( ( microtime( true ) - $t0 ) * 1000, 3 ),
			'mem'    => memory_get_usage( true ),
		);
		if ( isset( $this->outcome[ 'error_' . $action_id ] ) ) {
			$message['error'] = $this->outcome[ 'error_' . $action_id ];
		}
		if ( Contract::OUTCOME_COMPLETE === $message['status'] ) {
			// If this process dies before the completion is committed, the sidecar writes it with this time ("settle").
			$at            = $this->pipeline ? $this->pipeline->completion_time( $action_id ) : null;
			$message['at'] = $at ? $at : array( current_time( 'mysql', true ), current_time( 'mysql' ) );
		}
		$this->send( $message );
	}

	/**
	 * The library's own classes (no pipeline): their start, `UPDATE … WHERE action_id = N`, is made a compare-and-set
	 * on status and claim, as ours is, through the `query` filter for this turn only. The library throws when its
	 * start changes no row and then fails the action (a row another claim is running); so the first statement after
	 * the start looks at the rows it changed, and a lost start ends this worker before anything else happens: the
	 * action is reported "lost", its "started" line is removed, and it is neither run nor failed here.
	 */
	private function process_guarded( $action_id, $claim_id, $context ) {
		global $wpdb;
		$state = 'armed';
		$start = '/^\s*UPDATE\s+`?' . preg_quote( $wpdb->actionscheduler_actions, '/' ) . '`?\s+SET\s+attempts\s*=\s*attempts\s*\+\s*1\s*,\s*status\s*=.*\bWHERE\s+action_id\s*=\s*' . (int) $action_id . '\s*$/is';
		// Our own "started" line, by its ID: the logger's handler (action_scheduler_begin_execute, priority 10, hooked
		// when the library initialises, so before this listener at the same priority) inserts it last before we look.
		// A refused start deletes only that row: another runner that took the action may have logged its own start
		// after ours, and its line must stay (deleting "the newest line" removed the wrong one).
		$line    = 0;
		$capture = function ( $id ) use ( $wpdb, $action_id, &$line ) {
			if ( (int) $id === (int) $action_id && is_string( $wpdb->last_query ) && preg_match( '/^\s*INSERT\s+INTO\s+`?' . preg_quote( $wpdb->actionscheduler_logs, '/' ) . '`?[\s(]/i', $wpdb->last_query ) ) {
				$line = (int) $wpdb->insert_id;
			}
		};
		$filter  = function ( $query ) use ( $wpdb, $action_id, $claim_id, $start, &$state, &$filter, &$line ) {
			if ( 'sent' === $state ) {
				$state = 'done';
				if ( 0 === (int) $wpdb->rows_affected ) {
					remove_filter( 'query', $filter, PHP_INT_MAX - 1 );
					if ( $line ) {
						LogLines::delete_line( $line, $action_id );
					}
					error_log( sprintf( 'Sidecar Scheduler: action %d was not started (it is no longer pending under claim %d); this worker stops without running it.', $action_id, $claim_id ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- why this worker stops goes to PHP's error log, which the sidecar shows.
					$this->send(
						array(
							'op'     => Contract::REPLY_DONE,
							'id'     => $action_id,
							'status' => Contract::OUTCOME_LOST,
						)
					);
					exit( 75 ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- an exit status for the sidecar (75: restart me), not output.
				}
			} elseif ( 'armed' === $state && is_string( $query ) && preg_match( $start, $query ) ) {
				$state = 'sent';
				return $query . $wpdb->prepare( ' AND status = %s AND claim_id = %d', Contract::STATUS_PENDING, $claim_id );
			}
			return $query;
		};
		add_filter( 'query', $filter, PHP_INT_MAX - 1 );
		add_action( 'action_scheduler_begin_execute', $capture, 10 );
		try {
			\ActionScheduler::runner()->process_action( $action_id, $context );
		} finally {
			remove_filter( 'query', $filter, PHP_INT_MAX - 1 );
			remove_action( 'action_scheduler_begin_execute', $capture, 10 );
		}
	}

	/** The library's own classes: a status and claim check before the turn (the start itself is guarded too, above). */
	private function claimed_by( $action_id, $claim_id ) {
		if ( ! $claim_id ) {
			return true;
		}
		$row = RunnerRows::claim_of( $action_id );
		return ! $row || (int) $row->claim_id === (int) $claim_id;
	}

	/** After each claim batch, like the library's runner: drop the runtime cache so the next batch sees fresh options. */
	private function flush_caches() {
		global $wpdb;
		if ( function_exists( 'wp_cache_flush_runtime' ) ) {
			wp_cache_flush_runtime();
		} elseif ( ! wp_using_ext_object_cache() ) {
			wp_cache_flush();
		}
		$wpdb->queries = array();
		$store         = \ActionScheduler::store();
		if ( method_exists( $store, 'flush_group_cache' ) ) {
			$store->flush_group_cache();
		}
	}

	/** Fails an action whose process died or timed out, with the library's hook and log text. */
	private function fail( $action_id, array $request ) {
		$this->commit();
		try {
			// Only an action whose callback started: in progress under the claim that ran it. A pending one never
			// started and goes back to the queue when its claim is released.
			if ( ! StartGuard::fail_started( $action_id, isset( $request['claim'] ) ? (int) $request['claim'] : 0 ) ) {
				$this->send(
					array(
						'op'      => Contract::REPLY_FAILED,
						'id'      => $action_id,
						'changed' => false,
					)
				);
				return;
			}
			if ( Contract::FAIL_CRASH === $request['reason'] && ! empty( $request['error'] ) ) {
				do_action( 'action_scheduler_unexpected_shutdown', $action_id, $request['error'] );
			} else {
				do_action( 'action_scheduler_failed_action', $action_id, isset( $request['seconds'] ) ? (int) $request['seconds'] : 300 );
			}
			$this->send(
				array(
					'op'      => Contract::REPLY_FAILED,
					'id'      => $action_id,
					'changed' => true,
				)
			);
		} catch ( \Exception $e ) {
			$this->send(
				array(
					'op'      => Contract::REPLY_FAILED,
					'id'      => $action_id,
					'changed' => false,
					'error'   => $e->getMessage(),
				)
			);
		}
	}

	/**
	 * After a worker died (sent to its replacement): write the outcomes it reported but may not have committed, and
	 * undo the start marks of the actions it never ran. Only rows still in progress under that claim change, so
	 * whatever the dead worker did commit stays as it is. Its hooks already fired there; none fire again here.
	 */
	private function settle( array $request ) {
		global $wpdb;
		$this->commit();
		$claim     = (int) $request['claim'];
		$context   = isset( $request['context'] ) ? (string) $request['context'] : Contract::CONTEXT_SIDECAR;
		$logger    = \ActionScheduler::logger();
		$finalised = 0;
		// Writes the database refused: the reply says so, and the sidecar sends the whole request again on a fresh
		// worker (each part changes only rows still in progress under the claim, so what did go through is not redone).
		$errors  = 0;
		$first   = ''; // The first refusal's text: later statements reset $wpdb->last_error.
		$refused = function ( $text, $count = 1 ) use ( &$errors, &$first ) {
			$errors += $count;
			$first   = '' === $first ? (string) $text : $first;
		};
		foreach ( isset( $request['finalise'] ) ? (array) $request['finalise'] : array() as $r ) {
			$id = (int) $r['id'];
			if ( Contract::STATUS_COMPLETE === $r['status'] && ! empty( $r['at'] ) ) {
				$changed = RunnerRows::settle_complete( $id, $claim, $r['at'][0], $r['at'][1] );
				$hook    = 'action_scheduler_after_execute';
				$handler = 'log_completed_action';
				$args    = array( $id, null, $context );
			} elseif ( Contract::STATUS_FAILED === $r['status'] ) {
				$changed = RunnerRows::settle_failed( $id, $claim );
				$hook    = 'action_scheduler_failed_execution';
				$handler = 'log_failed_action';
				$args    = array( $id, new \Exception( isset( $r['error'] ) ? (string) $r['error'] : '' ), $context );
			} else {
				continue;
			}
			if ( false === $changed ) {
				$refused( $wpdb->last_error );
			}
			if ( $changed ) {
				// The line the dead worker's logger would have written: by the logger's own handler, if it is hooked
				// (a plugin may have unhooked it), dated when the outcome was reported.
				if ( false !== has_action( $hook, array( $logger, $handler ) ) ) {
					$log = function () use ( $logger, $handler, $args ) {
						call_user_func_array( array( $logger, $handler ), $args );
					};
					if ( $logger instanceof WorkerLogger && ! empty( $r['at'] ) ) {
						$logger->dated( as_get_datetime_object( $r['at'][0] . ' UTC' ), $log );
					} else {
						$log();
					}
				}
				++$finalised;
			}
		}
		$unstarted = 0;
		if ( ! empty( $request['unstart']['ids'] ) ) {
			$u    = $request['unstart'];
			$prev = array();
			foreach ( (array) $u['ids'] as $id ) {
				if ( isset( $u['prev'][ $id ] ) ) {
					$prev[ (int) $id ] = $u['prev'][ $id ];
				}
			}
			$refused_marks = array();
			$unstarted     = StartWindow::undo( $prev, $claim, (string) $u['gmt'], (string) $u['message'], true, $refused_marks );
			if ( $refused_marks ) {
				$refused( reset( $refused_marks ), count( $refused_marks ) );
			}
		}
		if ( ! empty( $request['start']['id'] ) ) {
			// A start the dead worker may have committed though its callback never ran (it died before "running"):
			// back to pending, as CommitPipeline::refuse() undoes a start, only if that start is still there.
			$s       = $request['start'];
			$changed = RunnerRows::unstart( (int) $s['id'], $claim, (string) $s['gmt'] );
			if ( false === $changed ) {
				$refused( $wpdb->last_error );
			}
			if ( $changed ) {
				if ( '' !== (string) $s['message'] ) {
					LogLines::delete_last_since( (int) $s['id'], (string) $s['message'], (string) $s['since'] );
				}
				++$unstarted;
			}
		}
		$reply = array(
			'op'        => Contract::REPLY_SETTLED,
			'finalised' => $finalised,
			'unstarted' => $unstarted,
		);
		if ( $errors ) {
			$reply['error'] = sprintf( '%1$d writes failed: %2$s', $errors, $first ? $first : 'database error' );
		}
		$this->send( $reply );
	}

	private function clean() {
		$this->commit();
		$settings = Settings::current();
		// As the library's runners call it: ten times the runner's time limit, the default that the cleaner's own
		// action_scheduler_timeout_period and action_scheduler_failure_period filters then receive (each separately).
		// Set-based and time-boxed (Maintenance); 'more' asks the sidecar to come back soon.
		$result = Maintenance::run( 10 * $settings['time_limit'], $settings['cleanup_batch_size'] );
		// Periodic checks of other parts (the alerts) run here, once a minute by one sidecar at a time, and before the
		// answer: the sidecar runs the pass on a worker of its own (never a lane's), so nothing waits on them but the
		// next pass.
		do_action( 'sidecar_scheduler_after_maintenance' );
		$this->send( array( 'op' => Contract::REPLY_CLEANED ) + $result );
	}
}
