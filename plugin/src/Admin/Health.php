<?php
/**
 * Queue health figures for the admin page and `wp sidecar-scheduler status`, as plain data: cheap indexed queries
 * only, which are in Store\QueueFigures.
 */

namespace SidecarScheduler\Admin;

use SidecarScheduler\Contract;
use SidecarScheduler\Store\QueueFigures;

defined( 'ABSPATH' ) || exit;

final class Health {
	public static function overview() {
		$now = gmdate( 'Y-m-d H:i:s' );

		list( $counts, $approximate ) = self::status_counts();
		$past_due                     = QueueFigures::due_pending( $now );
		$running                      = QueueFigures::longest_running();
		$minutes                      = QueueFigures::runs_per_minute( gmdate( 'Y-m-d H:i:00', time() - HOUR_IN_SECONDS ) );
		$hours                        = QueueFigures::runs_per_hour( gmdate( 'Y-m-d H:00:00', time() - DAY_IN_SECONDS ) );
		$workers                      = QueueFigures::sidecars_seen_since( gmdate( 'Y-m-d H:i:s', time() - Contract::DEFAULT_HEARTBEAT_STALE_SECONDS ) );

		$p50 = array();
		$p95 = array();
		foreach ( (array) $minutes as $m ) {
			$p50[] = (int) $m->p50;
			$p95[] = (int) $m->p95;
		}
		$oldest_age = $past_due && $past_due->oldest ? max( 0, time() - strtotime( $past_due->oldest . ' UTC' ) ) : 0;
		$sidecars   = array_map(
			function ( $w ) {
				return array(
					'id'          => $w->sidecar_id,
					'host'        => $w->host,
					'pid'         => (int) $w->pid,
					'version'     => $w->version,
					'channel'     => $w->channel,
					'concurrency' => (int) $w->concurrency,
					'started'     => $w->started_gmt,
					'lastSeen'    => $w->last_seen_gmt,
					'running'     => (array) json_decode( (string) $w->running, true ),
				);
			},
			(array) $workers
		);

		$data             = array(
			'mode'              => \SidecarScheduler\Plugin::mode(),
			'now'               => $now,
			'counts'            => $counts,
			'countsApproximate' => $approximate,
			'pastDue'           => array(
				'count'            => $past_due ? (int) $past_due->n : 0,
				'oldestAgeSeconds' => $oldest_age,
			),
			'inProgress'        => array_map(
				function ( $r ) {
					return array(
						'id'             => (int) $r->action_id,
						'hook'           => $r->hook,
						'runningSeconds' => max( 0, time() - strtotime( $r->last_attempt_gmt . ' UTC' ) ),
					);
				},
				(array) $running
			),
			'perMinute'         => array_map(
				function ( $m ) {
					return array(
						'time'      => $m->minute_gmt,
						'completed' => (int) $m->completed,
						'failed'    => (int) $m->failed,
					);
				},
				(array) $minutes
			),
			'perHour'           => array_map(
				function ( $h ) {
					return array(
						'time'      => $h->hour_gmt,
						'completed' => (int) $h->completed,
						'failed'    => (int) $h->failed,
					);
				},
				(array) $hours
			),
			'waitMs'            => array(
				'p50' => self::median( $p50 ),
				'p95' => $p95 ? max( $p95 ) : 0,
			),
			'sidecars'          => $sidecars,
		);
		$data['warnings'] = self::warnings( $data );
		return $data;
	}

	/** Rows above which "complete" is estimated instead of counted (counting 1M rows takes ~200 ms). */
	const EXACT_COUNT_LIMIT = 200000;

	/**
	 * Counts per status. Small tables: one exact GROUP BY. Big tables: the statuses people act on (pending,
	 * in-progress, failed, canceled) are counted exactly through the status index, and "complete", usually the bulk,
	 * is the table's row estimate minus those, flagged as approximate for the screen to show "≈".
	 */
	private static function status_counts() {
		$counts = array_fill_keys( array( Contract::STATUS_PENDING, Contract::STATUS_RUNNING, Contract::STATUS_COMPLETE, Contract::STATUS_FAILED, Contract::STATUS_CANCELED ), 0 );
		$rows   = QueueFigures::row_estimate();
		if ( $rows < self::EXACT_COUNT_LIMIT ) {
			foreach ( QueueFigures::count_by_status() as $row ) {
				$counts[ $row->status ] = (int) $row->n;
			}
			return array( $counts, false );
		}
		foreach ( array( Contract::STATUS_PENDING, Contract::STATUS_RUNNING, Contract::STATUS_FAILED, Contract::STATUS_CANCELED ) as $status ) {
			$counts[ $status ] = QueueFigures::count_with_status( $status );
		}
		$counts[ Contract::STATUS_COMPLETE ] = max( 0, $rows - array_sum( $counts ) );
		return array( $counts, true );
	}

	private static function median( array $values ) {
		if ( ! $values ) {
			return 0;
		}
		sort( $values );
		return $values[ (int) floor( ( count( $values ) - 1 ) / 2 ) ];
	}

	/** Each warning says what is wrong and what to do about it. */
	public static function warnings( array $d ) {
		$w      = array();
		$schema = \SidecarScheduler\Store\Schema::error();
		if ( $schema ) {
			$w[] = array(
				'code'     => 'schema',
				'severity' => 'error',
				'message'  => self::schema_message( $schema ),
				'fix'      => self::schema_fix(),
			);
		}
		$threshold = (int) apply_filters( 'sidecar_scheduler_past_due_warning_seconds', 300 );
		if ( empty( $d['sidecars'] ) ) {
			$w[] = array(
				'code'     => 'no_sidecar',
				'severity' => 'warning',
				'message'  => __( 'No sidecar is running: actions are processed by the WP-Cron fallback, up to a minute late and only when the site has traffic.', 'sidecar-scheduler' ),
				'fix'      => __( 'Start the sidecar under Supervisor or systemd (see the README), or run `npx sidecar-scheduler --path=/path/to/wordpress`.', 'sidecar-scheduler' ),
			);
		}
		if ( $d['pastDue']['count'] > 0 && $d['pastDue']['oldestAgeSeconds'] > $threshold ) {
			$w[] = array(
				'code'     => 'past_due',
				'severity' => 'error',
				'message'  => sprintf( /* translators: 1: count, 2: minutes */ __( '%1$d actions are past due; the oldest has waited %2$d minutes.', 'sidecar-scheduler' ), $d['pastDue']['count'], (int) floor( $d['pastDue']['oldestAgeSeconds'] / 60 ) ),
				'fix'      => __( 'Check that a sidecar is alive and raise its concurrency, or look for one hook that blocks the queue.', 'sidecar-scheduler' ),
			);
		}
		foreach ( $d['inProgress'] as $r ) {
			if ( $r['runningSeconds'] > 300 ) {
				$w[] = array(
					'code'     => 'stuck',
					'severity' => 'error',
					'message'  => sprintf( /* translators: 1: hook, 2: id, 3: seconds */ __( 'Action %1$s (#%2$d) has been in progress for %3$d seconds.', 'sidecar-scheduler' ), $r['hook'], $r['id'], $r['runningSeconds'] ),
					'fix'      => __( 'It will be failed by the time limit; check the PHP error log for what it was doing.', 'sidecar-scheduler' ),
				);
				break;
			}
		}
		$completed = array_sum( wp_list_pluck( $d['perMinute'], 'completed' ) );
		$failed    = array_sum( wp_list_pluck( $d['perMinute'], 'failed' ) );
		if ( $failed >= 10 && $failed > 0.1 * ( $completed + $failed ) ) {
			$w[] = array(
				'code'     => 'failure_rate',
				'severity' => 'warning',
				'message'  => sprintf( /* translators: %d: failures */ __( '%d actions failed in the last hour (over 10%%).', 'sidecar-scheduler' ), $failed ),
				'fix'      => __( 'Filter the list by Failed to see the error messages in their logs.', 'sidecar-scheduler' ),
			);
		}
		return $w;
	}

	private static function schema_message( array $schema ) {
		$missing = array_slice( $schema['missing'], 0, 6 );
		/* translators: 1: tables or indexes, 2: database error */
		return sprintf( __( 'The database upgrade of the queue tables did not finish: %1$s missing.%2$s', 'sidecar-scheduler' ), implode( ', ', $missing ) . ( count( $schema['missing'] ) > count( $missing ) ? ', …' : '' ), $schema['error'] ? ' ' . sprintf( /* translators: %s: database error */ __( 'The database said: %s', 'sidecar-scheduler' ), $schema['error'] ) : '' );
	}

	private static function schema_fix() {
		return __( 'It is retried within a minute by the next admin page, WP-CLI command or sidecar worker; to retry now, run `wp action-scheduler fix-schema`. If it keeps failing, check the database user\'s ALTER privilege and free disk space.', 'sidecar-scheduler' );
	}

	/** Site Health (Tools › Site Health): a failed schema upgrade is critical until it is fixed. */
	public static function site_status_tests( $tests ) {
		$tests['direct']['sidecar_scheduler_schema'] = array(
			'label' => __( 'Sidecar Scheduler queue tables', 'sidecar-scheduler' ),
			'test'  => array( __CLASS__, 'site_health_schema' ),
		);
		return $tests;
	}

	public static function site_health_schema() {
		$schema = \SidecarScheduler\Store\Schema::error();
		return array(
			'label'       => $schema ? __( 'The queue tables\' database upgrade did not finish', 'sidecar-scheduler' ) : __( 'The queue tables are up to date', 'sidecar-scheduler' ),
			'status'      => $schema ? 'critical' : 'good',
			'badge'       => array(
				'label' => __( 'Performance', 'sidecar-scheduler' ),
				'color' => $schema ? 'red' : 'blue',
			),
			'description' => '<p>' . esc_html( $schema ? self::schema_message( $schema ) . ' ' . self::schema_fix() : __( 'Every table and index the scheduled actions need exists.', 'sidecar-scheduler' ) ) . '</p>',
			'actions'     => '',
			'test'        => 'sidecar_scheduler_schema',
		);
	}

	/**
	 * Per-group health from cheap sources only: pending/running counts and the oldest due date come from the
	 * (status, group_id, scheduled_date_gmt) index; completed/failed in 24 h and the average run time from the
	 * sidecar's per-minute statistics (so they count what sidecars ran, not WP-Cron or admin runs).
	 */
	public static function groups() {
		$now   = gmdate( 'Y-m-d H:i:s' );
		$slugs = array();
		foreach ( QueueFigures::group_slugs() as $g ) {
			$slugs[ (int) $g->group_id ] = (string) $g->slug;
		}
		$rows = array();
		$row  = function ( $slug ) use ( &$rows ) {
			if ( ! isset( $rows[ $slug ] ) ) {
				$rows[ $slug ] = array(
					'group'       => $slug,
					'pending'     => 0,
					'running'     => 0,
					'failed24h'   => 0,
					'complete24h' => 0,
					'avgRunMs'    => null,
					'oldestDue'   => null,
				);
			}
			return $slug;
		};
		$live = QueueFigures::live_per_group();
		foreach ( $live as $r ) {
			$slug = $row( isset( $slugs[ (int) $r->group_id ] ) ? $slugs[ (int) $r->group_id ] : '' );
			if ( 'pending' === $r->status ) {
				$rows[ $slug ]['pending'] += (int) $r->n;
				if ( $r->oldest && $r->oldest <= $now && ( null === $rows[ $slug ]['oldestDue'] || $r->oldest < $rows[ $slug ]['oldestDue'] ) ) {
					$rows[ $slug ]['oldestDue'] = $r->oldest;
				}
			} else {
				$rows[ $slug ]['running'] += (int) $r->n;
			}
		}
		$stats = QueueFigures::runs_per_group( gmdate( 'Y-m-d H:i:s', time() - DAY_IN_SECONDS ) );
		foreach ( $stats as $st ) {
			$slug                         = $row( (string) $st->group_slug );
			$rows[ $slug ]['complete24h'] = (int) $st->completed;
			$rows[ $slug ]['failed24h']   = (int) $st->failed;
			$rows[ $slug ]['avgRunMs']    = null === $st->avg_ms ? null : round( (float) $st->avg_ms, 1 );
		}
		$rows = array_values( $rows );
		usort(
			$rows,
			function ( $x, $y ) {
				return array( $y['pending'], $y['running'], $y['failed24h'] ) <=> array( $x['pending'], $x['running'], $x['failed24h'] );
			}
		);
		return array_slice( $rows, 0, 200 );
	}
}
