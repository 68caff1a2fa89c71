<?php
/**
 * `wp sidecar-scheduler report`: the failing-hooks report (runs, failures, rate, run time, top errors per hook).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cli;

use SidecarScheduler\Insight\FailingHooks;

defined( 'ABSPATH' ) || exit;

/**
 * Prints the report of the admin screen's "Failing hooks" part.
 */
final class ReportCommand {

	/**
	 * Per hook and group in the last hour or day: runs, failures, failure rate, run time p50/p95 (whole seconds),
	 * and the most frequent error messages with counts and when each was last seen.
	 *
	 * ## OPTIONS
	 *
	 * [--window=<window>]
	 * : hour or day.
	 * ---
	 * default: hour
	 * options:
	 *   - hour
	 *   - day
	 * ---
	 *
	 * [--format=<format>]
	 * : table or json (json gives both windows, as the REST route does).
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 * ---
	 *
	 * [--failing]
	 * : Only hooks with at least one failure.
	 *
	 * ## EXAMPLES
	 *
	 *     wp sidecar-scheduler report --window=day --failing
	 *
	 * @param array $args  Positional arguments (none).
	 * @param array $assoc Options.
	 */
	public function __invoke( $args, $assoc ) {
		$report = FailingHooks::report();
		$format = isset( $assoc['format'] ) ? $assoc['format'] : 'table';
		$window = isset( $assoc['window'] ) ? $assoc['window'] : 'hour';
		if ( ! isset( FailingHooks::WINDOWS[ $window ] ) ) {
			\WP_CLI::error( sprintf( 'Unknown window "%s": use hour or day.', $window ) );
		}
		$failing = \WP_CLI\Utils\get_flag_value( $assoc, 'failing', false );
		if ( $failing ) {
			foreach ( array_keys( FailingHooks::WINDOWS ) as $w ) {
				$report[ $w ]['hooks'] = array_values(
					array_filter(
						$report[ $w ]['hooks'],
						function ( $h ) {
							return $h['failures'] > 0;
						}
					)
				);
			}
		}
		if ( 'json' === $format ) {
			\WP_CLI::line( wp_json_encode( $report ) );
			return;
		}
		$data = $report[ $window ];
		if ( ! $data['complete'] ) {
			\WP_CLI::warning( 'The log table is too large to read within the time limit; the figures are incomplete.' );
		}
		if ( ! $data['hooks'] ) {
			\WP_CLI::line( sprintf( 'No actions %s in the last %s.', $failing ? 'failed' : 'ran', $window ) );
			return;
		}
		$rows = array();
		foreach ( $data['hooks'] as $h ) {
			$top    = $h['errors'] ? $h['errors'][0] : null;
			$rows[] = array(
				'hook'       => $h['hook'],
				'group'      => $h['group'],
				'runs'       => $h['runs'],
				'failures'   => $h['failures'],
				'rate'       => sprintf( '%.1f%%', 100 * $h['failureRate'] ),
				'p50/p95 s'  => $h['runSeconds']['p50'] . '/' . $h['runSeconds']['p95'],
				'failed now' => $h['failedNow'],
				'top error'  => $top ? sprintf( '%s (%d×, last %s UTC)', self::shorten( $top['message'] ), $top['count'], $top['lastSeen'] ) : '',
			);
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array_keys( $rows[0] ) );
		foreach ( $data['hooks'] as $h ) {
			foreach ( array_slice( $h['errors'], 1 ) as $e ) {
				\WP_CLI::line( sprintf( '%s: %s (%d×, first %s, last %s UTC)', $h['hook'], self::shorten( $e['message'] ), $e['count'], $e['firstSeen'], $e['lastSeen'] ) );
			}
		}
	}

	/**
	 * One line of at most 80 characters.
	 *
	 * @param string $text Message.
	 * @return string
	 */
	private static function shorten( $text ) {
		$text = preg_replace( '/\s+/', ' ', $text );
		return strlen( $text ) > 80 ? substr( $text, 0, 77 ) . '...' : $text;
	}
}
