<?php
/**
 * Failing hooks at a glance: per hook and group over the last hour and day, runs, failures, failure rate, run time
 * p50/p95 and the most frequent error messages with counts and when each was first and last seen. Shared by the
 * admin screen, the REST route and `wp sidecar-scheduler report`.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Insight;

use SidecarScheduler\Store\InsightQueries;

defined( 'ABSPATH' ) || exit;

/**
 * Builds the report from the library's own log lines (InsightQueries): whoever ran an action, it counts.
 */
final class FailingHooks {

	/** The windows the report covers, in seconds. */
	const WINDOWS = array(
		'hour' => HOUR_IN_SECONDS,
		'day'  => DAY_IN_SECONDS,
	);

	/** At most this many hooks per window (failing ones first). */
	const MAX_HOOKS = 50;

	/** At most this many distinct error messages per hook. */
	const MAX_ERRORS = 5;

	/**
	 * The report for both windows.
	 *
	 * @param int|null $now Unix time the windows end at (tests); default now.
	 * @return array { generatedAt, hour: window, day: window }
	 */
	public static function report( $now = null ) {
		$now  = null === $now ? time() : (int) $now;
		$data = array( 'generatedAt' => gmdate( 'Y-m-d H:i:s', $now ) );
		foreach ( self::WINDOWS as $name => $seconds ) {
			$data[ $name ] = self::window( $name, $now - $seconds );
		}
		return $data;
	}

	/**
	 * One window: its hooks, sorted with the most failures first.
	 *
	 * @param string $name      'hour' or 'day'.
	 * @param int    $since_ts  Unix time the window starts at.
	 * @return array { window, since, complete, hooks[] }
	 */
	public static function window( $name, $since_ts ) {
		$since    = gmdate( 'Y-m-d H:i:s', $since_ts );
		$outcomes = InsightQueries::outcomes( $since );
		$errors   = InsightQueries::errors( $since );
		$hooks    = array();
		foreach ( (array) $outcomes as $row ) {
			$key = self::key( $row->hook, $row->group_slug );
			if ( ! isset( $hooks[ $key ] ) ) {
				$hooks[ $key ] = array(
					'hook'          => (string) $row->hook,
					'group'         => (string) $row->group_slug,
					'runs'          => 0,
					'failures'      => 0,
					'failureRate'   => 0,
					'runSeconds'    => array(
						'p50' => 0,
						'p95' => 0,
					),
					'lastRunAt'     => null,
					'lastFailureAt' => null,
					'failedNow'     => 0,
					'errors'        => array(),
					'histogram'     => array(),
				);
			}
			$n                                   = (int) $row->n;
			$hooks[ $key ]['runs']              += $n;
			$secs                                = (int) $row->secs;
			$hooks[ $key ]['histogram'][ $secs ] = ( isset( $hooks[ $key ]['histogram'][ $secs ] ) ? $hooks[ $key ]['histogram'][ $secs ] : 0 ) + $n;
			$hooks[ $key ]['lastRunAt']          = max( (string) $hooks[ $key ]['lastRunAt'], (string) $row->last_at );
			if ( ! (int) $row->ok ) {
				$hooks[ $key ]['failures']     += $n;
				$hooks[ $key ]['lastFailureAt'] = max( (string) $hooks[ $key ]['lastFailureAt'], (string) $row->last_at );
			}
		}
		foreach ( (array) $errors as $row ) {
			$key = self::key( $row->hook, $row->group_slug );
			if ( ! isset( $hooks[ $key ] ) ) {
				continue; // Its outcome line came after the outcomes query read (a run finished in between).
			}
			$message = self::message( (string) $row->message );
			$list    = &$hooks[ $key ]['errors'];
			if ( ! isset( $list[ $message ] ) ) {
				$list[ $message ] = array(
					'message'   => $message,
					'count'     => 0,
					'firstSeen' => (string) $row->first_at,
					'lastSeen'  => (string) $row->last_at,
				);
			}
			// The same message from different runners ("via WP Cron", "via Sidecar") is one error.
			$list[ $message ]['count']    += (int) $row->n;
			$list[ $message ]['firstSeen'] = min( $list[ $message ]['firstSeen'], (string) $row->first_at );
			$list[ $message ]['lastSeen']  = max( $list[ $message ]['lastSeen'], (string) $row->last_at );
			unset( $list );
		}
		$failing = array();
		foreach ( $hooks as $key => &$h ) {
			$h['failureRate'] = $h['runs'] ? round( $h['failures'] / $h['runs'], 4 ) : 0;
			$h['runSeconds']  = array(
				'p50' => self::percentile( $h['histogram'], $h['runs'], 0.5 ),
				'p95' => self::percentile( $h['histogram'], $h['runs'], 0.95 ),
			);
			unset( $h['histogram'] );
			$errs = array_values( $h['errors'] );
			usort(
				$errs,
				function ( $x, $y ) {
					return array( $y['count'], $y['lastSeen'] ) <=> array( $x['count'], $x['lastSeen'] );
				}
			);
			$h['errors'] = array_slice( $errs, 0, self::MAX_ERRORS );
			if ( $h['failures'] ) {
				$failing[] = $h['hook'];
			}
		}
		unset( $h );
		foreach ( InsightQueries::failed_counts( array_values( array_unique( $failing ) ) ) as $row ) {
			$key = self::key( $row->hook, $row->group_slug );
			if ( isset( $hooks[ $key ] ) ) {
				$hooks[ $key ]['failedNow'] = (int) $row->n;
			}
		}
		$hooks = array_values( $hooks );
		usort(
			$hooks,
			function ( $x, $y ) {
				return array( $y['failures'], $y['failureRate'], $y['runs'], $x['hook'] ) <=> array( $x['failures'], $x['failureRate'], $x['runs'], $y['hook'] );
			}
		);
		return array(
			'window'   => $name,
			'since'    => $since,
			// False when the server stopped a query at its time limit (a huge log table): the figures are then missing.
			'complete' => null !== $outcomes && null !== $errors,
			'hooks'    => array_slice( $hooks, 0, self::MAX_HOOKS ),
		);
	}

	/**
	 * The error itself, without the runner that met it: "action failed via WP Cron: boom" → "boom".
	 *
	 * @param string $line A log line of a failed run.
	 * @return string
	 */
	public static function message( $line ) {
		if ( preg_match( '/^action failed(?: via [^:]+)?: (.*)$/s', $line, $m ) ) {
			return $m[1];
		}
		return $line;
	}

	/**
	 * The nearest-rank percentile of a histogram of whole seconds.
	 *
	 * @param array $histogram seconds => count.
	 * @param int   $total     Sum of the counts.
	 * @param float $q         0..1.
	 * @return int Seconds.
	 */
	private static function percentile( array $histogram, $total, $q ) {
		if ( ! $total ) {
			return 0;
		}
		ksort( $histogram );
		$rank = (int) ceil( $q * $total );
		$seen = 0;
		foreach ( $histogram as $secs => $n ) {
			$seen += $n;
			if ( $seen >= $rank ) {
				return (int) $secs;
			}
		}
		return (int) $secs;
	}

	/**
	 * A map key for a hook in a group.
	 *
	 * @param string $hook  Hook.
	 * @param string $group Group slug.
	 * @return string
	 */
	private static function key( $hook, $group ) {
		return $hook . "\0" . $group;
	}
}
