<?php
/**
 * Site Health › Info: a "Sidecar Scheduler" section with the mode, the live sidecars (host, pid, version, channel,
 * workers, last heartbeat), whether the PHP fallback runners are active, WP-Cron's state and the queue's counts.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\SiteHealth;

use SidecarScheduler\Contract;
use SidecarScheduler\Plugin;
use SidecarScheduler\Store\HealthQueries;

defined( 'ABSPATH' ) || exit;

/**
 * The debug_information section.
 */
final class Info {

	/**
	 * Adds the section (debug_information filter).
	 *
	 * @param array $info Sections so far.
	 * @return array
	 */
	public static function add( $info ) {
		$live   = HealthQueries::live_sidecars();
		$due    = HealthQueries::past_due();
		$fields = array(
			'version'  => array(
				'label' => __( 'Plugin version', 'sidecar-scheduler' ),
				'value' => Contract::VERSION,
			),
			'mode'     => array(
				'label' => __( 'Mode', 'sidecar-scheduler' ),
				'value' => Plugin::MODE_STANDALONE === Plugin::mode() ? __( 'standalone (this plugin provides Action Scheduler)', 'sidecar-scheduler' ) : __( 'companion (beside another copy of Action Scheduler)', 'sidecar-scheduler' ),
				'debug' => Plugin::mode(),
			),
			'sidecars' => array(
				'label' => __( 'Live sidecars', 'sidecar-scheduler' ),
				'value' => (string) count( $live ),
				'debug' => count( $live ),
			),
		);
		foreach ( array_values( $live ) as $i => $s ) {
			$age                       = max( 0, time() - strtotime( $s->last_seen_gmt . ' UTC' ) );
			$fields[ 'sidecar_' . $i ] = array(
				/* translators: %d: sidecar number */
				'label' => sprintf( __( 'Sidecar %d', 'sidecar-scheduler' ), $i + 1 ),
				/* translators: 1: host, 2: pid, 3: version, 4: channel, 5: workers, 6: seconds, 7: start time */
				'value' => sprintf( __( '%1$s pid %2$d, version %3$s, %4$s channel, %5$d workers, heartbeat %6$d s ago, running since %7$s UTC', 'sidecar-scheduler' ), $s->host, $s->pid, $s->version, $s->channel, $s->concurrency, $age, $s->started_gmt ),
				'debug' => sprintf( '%s pid=%d version=%s channel=%s workers=%d heartbeat_age=%ds started=%s', $s->host, $s->pid, $s->version, $s->channel, $s->concurrency, $age, $s->started_gmt ),
			);
		}
		$fields['fallback']        = array(
			'label' => __( 'PHP fallback runners (WP-Cron, admin loopback)', 'sidecar-scheduler' ),
			'value' => $live ? __( 'standing down (a sidecar runs)', 'sidecar-scheduler' ) : __( 'active (no sidecar runs)', 'sidecar-scheduler' ),
			'debug' => $live ? 'off' : 'on',
		);
		$fields['wp_cron']         = array(
			'label' => __( 'WP-Cron', 'sidecar-scheduler' ),
			'value' => defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON ? __( 'disabled (DISABLE_WP_CRON)', 'sidecar-scheduler' ) : __( 'enabled (runs on page views)', 'sidecar-scheduler' ),
			'debug' => defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON ? 'disabled' : 'enabled',
		);
		$fields['past_due']        = array(
			'label' => __( 'Past-due actions', 'sidecar-scheduler' ),
			/* translators: 1: count, 2: date */
			'value' => $due['count'] ? sprintf( __( '%1$d (oldest due %2$s UTC)', 'sidecar-scheduler' ), $due['count'], $due['oldest'] ) : '0',
			'debug' => $due['count'],
		);
		$fields['nudge']           = array(
			'label' => __( 'Nudge address', 'sidecar-scheduler' ),
			'value' => defined( Contract::CONST_NUDGE ) ? (string) constant( Contract::CONST_NUDGE ) : __( 'not set (the sidecar polls)', 'sidecar-scheduler' ),
		);
		$fields['schema']          = array(
			'label' => __( 'Schema versions', 'sidecar-scheduler' ),
			'value' => sprintf( 'store %s, logger %s, sidecar %s', get_option( Contract::SCHEMA_STORE_OPTION, '—' ), get_option( Contract::SCHEMA_LOGGER_OPTION, '—' ), get_option( Contract::SCHEMA_SIDECAR_OPTION, '—' ) ),
		);
		$info['sidecar-scheduler'] = array(
			'label'  => __( 'Sidecar Scheduler', 'sidecar-scheduler' ),
			'fields' => $fields,
		);
		return $info;
	}
}
