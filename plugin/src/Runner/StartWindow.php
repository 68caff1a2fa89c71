<?php
/**
 * Start windows: the sidecar's worker marks the next few claimed actions in progress in one transaction before it
 * runs them in order, instead of one commit per action. Only for fast actions (the sidecar sizes a window to about
 * ten milliseconds of work at the lane's recent run time; slow actions get a window of one, the exact per-action
 * sequence), in both modes (the store and logger are WorkerStore / WorkerLogger over whichever library is loaded).
 *
 * What stays as with the library: every callback starts with its in-progress state and "action started" line
 * committed (at-most-once); the "started" lines are made by the logger's own handler (not written at all if a plugin
 * unhooked it); each action re-reads its row right before it runs, so a cancel or delete by ID that arrives meanwhile
 * stops it, and its mark is then undone (attempts, last attempt and the "started" line restored), so the row ends as
 * the library would leave it; code in this worker sees marked actions as pending (WorkerStore's get_status() and
 * status queries). What differs (README, "Start windows"): for up to a window, the actions waiting their turn read in
 * progress to other processes, whose queries for pending actions (as_unschedule_action, as_next_scheduled_action)
 * then miss them; a window shares one start time.
 *
 * A mark that never turns into a run is undone: by this worker when it stops early (a "stop", stdin closed, a job
 * or memory limit), or by the sidecar through a fresh worker when this one dies (the "window" message tells it
 * what to undo), or by the sidecar when the database keeps refusing this worker's undo (the "unreleased" message).
 * Only a crash of both at once leaves marks behind; the cleaner then fails them after the failure period, as it does
 * the one action the library had running.
 *
 * Marks never wait long: a slow action in a window (the window was sized for fast ones) would leave the marks behind
 * it in progress for as long as it runs, and the cleaner fails in-progress rows older than the failure period
 * (300 s by default), though they never ran. While marks are held, a small watcher process beside the worker
 * (watch(), own database connection, no WordPress) puts them back to pending under the claim once they are
 * RELEASE_AFTER seconds old; at its turn such an action then starts as any other, with its own compare-and-set.
 * So the worker never trusts a mark the watcher may have released, it tells the watcher every mark it takes (its
 * turn) and asks before it takes one when it has not spoken to the watcher for GUARD seconds: the watcher acts only
 * RELEASE_AFTER seconds after the last line it read, and reads every waiting line before it acts. An ask takes the
 * mark in the same step; GUARD leaves at least MARGIN seconds for a stalled worker, else it is 0 (always ask).
 *
 * Over 300 lines because the marks, their undo, the status other code sees and the watcher's protocol are one
 * invariant, and the comments that explain it are much of the file.
 */

namespace SidecarScheduler\Runner;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\LogLines;
use SidecarScheduler\Store\WindowMarks;

defined( 'ABSPATH' ) || exit;

final class StartWindow {
	/** @var array<int, array{0: string, 1: string}> Marked, not yet started: action ID => last_attempt gmt/local before the mark. */
	private static $held = array();
	/** @var int|null The marked action process_action() is running now (its start is already written). */
	private static $running = null;
	/**
	 * @var int|null The marked action a status check took at its turn whose start (log_execution()) has not come yet.
	 *               Its row reads in progress (the window's mark) though nothing runs it: until the start, every status
	 *               check of it in this worker must see it pending, as with the library. A check of other code at
	 *               action_scheduler_before_execute can be the one that takes the mark (a listener added after the
	 *               worker's own, at the same priority, runs after it); the runner's check comes after and must then
	 *               still see pending, or it ignores the action and the mark is left in progress, never run. Cleared at
	 *               the start, so the callback sees in progress (as with the library), and at the end of the turn.
	 */
	private static $taken = null;
	/** @var array<int, true> Marked actions whose "started" line the window wrote (and whose handler has not run yet). */
	private static $lines   = array();
	private static $claim   = 0;
	private static $gmt     = '';
	private static $message = '';
	/** @var bool True while a stream runs with windows (set by the worker). */
	private static $active = false;
	/**
	 * @var bool True once a mark of this stream could not be undone (the database refused it past undo_retrying()'s
	 *           tries): the worker then starts nothing more of the stream, and the marks have gone to the sidecar in an
	 *           "unreleased" message (self::$report), which undoes them through the settle request once the database
	 *           takes writes again. Left in place, they made actions that never ran look started, for the cleaner to fail.
	 */
	private static $unreleased = false;
	/** @var callable|null Sends an "unreleased" message to the sidecar (set by the worker for each stream). */
	private static $report = null;

	/**
	 * Seconds after which the watcher puts marks still waiting back to pending: far below the failure period (300 s
	 * by default), and never above half of it. Filter: sidecar_scheduler_window_release_after.
	 */
	const RELEASE_AFTER = 30;
	/**
	 * @var float Seconds of silence after which the worker asks the watcher before it takes a mark. Without asking it
	 *            trusts a mark for GUARD seconds after its last line, and its "take" may be written up to the release
	 *            time after that line and still count: the margin (release time − GUARD) is the longest the worker may
	 *            stall between its check and its "take". A third of the release time when that third is at least
	 *            MARGIN seconds (10 s at the default 30 s); otherwise 0: every take is asked, and an ask takes the mark
	 *            in the same step (see ask()), so no stall can make the watcher release a mark the worker runs.
	 */
	private static $guard = 20.0;
	/** Seconds: the least stall between a mark's check and its "take" that the worker must survive when it does not ask. */
	const MARGIN = 5.0;
	/** @var array<int, true> Marks the watcher (or, without it, the rows) said were released, not yet at their turn. */
	private static $released = array();
	/** @var int The watcher's database connection ID (it reports it), killed with it when it does not answer. */
	private static $watch_thread = 0;
	/** @var array|null The watcher: array( process, stdin, stdout ); false once it could not be started. */
	private static $watch = null;
	/** @var float When the worker last wrote to the watcher. */
	private static $told = 0.0;

	/**
	 * A stream begins ($on: with windows) or ends. $report sends the marks this worker could not undo to the sidecar
	 * (as soon as they are given up on: if the worker dies before its stream ends, the sidecar still knows them).
	 */
	public static function activate( $on, $report = null ) {
		self::$active = (bool) $on;
		if ( $on ) {
			self::$unreleased = false;
			self::$report     = $report;
		}
	}

	public static function active() {
		return self::$active;
	}

	/** @return int[] Marked actions that have not had their turn yet. */
	public static function held_ids() {
		return array_keys( self::$held );
	}

	public static function holds( $action_id ) {
		return isset( self::$held[ (int) $action_id ] );
	}

	/** True when the "started" state of this action was written by its window (its start writes nothing). */
	public static function started_by_window( $action_id ) {
		return self::$running === (int) $action_id;
	}

	/** True between the status check that took this action's mark at its turn and its start (see $taken). */
	public static function taken_not_started( $action_id ) {
		return self::$taken === (int) $action_id;
	}

	/** The logger's "started" handler ran at the turn and found the window's line. */
	public static function line_confirmed( $action_id ) {
		unset( self::$lines[ (int) $action_id ] );
	}

	/**
	 * The turn of a marked action reached its start (WorkerStore::log_execution()). If the window wrote its
	 * "started" line but the logger's handler did not run at the turn (a plugin unhooked it since), the line goes:
	 * the library would not have written it.
	 */
	public static function turn_started( $action_id ) {
		$action_id = (int) $action_id;
		if ( self::$taken === $action_id ) {
			self::$taken = null; // started: from now on it reads in progress, as the library's running action does
		}
		if ( isset( self::$lines[ $action_id ] ) ) {
			unset( self::$lines[ $action_id ] );
			LogLines::delete_last_since( $action_id, self::$message, self::$gmt );
		}
	}

	/**
	 * Marks the pending actions among $ids (in claim order, claimed by $claim_id) in progress, with their "started"
	 * lines, in one transaction together with whatever the worker holds back (the previous window's completions).
	 * $announce gets what the sidecar needs to undo the marks if this process dies (the IDs, the mark's time and
	 * message, each row's last attempt before it) before they are committed: a death in between leaves nothing the
	 * sidecar does not know of, and undoing a mark that never committed changes nothing. True when marks were made.
	 */
	public static function open( array $ids, $claim_id, $context, CommitPipeline $pipeline, callable $announce ) {
		$ids   = array_map( 'intval', $ids );
		$gmt   = current_time( 'mysql', true );
		$local = current_time( 'mysql' );
		// Made before the transaction by the logger's own handler (if it is hooked): nothing but our statements runs in it.
		$logger = \ActionScheduler::logger();
		$lines  = $logger instanceof WorkerLogger ? $logger->started_lines( $ids, $context ) : array();
		$marked = array();
		$prev   = array();
		$ok     = $pipeline->transaction(
			function () use ( $ids, $claim_id, $gmt, $local, $lines, $pipeline, $announce, &$marked, &$prev ) {
				// Lock the rows for the few statements below, so no other session changes one between the check and the mark.
				$rows = WindowMarks::lock( $ids );
				foreach ( (array) $rows as $row ) {
					if ( Contract::STATUS_PENDING === $row->status && ( ! $claim_id || (int) $row->claim_id === (int) $claim_id ) ) {
						$prev[ (int) $row->action_id ] = array( $row->last_attempt_gmt, $row->last_attempt_local );
					}
				}
				// In claim order, the order they will run in.
				$marked = array_values(
					array_filter(
						$ids,
						static function ( $id ) use ( $prev ) {
							return isset( $prev[ $id ] );
						}
					)
				);
				if ( $marked ) {
					$message = $lines ? reset( $lines )[0] : '';
					$announce(
						array(
							'ids'     => $marked,
							'gmt'     => $gmt,
							'message' => $message,
							'prev'    => (object) $prev,
						)
					);
					if ( false === WindowMarks::mark( $marked, $gmt, $local ) ) {
						return false;
					}
					$add = array();
					foreach ( $marked as $id ) {
						if ( isset( $lines[ $id ] ) ) {
							$add[] = array( $id, $lines[ $id ][0], $lines[ $id ][1] );
						}
					}
					$pipeline->add_lines( $add );
				}
				// The previous window's completions and lines, then this window's "started" lines, in that order.
				return $pipeline->send_held();
			},
			true
		);
		if ( ! $ok || ! $marked ) {
			// If the connection went away, whether the marks were committed is unknown: at its turn a marked row reads
			// "in progress" and is undone (not ours to run any more), an unmarked one reads "pending" and runs.
			self::$held = array();
			if ( ! $ok && $marked ) {
				foreach ( $marked as $id ) {
					self::$held[ $id ] = $prev[ $id ];
				}
				self::remember( $claim_id, $gmt, $lines );
				self::release_held();
			}
			return false;
		}
		foreach ( $marked as $id ) {
			self::$held[ $id ] = $prev[ $id ];
		}
		self::$released = array(); // the watcher's earlier answers were about the previous window's marks
		self::remember( $claim_id, $gmt, $lines );
		self::tell(
			array(
				'op'      => 'hold',
				'claim'   => (int) $claim_id,
				'gmt'     => $gmt,
				'message' => self::$message,
				'lines'   => array_keys( self::$lines ),
				'prev'    => (object) $prev,
			)
		);
		return true;
	}

	private static function remember( $claim_id, $gmt, array $lines ) {
		self::$claim   = (int) $claim_id;
		self::$gmt     = $gmt;
		self::$message = $lines ? reset( $lines )[0] : '';
		self::$lines   = array();
		foreach ( array_keys( $lines ) as $id ) {
			if ( isset( self::$held[ $id ] ) ) {
				self::$lines[ $id ] = true;
			}
		}
	}

	/**
	 * The runner's status check at the turn (WorkerStore::get_status()). A marked action reads "in progress": it is
	 * ours to run, so it counts as pending. Anything else means another process changed it since the mark (a cancel
	 * by ID, say): the mark is undone, so the row ends as the library leaves an action it ignores.
	 */
	public static function status_at_turn( $action_id, $status ) {
		$action_id = (int) $action_id;
		if ( ! isset( self::$held[ $action_id ] ) ) {
			return $status;
		}
		if ( self::$watch && microtime( true ) - self::$told >= self::$guard ) {
			self::ask( $action_id ); // and takes this mark in the same step, unless the watcher released it already
		}
		if ( isset( self::$released[ $action_id ] ) ) {
			// The watcher put it back to pending (it waited too long): the row read before may be stale, and it
			// starts now as any pending action, with a compare-and-set of its own.
			unset( self::$held[ $action_id ], self::$lines[ $action_id ], self::$released[ $action_id ] );
			return Contract::STATUS_PENDING;
		}
		if ( Contract::STATUS_RUNNING === $status ) {
			unset( self::$held[ $action_id ] );
			self::$running = $action_id;
			self::$taken   = $action_id;
			self::tell(
				array(
					'op' => 'take',
					'id' => $action_id,
				)
			);
			return Contract::STATUS_PENDING;
		}
		self::tell(
			array(
				'op' => 'take',
				'id' => $action_id,
			)
		);
		self::undo( array( $action_id => self::$held[ $action_id ] ), self::$claim, self::$gmt, isset( self::$lines[ $action_id ] ) ? self::$message : '', false );
		unset( self::$held[ $action_id ], self::$lines[ $action_id ] );
		return $status;
	}

	/**
	 * The action's turn is over (the worker, after process_action()). If it is still held, its status was never read
	 * (its row vanished, or the database failed): undo the mark if it is still there, so it is not left in progress
	 * with no run behind it.
	 */
	public static function turn_over( $action_id ) {
		self::$running = null;
		self::$taken   = null;
		$action_id     = (int) $action_id;
		if ( isset( self::$held[ $action_id ] ) ) {
			self::tell(
				array(
					'op' => 'take',
					'id' => $action_id,
				)
			);
			self::undo_retrying( array( $action_id => self::$held[ $action_id ] ), isset( self::$lines[ $action_id ] ) ? self::$message : '' );
			unset( self::$held[ $action_id ] );
		}
		unset( self::$lines[ $action_id ] );
	}

	/**
	 * Writes a line to the watcher (started with the first window of a CLI worker). Never blocks for long: the
	 * lines are small, and the watcher reads them as they come.
	 */
	private static function tell( array $message ) {
		if ( null === self::$watch && 'hold' === $message['op'] ) {
			self::$watch = self::watch();
		}
		if ( ! self::$watch ) {
			return;
		}
		if ( false === @fwrite( self::$watch[1], wp_json_encode( $message ) . "\n" ) ) { // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite, WordPress.PHP.NoSilencedErrors.Discouraged -- the watcher's pipes, not files: a closed pipe must not warn (the caller checks the result).
			self::stop_watch( 'it stopped reading' );
			return;
		}
		self::$told = microtime( true );
	}

	/**
	 * Asks the watcher which marks it released (and so restarts its clock), and takes $take's mark in the same step:
	 * the watcher handles one line at a time, so it either released that mark before (then it is in the answer) or
	 * drops it before it can release it. The released marks go to self::$released. If the watcher does not answer
	 * within 10 s, it is stopped and waited for, and its database connection killed, so nothing it sent can still
	 * land; the marks are then read from the rows themselves.
	 */
	private static function ask( $take = 0 ) {
		self::tell(
			array(
				'op'   => 'ask',
				'take' => (int) $take,
			)
		);
		if ( self::$watch ) {
			$until = microtime( true ) + 10;
			while ( ( $left = $until - microtime( true ) ) > 0 ) { // phpcs:ignore Generic.CodeAnalysis.AssignmentInCondition.FoundInWhileCondition -- the time left, computed and tested in one place.
				$read   = array( self::$watch[2] );
				$write  = null;
				$except = null;
				if ( ! @stream_select( $read, $write, $except, (int) $left, (int) ( ( $left - (int) $left ) * 1e6 ) ) || ( $line = fgets( self::$watch[2] ) ) === false ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged, Generic.CodeAnalysis.AssignmentInCondition.Found, Squiz.PHP.DisallowMultipleAssignments.FoundInControlStructure -- wait for the watcher's line and read it in one test; a closed pipe must not warn.
					break;
				}
				$answer = json_decode( $line, true );
				if ( is_array( $answer ) && isset( $answer['thread'] ) ) {
					self::$watch_thread = (int) $answer['thread']; // its connection, (re)opened: not the answer yet
					continue;
				}
				if ( is_array( $answer ) && isset( $answer['released'] ) ) {
					foreach ( (array) $answer['released'] as $id ) {
						self::$released[ (int) $id ] = true;
					}
					return;
				}
				break;
			}
			self::stop_watch( 'it did not answer' );
		}
		// No watcher (any more): what the rows say. A mark still carries the window's time under the claim.
		$held = array_keys( self::$held );
		if ( ! $held ) {
			return;
		}
		$marked = WindowMarks::still_marked( $held, self::$claim, self::$gmt );
		foreach ( array_diff( $held, $marked ) as $id ) {
			self::$released[ (int) $id ] = true;
		}
	}

	private static function stop_watch( $why ) {
		if ( ! self::$watch ) {
			return;
		}
		global $wpdb;
		list( $process, $in, $out ) = self::$watch;
		self::$watch                = false;
		@fclose( $in ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fclose, WordPress.PHP.NoSilencedErrors.Discouraged -- the watcher's pipes, not files: a closed pipe must not warn (the caller checks the result).
		proc_terminate( $process, 9 );
		// Read to the end: the pipe ends when the process is gone, and a last line may name a connection it opened.
		foreach ( explode( "\n", (string) @stream_get_contents( $out ) ) as $line ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- a broken pipe must not warn.
			$said = json_decode( $line, true );
			if ( is_array( $said ) && isset( $said['thread'] ) ) {
				self::$watch_thread = (int) $said['thread'];
			}
		}
		@fclose( $out ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fclose, WordPress.PHP.NoSilencedErrors.Discouraged -- the watcher's pipes, not files: a closed pipe must not warn (the caller checks the result).
		proc_close( $process ); // waits: once it is gone it cannot send anything more
		if ( self::$watch_thread ) {
			// A statement the dead process sent (an UPDATE waiting on a row lock, say) still runs on the server, and
			// could release a mark after the rows are read below: end its connection first, and wait until the server
			// has (a killed statement rolls back; a user may kill its own connections). The session's lock wait and
			// statement time limits (bin/window-watch.php) bound the wait.
			$thread   = self::$watch_thread;
			$suppress = $wpdb->suppress_errors( true ); // "unknown thread": it ended by itself
			WindowMarks::kill_connection( $thread );
			$until = microtime( true ) + 5;
			while ( WindowMarks::connection_listed( $thread ) && microtime( true ) < $until ) {
				usleep( 50000 );
			}
			$wpdb->suppress_errors( $suppress );
			self::$watch_thread = 0;
		}
		error_log( sprintf( 'Sidecar Scheduler: the start-window watcher was stopped (%s); marks waiting behind a slow action are no longer released early.', $why ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- a warning for the site owner in PHP's error log, which the sidecar shows.
	}

	/**
	 * Starts the watcher: a PHP process with a database connection of its own that reads the worker's lines ("hold"
	 * with a window's marks, "take" an ID, "clear", "ask") and, RELEASE_AFTER seconds after the last line it read,
	 * undoes the marks it still holds, with the same conditions as undo(). Only in a long-lived CLI worker; false
	 * when it cannot start (windows then work as before, without it).
	 */
	private static function watch() {
		global $wpdb;
		if ( 'cli' !== PHP_SAPI || ! function_exists( 'proc_open' ) || ! defined( 'DB_HOST' ) ) {
			return false;
		}
		$host   = $wpdb->parse_db_host( DB_HOST );
		$script = dirname( __DIR__, 2 ) . '/bin/window-watch.php';
		$binary = defined( 'PHP_BINARY' ) && PHP_BINARY && false === strpos( basename( PHP_BINARY ), 'fpm' ) ? PHP_BINARY : 'php';
		if ( ! $host || ! is_file( $script ) ) {
			return false;
		}
		$pipes   = array();
		$command = array( $binary, '-d', 'display_errors=stderr', $script );
		// PHP's proc_open() passes the child every descriptor this process has open: the worker's database socket
		// and the sidecar's protocol pipe (fd 3) among them. Held by a watcher blocked in a statement, they outlive a
		// worker that is killed: the server keeps its session (an open transaction, its locks) and the sidecar sees no
		// end of fd 3. So a shell closes every descriptor above 2 and then becomes the watcher (bash: any number;
		// POSIX sh redirects only 0-9, so there only 3-9; the watcher's lock wait limit bounds the rest).
		if ( @is_executable( '/bin/bash' ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- open_basedir may forbid the look: then the plain command.
			$command = array_merge( array( '/bin/bash', '-c', 'if [ -d /proc/$$/fd ]; then for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done; else n=3; while [ $n -lt 1024 ]; do eval "exec $n>&-"; n=$((n+1)); done; fi; exec "$@"', 'sidecar-window-watch' ), $command );
		} elseif ( @is_executable( '/bin/sh' ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- as above.
			$command = array_merge( array( '/bin/sh', '-c', 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- "$@"', 'sidecar-window-watch' ), $command );
		}
		// phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged, WordPress.PHP.DiscouragedPHPFunctions.system_calls_proc_open, Generic.PHP.ForbiddenFunctions.Found -- only in the sidecar's CLI worker, never in a web request: the watcher is a PHP process of ours (bin/window-watch.php); where proc_open is disabled the worker goes on without it.
		$process = @proc_open(
			$command,
			array(
				0 => array( 'pipe', 'r' ),
				1 => array( 'pipe', 'w' ),
				2 => STDERR,
			),
			$pipes
		);
		if ( ! is_resource( $process ) ) {
			return false;
		}
		$settings                  = Settings::current();
		$after                     = (float) apply_filters( 'sidecar_scheduler_window_release_after', self::RELEASE_AFTER );
		$after                     = $settings['failure_period'] > 0 ? min( $after, $settings['failure_period'] / 2 ) : $after;
		$after                     = max( 0.5, $after );
		self::$guard               = $after / 3 >= self::MARGIN ? $after * 2 / 3 : 0.0; // see $guard
		self::$watch_thread        = 0;
		list( $h, $port, $socket ) = $host;
		$config                    = array(
			'host'     => (string) $h,
			'port'     => (int) $port,
			'socket'   => (string) $socket,
			'user'     => DB_USER,
			'password' => DB_PASSWORD,
			'name'     => DB_NAME,
			'actions'  => $wpdb->actionscheduler_actions,
			'logs'     => $wpdb->actionscheduler_logs,
			'after'    => $after,
		);
		fwrite( $pipes[0], wp_json_encode( $config ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions -- the password goes on a pipe, never on the command line.
		return array( $process, $pipes[0], $pipes[1] );
	}

	/** The worker stops before running every marked action: undo the marks of those it will not run. */
	public static function release_held() {
		if ( self::$held ) {
			$held       = self::$held;
			self::$held = array();
			self::tell( array( 'op' => 'clear' ) );
			self::undo_retrying( $held, self::$message );
			self::$lines = array();
		}
	}

	/**
	 * undo() of this window's marks (back to pending), tried again after 0.1, 0.2, 0.4 and 0.8 s while the database
	 * refuses some of them (a deadlock, a lock wait timeout): a mark left in place makes an action that never ran look
	 * started, so no worker runs it and the cleaner fails it after the failure period. Each try changes only rows that
	 * still carry the mark, so what went through is not undone twice. What is still refused after the last try goes
	 * to the sidecar (give_up()).
	 *
	 * @param array<int, array{0: string, 1: string}> $prev    Action ID => last_attempt gmt/local before the mark.
	 * @param string                                  $message The window's "started" line ('' when it wrote none).
	 */
	private static function undo_retrying( array $prev, $message ) {
		for ( $try = 0; ; $try++ ) {
			$refused = array();
			self::undo( $prev, self::$claim, self::$gmt, $message, true, $refused );
			$prev = array_intersect_key( $prev, $refused ); // the next try: only what was refused
			if ( ! $prev || $try >= 4 ) {
				break;
			}
			usleep( 100000 << $try );
		}
		if ( $prev ) {
			self::give_up( $prev );
		}
	}

	/**
	 * Marks this worker could not undo go to the sidecar at once, in an "unreleased" message (the shape of a "window"
	 * one), and the stream starts nothing more (has_unreleased()), so every such mark of a stream comes from the
	 * window open now and shares its time and line. The line goes with each, as release_held() undoes them (an
	 * action whose window wrote no line has none to remove, and the undo then finds none).
	 *
	 * @param array<int, array{0: string, 1: string}> $prev Action ID => last_attempt gmt/local before the mark.
	 */
	private static function give_up( array $prev ) {
		self::$unreleased = true;
		// phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the worker's stderr, logged by the sidecar.
		error_log( sprintf( 'Sidecar Scheduler: %d start marks of claim %d could not be undone here; the worker starts nothing more of its stream, and the sidecar undoes them (on this worker, then on fresh ones).', count( $prev ), self::$claim ) );
		if ( self::$report ) {
			call_user_func(
				self::$report,
				array(
					'ids'     => array_map( 'intval', array_keys( $prev ) ),
					'gmt'     => self::$gmt,
					'message' => self::$message,
					'prev'    => (object) $prev,
				)
			);
		}
	}

	/** True once a mark of this stream could not be undone: the worker then starts nothing more of it. */
	public static function has_unreleased() {
		return self::$unreleased;
	}

	/**
	 * Undoes marks: attempts back by one and the last attempt as before, and the "started" line removed. Only rows
	 * that still carry the mark are touched (same time; with $unstart also still in progress under the same claim, and
	 * then back to pending); used here, and by the sidecar's "settle" request after a worker died.
	 *
	 * @param array<int, array{0: string, 1: string}> $prev Action ID => last_attempt gmt/local before the mark.
	 * @param string                                  $message The window's "started" line ('' when it wrote none).
	 * @param array<int, string>                      $refused Added to: action ID => the database's error, for each
	 *                                                         mark it refused to undo.
	 */
	public static function undo( array $prev, $claim_id, $gmt, $message, $unstart, array &$refused = array() ) {
		global $wpdb;
		$undone = 0;
		foreach ( $prev as $id => $before ) {
			$changed = WindowMarks::unmark( $id, $before, $claim_id, $gmt, $unstart );
			if ( false === $changed ) {
				$refused[ (int) $id ] = (string) $wpdb->last_error; // read now: the next statement resets it
			}
			if ( $changed ) {
				if ( '' !== (string) $message ) {
					// The newest such line since the mark: the one the window wrote (lines carry their own time, at or after it).
					LogLines::delete_last_since( $id, $message, $gmt );
				}
				++$undone;
			}
		}
		return $undone;
	}
}
