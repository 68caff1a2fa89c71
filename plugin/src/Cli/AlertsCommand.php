<?php
/**
 * `wp sidecar-scheduler alerts`: evaluates the alert conditions now and sends what changed (a cron line can run it).
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cli;

use SidecarScheduler\Alerts\Alerts;
use SidecarScheduler\Alerts\Conditions;
use SidecarScheduler\Alerts\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Evaluates the alerts.
 */
final class AlertsCommand {

	/**
	 * Evaluates every alert condition and sends alerts and recoveries (email, webhook) as the sidecar does.
	 *
	 * [--format=<format>]
	 * : table or json.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 * ---
	 *
	 * @param array $args  None.
	 * @param array $assoc Options.
	 */
	public function __invoke( $args, $assoc ) {
		// What the evaluations remembered before this one (the backlog's samples, the last dead letter seen), so that
		// the table shows what this evaluation saw, a growing backlog and new dead letters included.
		$state  = get_option( Alerts::STATE_OPTION, array() );
		$memory = isset( $state['memory'] ) && is_array( $state['memory'] ) ? $state['memory'] : array();
		$sent   = Alerts::evaluate();
		if ( null === $sent ) {
			\WP_CLI::warning( 'Another process is evaluating the alerts right now; nothing done.' );
			return;
		}
		$rows = array();
		foreach ( Conditions::evaluate( Settings::get(), $memory ) as $code => $c ) {
			$rows[] = array(
				'condition' => $code,
				'firing'    => $c[0] ? 'yes' : 'no',
				'summary'   => $c[0] ? $c[1] : '',
			);
		}
		if ( 'json' === ( isset( $assoc['format'] ) ? $assoc['format'] : 'table' ) ) {
			\WP_CLI::line(
				wp_json_encode(
					array(
						'sent'       => $sent,
						'conditions' => $rows,
					)
				)
			);
			return;
		}
		\WP_CLI\Utils\format_items( 'table', $rows, array( 'condition', 'firing', 'summary' ) );
		foreach ( $sent as $s ) {
			\WP_CLI::line( sprintf( 'sent %s: %s', $s['event'], $s['code'] ) );
		}
	}
}
