<?php
/** `wp action-scheduler run|clean|fix-schema` with the library's options and output (facts §7). */

namespace SidecarScheduler\Cli;

defined( 'ABSPATH' ) || exit;

final class ActionSchedulerCommand {
	/**
	 * Runs due actions.
	 *
	 * [--batch-size=<size>]
	 * [--batches=<size>]
	 * [--cleanup-batch-size=<size>]
	 * [--hooks=<hooks>]
	 * [--group=<group>]
	 * [--exclude-groups=<groups>]
	 * [--free-memory-on=<count>]
	 * [--pause=<seconds>]
	 * [--force]
	 */
	public function run( $args, $assoc ) {
		$batch   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batch-size', 100 );
		$batches = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batches', 0 );
		$clean   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'cleanup-batch-size', $batch );
		$hooks   = array_filter( explode( ',', (string) \WP_CLI\Utils\get_flag_value( $assoc, 'hooks', '' ) ) );
		$group   = (string) \WP_CLI\Utils\get_flag_value( $assoc, 'group', '' );
		$exclude = $group ? array() : array_filter( str_getcsv( (string) \WP_CLI\Utils\get_flag_value( $assoc, 'exclude-groups', '' ) ) );
		$force   = (bool) \WP_CLI\Utils\get_flag_value( $assoc, 'force', false );
		$store   = \ActionScheduler::store();
		$runner  = \ActionScheduler::runner();
		$store->set_claim_filter( 'hooks', $hooks );
		$store->set_claim_filter( 'group', $group );
		$store->set_claim_filter( 'exclude-groups', $exclude );
		$total = 0;
		$done  = 0;
		do {
			( new \ActionScheduler_QueueCleaner( $store, $clean ) )->clean();
			if ( ! $force && $runner->has_maximum_concurrent_batches() ) {
				\WP_CLI::error( __( 'There are too many concurrent batches.', 'action-scheduler' ) );
			}
			do_action( 'action_scheduler_before_process_queue' );
			$claim = $store->stake_claim( $batch );
			foreach ( $claim->get_actions() as $action_id ) {
				if ( ! in_array( $action_id, $store->find_actions_by_claim_id( $claim->get_id() ), true ) ) {
					\WP_CLI::warning( __( 'The claim has been lost. Aborting current batch.', 'action-scheduler' ) );
					break;
				}
				/* translators: %s: action ID */
				\WP_CLI::log( sprintf( __( 'Started processing action %s', 'action-scheduler' ), $action_id ) );
				$runner->process_action( $action_id, 'WP CLI' );
				$action = $store->fetch_action( $action_id );
				/* translators: 1: action ID 2: hook */
				\WP_CLI::log( sprintf( __( 'Completed processing action %1$s with hook: %2$s', 'action-scheduler' ), $action_id, $action->get_hook() ) );
				$total++;
			}
			$count = count( $claim->get_actions() );
			$store->release_claim( $claim );
			do_action( 'action_scheduler_after_process_queue' );
			$done++;
		} while ( $count > 0 && ( 0 === $batches || $done < $batches ) );
		/* translators: %d: amount of actions */
		\WP_CLI::success( sprintf( _n( '%d scheduled task completed.', '%d scheduled tasks completed.', $total, 'action-scheduler' ), $total ) );
	}

	/**
	 * Deletes finished actions.
	 *
	 * [--batch-size=<size>]
	 * [--batches=<size>]
	 * [--status=<status>]
	 * [--before=<datestring>]
	 * [--pause=<seconds>]
	 */
	public function clean( $args, $assoc ) {
		$batch    = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batch-size', 20 );
		$batches  = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batches', 0 );
		$statuses = array_filter( explode( ',', (string) \WP_CLI\Utils\get_flag_value( $assoc, 'status', 'complete,canceled' ) ) );
		// The library documents "31 days" but parses an empty string, i.e. now; kept so scripts behave the same.
		$before   = as_get_datetime_object( (string) \WP_CLI\Utils\get_flag_value( $assoc, 'before', '' ) );
		$pause    = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'pause', 0 );
		$cleaner  = new \ActionScheduler_QueueCleaner( \ActionScheduler::store(), $batch );
		$deleted  = 0;
		$done     = 0;
		do {
			$ids      = $cleaner->clean_actions( $statuses, $before, $batch, 'CLI' );
			$deleted += count( $ids );
			$done++;
			if ( $pause && $ids ) {
				sleep( $pause );
			}
		} while ( $ids && ( 0 === $batches || $done < $batches ) );
		/* translators: %d: number of deleted actions */
		\WP_CLI::success( sprintf( __( '%d actions deleted.', 'sidecar-scheduler' ), $deleted ) );
	}

	/** Re-runs the table creation for both schemas. */
	public function fix_schema( $args, $assoc ) {
		\SidecarScheduler\Store\Schema::maybe_install( true );
		\WP_CLI::success( __( 'Schema updated.', 'sidecar-scheduler' ) );
	}
}
