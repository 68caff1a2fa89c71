<?php
/**
 * Site Health (Tools › Site Health › Status): the queue's conditions as tests, each with what is wrong and what to do:
 * a sidecar alive (and which version), the PHP fallback runners, the past-due backlog, failing hooks, the tables and
 * indexes, and whether cleanup keeps up. Direct tests: every query is indexed and bounded.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\SiteHealth;

use SidecarScheduler\Contract;
use SidecarScheduler\Insight\FailingHooks;
use SidecarScheduler\Store\HealthQueries;
use SidecarScheduler\Store\Schema;

defined( 'ABSPATH' ) || exit;

/**
 * The Site Health tests of Sidecar Scheduler.
 */
final class Tests {

	/** Test names (without the sidecar_scheduler_ prefix) => method. */
	const TESTS = array(
		'sidecar'  => 'sidecar',
		'runners'  => 'runners',
		'past_due' => 'past_due',
		'failing'  => 'failing',
		'indexes'  => 'indexes',
		'cleanup'  => 'cleanup',
	);

	/**
	 * Adds the tests (site_status_tests filter).
	 *
	 * @param array $tests Tests so far.
	 * @return array
	 */
	public static function register( $tests ) {
		$labels = array(
			'sidecar'  => __( 'Sidecar Scheduler: sidecar', 'sidecar-scheduler' ),
			'runners'  => __( 'Sidecar Scheduler: fallback runners', 'sidecar-scheduler' ),
			'past_due' => __( 'Sidecar Scheduler: past-due actions', 'sidecar-scheduler' ),
			'failing'  => __( 'Sidecar Scheduler: failing hooks', 'sidecar-scheduler' ),
			'indexes'  => __( 'Sidecar Scheduler: tables and indexes', 'sidecar-scheduler' ),
			'cleanup'  => __( 'Sidecar Scheduler: cleanup', 'sidecar-scheduler' ),
		);
		foreach ( self::TESTS as $name => $method ) {
			$tests['direct'][ 'sidecar_scheduler_' . $name ] = array(
				'label' => $labels[ $name ],
				'test'  => array( __CLASS__, $method ),
			);
		}
		return $tests;
	}

	/**
	 * A live sidecar, and whether its version matches the plugin's.
	 *
	 * @return array Site Health result.
	 */
	public static function sidecar() {
		$live = HealthQueries::live_sidecars();
		if ( ! $live ) {
			return self::result(
				'sidecar',
				'recommended',
				__( 'No sidecar is running the scheduled actions', 'sidecar-scheduler' ),
				__( 'Without a sidecar, scheduled actions run from WP-Cron and admin requests: up to a minute late, one batch at a time, and only while the site has traffic.', 'sidecar-scheduler' ),
				__( 'Start the sidecar under Supervisor or systemd (the plugin\'s README has both files), or run it once from a cron line with --once.', 'sidecar-scheduler' )
			);
		}
		$versions = array();
		$names    = array();
		foreach ( $live as $s ) {
			$versions[] = (string) $s->version;
			/* translators: 1: host, 2: pid, 3: version, 4: channel, 5: workers */
			$names[] = sprintf( __( '%1$s (pid %2$d): version %3$s, %4$s channel, %5$d workers', 'sidecar-scheduler' ), $s->host, $s->pid, $s->version, $s->channel, $s->concurrency );
		}
		$other = array_values( array_diff( array_unique( $versions ), array( Contract::VERSION ) ) );
		if ( $other ) {
			return self::result(
				'sidecar',
				'recommended',
				__( 'A sidecar of another version runs the scheduled actions', 'sidecar-scheduler' ),
				/* translators: 1: versions, 2: plugin version, 3: list of sidecars */
				sprintf( __( 'Sidecar version %1$s runs beside plugin version %2$s. Running: %3$s.', 'sidecar-scheduler' ), implode( ', ', $other ), Contract::VERSION, implode( '; ', $names ) ),
				__( 'Deploy the sidecar together with the plugin and restart it (supervisorctl restart sidecar-scheduler, or systemctl restart sidecar-scheduler).', 'sidecar-scheduler' )
			);
		}
		return self::result(
			'sidecar',
			'good',
			/* translators: %d: number of sidecars */
			sprintf( _n( '%d sidecar runs the scheduled actions', '%d sidecars run the scheduled actions', count( $live ), 'sidecar-scheduler' ), count( $live ) ),
			/* translators: %s: list of sidecars */
			sprintf( __( 'Running: %s.', 'sidecar-scheduler' ), implode( '; ', $names ) )
		);
	}

	/**
	 * The PHP-side runners (WP-Cron and the admin's loopback) stand down while a sidecar lives; without one they run.
	 *
	 * @return array Site Health result.
	 */
	public static function runners() {
		if ( HealthQueries::live_sidecars() ) {
			return self::result( 'runners', 'good', __( 'The PHP fallback runners stand down while the sidecar runs', 'sidecar-scheduler' ), __( 'WP-Cron and the admin\'s loopback requests do not process scheduled actions while a sidecar\'s heartbeat is fresh (30 seconds), so nothing competes with it.', 'sidecar-scheduler' ) );
		}
		if ( defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON ) {
			return self::result(
				'runners',
				'recommended',
				__( 'WP-Cron is disabled and no sidecar runs: scheduled actions may not run', 'sidecar-scheduler' ),
				__( 'DISABLE_WP_CRON is set in wp-config.php, so unless a system cron job calls wp-cron.php, only the loopback request of an admin page view processes scheduled actions.', 'sidecar-scheduler' ),
				__( 'Start the sidecar (it also runs due WP-Cron events when DISABLE_WP_CRON is set), or add a system cron job that calls wp-cron.php every minute.', 'sidecar-scheduler' )
			);
		}
		return self::result( 'runners', 'recommended', __( 'The PHP fallback runners process scheduled actions', 'sidecar-scheduler' ), __( 'No sidecar runs, so WP-Cron (once a minute, on traffic) and the loopback request of admin page views process the queue, as Action Scheduler does on its own.', 'sidecar-scheduler' ), __( 'Start the sidecar to run actions on time, several at once, without traffic.', 'sidecar-scheduler' ) );
	}

	/**
	 * The past-due backlog: pending actions whose time passed longer ago than the warning threshold.
	 *
	 * @return array Site Health result.
	 */
	public static function past_due() {
		$threshold = (int) apply_filters( 'sidecar_scheduler_past_due_warning_seconds', 300 );
		$due       = HealthQueries::past_due();
		$age       = $due['oldest'] ? max( 0, time() - strtotime( $due['oldest'] . ' UTC' ) ) : 0;
		if ( $due['count'] > 0 && $age > $threshold ) {
			return self::result(
				'past_due',
				'critical',
				/* translators: %d: count */
				sprintf( _n( '%d scheduled action is past due', '%d scheduled actions are past due', $due['count'], 'sidecar-scheduler' ), $due['count'] ),
				/* translators: 1: minutes, 2: threshold in minutes */
				sprintf( __( 'The oldest has waited %1$d minutes past its time (the warning starts at %2$d minutes).', 'sidecar-scheduler' ), (int) floor( $age / 60 ), (int) floor( $threshold / 60 ) ),
				HealthQueries::live_sidecars() ? __( 'The sidecar runs but cannot keep up, or one hook blocks it: raise --workers, give the slow group its own lane (--lanes), or look at the failing hooks.', 'sidecar-scheduler' ) : __( 'No sidecar runs: start it, or check that WP-Cron runs on this site.', 'sidecar-scheduler' )
			);
		}
		return self::result(
			'past_due',
			'good',
			__( 'Scheduled actions run on time', 'sidecar-scheduler' ),
			/* translators: 1: count, 2: seconds */
			$due['count'] ? sprintf( __( '%1$d actions are due now; the oldest has waited %2$d seconds.', 'sidecar-scheduler' ), $due['count'], $age ) : __( 'No action is waiting past its time.', 'sidecar-scheduler' )
		);
	}

	/**
	 * Hooks that failed often in the last hour (at least the minimum count, at or above the rate threshold).
	 *
	 * @return array Site Health result.
	 */
	public static function failing() {
		$rate_threshold = (float) apply_filters( 'sidecar_scheduler_failure_rate_threshold', 0.1 );
		$min_failures   = (int) apply_filters( 'sidecar_scheduler_failure_min_count', 10 );
		$window         = FailingHooks::window( 'hour', time() - HOUR_IN_SECONDS );
		$bad            = array();
		foreach ( $window['hooks'] as $h ) {
			if ( $h['failures'] >= $min_failures && $h['failureRate'] >= $rate_threshold ) {
				$top = $h['errors'] ? $h['errors'][0] : null;
				/* translators: 1: hook, 2: failures, 3: runs, 4: rate, 5: error message, 6: count */
				$bad[] = sprintf( __( '%1$s failed %2$d of %3$d runs (%4$s); most often: "%5$s" (%6$d×)', 'sidecar-scheduler' ), $h['hook'] . ( $h['group'] ? ' [' . $h['group'] . ']' : '' ), $h['failures'], $h['runs'], round( 100 * $h['failureRate'], 1 ) . '%', $top ? $top['message'] : '', $top ? $top['count'] : 0 );
			}
		}
		if ( $bad ) {
			return self::result(
				'failing',
				'recommended',
				/* translators: %d: number of hooks */
				sprintf( _n( '%d hook fails often', '%d hooks fail often', count( $bad ), 'sidecar-scheduler' ), count( $bad ) ),
				implode( '. ', $bad ) . '.',
				__( 'Open the failing hooks on the queue screen for the error messages, fix the cause, then retry the failed actions there.', 'sidecar-scheduler' )
			);
		}
		return self::result( 'failing', 'good', __( 'No hook fails often', 'sidecar-scheduler' ), __( 'In the last hour no hook failed at least 10 times and in 10% of its runs or more.', 'sidecar-scheduler' ) );
	}

	/**
	 * Every table and index the queue needs exists now (read live, not from the recorded upgrade).
	 *
	 * @return array Site Health result.
	 */
	public static function indexes() {
		$missing = Schema::missing( array_merge( Schema::LIBRARY_TABLES, Schema::OWN_TABLES ) );
		if ( $missing ) {
			return self::result(
				'indexes',
				'critical',
				__( 'Tables or indexes of the scheduled actions are missing', 'sidecar-scheduler' ),
				/* translators: %s: tables and indexes */
				sprintf( __( 'Missing: %s. Without them, claims and admin queries scan whole tables, or actions cannot be stored at all.', 'sidecar-scheduler' ), implode( ', ', $missing ) ),
				__( 'Run `wp action-scheduler fix-schema`, or open the queue screen (the upgrade runs from admin pages); if it keeps failing, check the database user\'s ALTER privilege and free disk space.', 'sidecar-scheduler' )
			);
		}
		return self::result( 'indexes', 'good', __( 'The tables and indexes of the scheduled actions are in place', 'sidecar-scheduler' ), __( 'The four Action Scheduler tables with their indexes, the claim and group indexes of Sidecar Scheduler and its two tables all exist.', 'sidecar-scheduler' ) );
	}

	/**
	 * Old finished rows are deleted as the retention period says, not piling up.
	 *
	 * @return array Site Health result.
	 */
	public static function cleanup() {
		$retention = (int) apply_filters( 'action_scheduler_retention_period', Contract::DEFAULT_RETENTION_PERIOD );
		$statuses  = (array) apply_filters( 'action_scheduler_default_cleaner_statuses', array( Contract::STATUS_COMPLETE, Contract::STATUS_CANCELED ) );
		$threshold = (int) apply_filters( 'sidecar_scheduler_cleanup_backlog_threshold', 1000 );
		// A day's grace past the retention period: a cleaner that runs every minute never trips this.
		$cutoff  = gmdate( 'Y-m-d H:i:s', time() - $retention - DAY_IN_SECONDS );
		$overdue = HealthQueries::overdue_for_cleanup( $statuses, $cutoff, $threshold + 1 );
		if ( $overdue > $threshold ) {
			return self::result(
				'cleanup',
				'recommended',
				__( 'Cleanup of old actions falls behind', 'sidecar-scheduler' ),
				/* translators: 1: count, 2: days, 3: statuses */
				sprintf( __( 'More than %1$d actions (%3$s) are older than the retention period of %2$d days plus a day, and still in the table.', 'sidecar-scheduler' ), $threshold, (int) round( $retention / DAY_IN_SECONDS ), implode( ', ', $statuses ) ),
				__( 'The sidecar deletes old rows in chunks of 500 every minute; without it the library\'s cleaner deletes 20 per WP-Cron run. Start the sidecar, or run `wp action-scheduler clean` once.', 'sidecar-scheduler' )
			);
		}
		return self::result( 'cleanup', 'good', __( 'Old actions are cleaned up', 'sidecar-scheduler' ), __( 'Finished actions are deleted after the retention period.', 'sidecar-scheduler' ) );
	}

	/**
	 * One Site Health result.
	 *
	 * @param string $name        Test name without prefix.
	 * @param string $status      good, recommended or critical.
	 * @param string $label       Headline.
	 * @param string $description What is the case (plain text).
	 * @param string $fix         What to do (plain text), or ''.
	 * @return array
	 */
	private static function result( $name, $status, $label, $description, $fix = '' ) {
		$colors = array(
			'good'        => 'blue',
			'recommended' => 'orange',
			'critical'    => 'red',
		);
		$page   = admin_url( 'tools.php?page=' . \SidecarScheduler\Admin\Page::slug() );
		return array(
			'label'       => $label,
			'status'      => $status,
			'badge'       => array(
				'label' => __( 'Performance', 'sidecar-scheduler' ),
				'color' => $colors[ $status ],
			),
			'description' => '<p>' . esc_html( $description ) . '</p>' . ( $fix ? '<p>' . esc_html( $fix ) . '</p>' : '' ),
			'actions'     => 'good' === $status ? '' : '<p><a href="' . esc_url( $page ) . '">' . esc_html__( 'Open the queue screen', 'sidecar-scheduler' ) . '</a></p>',
			'test'        => 'sidecar_scheduler_' . $name,
		);
	}
}
