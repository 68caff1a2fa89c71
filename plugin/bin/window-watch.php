<?php
/**
 * The start-window watcher (see SidecarScheduler\Runner\StartWindow): started by a CLI worker, beside it, with a
 * database connection of its own and no WordPress. The first line on stdin is the connection and the table names;
 * then the worker's lines:
 *
 * - {"op":"hold", claim, gmt, message, lines, prev}: the marks of a new window (replacing any before);
 * - {"op":"take","id":N}: the worker took (or undid) that mark itself;
 * - {"op":"clear"}: no marks are held any more;
 * - {"op":"ask","take":N}: drop N's mark (when it is still held: it is the worker's now), then answer
 *   {"released":[…]}, the marks this watcher released since the last answer (N among them if it was too late).
 *
 * It writes {"thread":N} when it opens its database connection (N: the connection ID), so that a worker that gives up
 * on it can kill that connection too (a statement sent by a killed process still runs on the server).
 *
 * When `after` seconds pass without a line while marks are held (the worker is inside a slow action), the marks go
 * back to pending under the claim, with the same conditions as StartWindow::undo(): only rows that still carry the
 * mark (in progress, the claim, the window's time), attempts and last attempt as before, the window's "started" line
 * removed. Every line already waiting is read before that, so a mark the worker took in time is never touched.
 * Exits when stdin closes (the worker ended or died).
 */
// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals, WordPress.WP.GlobalVariablesOverride -- a CLI script run as a process of its own, never loaded by WordPress: its globals meet no site's.
// phpcs:disable WordPress.DB.RestrictedFunctions -- no WordPress here (so no $wpdb): the watcher's own mysqli connection, apart from the worker's.
if ( PHP_SAPI !== 'cli' ) {
	exit( 2 );
}
$sidecar_config = json_decode( (string) fgets( STDIN ), true );
if ( ! is_array( $sidecar_config ) ) {
	exit( 2 );
}
mysqli_report( MYSQLI_REPORT_OFF );
$sidecar_db       = null;
$sidecar_held     = array(); // action ID => array( gmt, local ) before the mark
$sidecar_window   = null;    // claim, gmt, message, lines
$sidecar_released = array();
$sidecar_heard    = microtime( true );
$sidecar_after    = max( 0.5, (float) $sidecar_config['after'] );

/** The marks still held, back to pending (see above). Returns the IDs whose mark this undid, and those it could not try. */
function sidecar_watch_release( array $config, &$db, array $held, array $window ) {
	if ( ! $db || ! @mysqli_ping( $db ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- an idle connection may have timed out; then it is opened again.
		$db = @mysqli_connect( $config['host'] ? $config['host'] : null, $config['user'], $config['password'], $config['name'], $config['port'] ? $config['port'] : null, $config['socket'] ? $config['socket'] : null ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- a refused connection is reported just below.
		if ( ! $db ) {
			fwrite( STDERR, 'Sidecar Scheduler window watcher: cannot connect to the database: ' . mysqli_connect_error() . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- stderr of this process, where the sidecar logs it; not a file.
			return array( array(), array_keys( $held ) );
		}
		// Never wait long on a row lock (the default is 50 s): the worker waits 10 s for an answer before it stops this
		// process, and a statement left waiting could land after that. The statement limit is MariaDB's (ignored
		// elsewhere). A mark whose release failed is tried again later.
		mysqli_query( $db, 'SET SESSION innodb_lock_wait_timeout = 3' );
		mysqli_query( $db, 'SET SESSION max_statement_time = 5' );
		fwrite( STDOUT, json_encode( array( 'thread' => mysqli_thread_id( $db ) ) ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite, WordPress.WP.AlternativeFunctions.json_encode_json_encode -- a line to the worker on its pipe; WordPress (and wp_json_encode()) is not loaded here.
		fflush( STDOUT );
	}
	$released = array();
	$failed   = array();
	$lines    = array_flip( array_map( 'intval', (array) $window['lines'] ) );
	foreach ( $held as $id => $before ) {
		$sql = sprintf(
			"UPDATE `%s` SET status = 'pending', attempts = GREATEST(attempts, 1) - 1, last_attempt_gmt = '%s', last_attempt_local = '%s' WHERE action_id = %d AND status = 'in-progress' AND claim_id = %d AND last_attempt_gmt = '%s'",
			$config['actions'],
			mysqli_real_escape_string( $db, (string) $before[0] ),
			mysqli_real_escape_string( $db, (string) $before[1] ),
			(int) $id,
			(int) $window['claim'],
			mysqli_real_escape_string( $db, (string) $window['gmt'] )
		);
		$res = mysqli_query( $db, $sql );
		if ( ! $res ) {
			$failed[] = (int) $id; // a lock wait or statement timeout, a lost connection: not released, tried again
			continue;
		}
		if ( mysqli_affected_rows( $db ) > 0 ) {
			if ( isset( $lines[ (int) $id ] ) && '' !== (string) $window['message'] ) {
				mysqli_query( $db, sprintf( "DELETE FROM `%s` WHERE action_id = %d AND message = '%s' AND log_date_gmt >= '%s' ORDER BY log_id DESC LIMIT 1", $config['logs'], (int) $id, mysqli_real_escape_string( $db, (string) $window['message'] ), mysqli_real_escape_string( $db, (string) $window['gmt'] ) ) );
			}
			$released[] = (int) $id;
		}
	}
	if ( $released ) {
		fwrite( STDERR, sprintf( "Sidecar Scheduler window watcher: %d start marks waited %s s behind a slow action; put back to pending under claim %d: %s\n", count( $released ), $config['after'], (int) $window['claim'], implode( ',', $released ) ) ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- stderr of this process, where the sidecar logs it; not a file.
	}
	return array( $released, $failed );
}

while ( true ) {
	$wait   = $sidecar_held ? max( 0, $sidecar_heard + $sidecar_after - microtime( true ) ) : null;
	$read   = array( STDIN );
	$write  = null;
	$except = null;
	$ready  = null === $wait ? @stream_select( $read, $write, $except, null ) : @stream_select( $read, $write, $except, (int) $wait, (int) ( ( $wait - (int) $wait ) * 1e6 ) ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- stream_select() warns when a signal interrupts it, an ordinary wake-up here.
	if ( false === $ready ) {
		continue; // EINTR
	}
	if ( $ready > 0 ) {
		$line = fgets( STDIN );
		if ( false === $line ) {
			exit( 0 );
		}
		$sidecar_heard = microtime( true );
		$m             = json_decode( $line, true );
		$op            = is_array( $m ) && isset( $m['op'] ) ? $m['op'] : '';
		if ( 'hold' === $op ) {
			$sidecar_held = array();
			foreach ( (array) $m['prev'] as $id => $before ) {
				$sidecar_held[ (int) $id ] = $before;
			}
			$sidecar_window = $m;
		} elseif ( 'take' === $op ) {
			unset( $sidecar_held[ (int) $m['id'] ] );
		} elseif ( 'clear' === $op ) {
			$sidecar_held = array();
		} elseif ( 'ask' === $op ) {
			if ( ! empty( $m['take'] ) ) {
				unset( $sidecar_held[ (int) $m['take'] ] ); // one line at a time: it cannot be released after this
			}
			fwrite( STDOUT, json_encode( array( 'released' => $sidecar_released ) ) . "\n" ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite, WordPress.WP.AlternativeFunctions.json_encode_json_encode -- the answer to the worker on its pipe; WordPress (and wp_json_encode()) is not loaded here.
			fflush( STDOUT );
			$sidecar_released = array();
		}
		continue; // every waiting line first
	}
	if ( $sidecar_held && $sidecar_window ) {
		list( $sidecar_done, $sidecar_failed ) = sidecar_watch_release( $sidecar_config, $sidecar_db, $sidecar_held, $sidecar_window );
		$sidecar_released                      = array_merge( $sidecar_released, $sidecar_done );
		// Failed ones stay held, tried again a release time from now (later is always safe: the worker trusts a mark
		// for less than the release time after its last line).
		$sidecar_held  = array_intersect_key( $sidecar_held, array_flip( $sidecar_failed ) );
		$sidecar_heard = microtime( true );
	}
}
