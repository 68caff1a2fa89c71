<?php
/** `wp action-scheduler run|clean|fix-schema` with the library's options and output (facts §7). */

namespace SidecarScheduler\Cli;

defined( 'ABSPATH' ) || exit;

final class ActionSchedulerCommand {
	/**
	 * Runs due actions.
	 *
	 * [--batch-size=<size>]
	 * : Actions per claim. Default: 100.
	 *
	 * [--batches=<size>]
	 * : Batches to run; 0 runs until nothing is due. Default: 0.
	 *
	 * [--cleanup-batch-size=<size>]
	 * : The cleaner's batch per status. Default: the batch size.
	 *
	 * [--hooks=<hooks>]
	 * : Only these hooks (comma-separated, no spaces).
	 *
	 * [--group=<group>]
	 * : Only this group.
	 *
	 * [--exclude-groups=<groups>]
	 * : Never these groups (comma-separated); ignored when --group is given.
	 *
	 * [--free-memory-on=<count>]
	 * : Clear the query log and object cache every <count> actions. Default: 50.
	 *
	 * [--pause=<seconds>]
	 * : Sleep this long each time memory is freed. Default: 0.
	 *
	 * [--force]
	 * : Run even when the concurrency limit is reached.
	 */
	public function run( $args, $assoc ) {
		$batch   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batch-size', 100 );
		$batches = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'batches', 0 );
		$clean   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'cleanup-batch-size', $batch );
		$hooks   = array_filter( explode( ',', (string) \WP_CLI\Utils\get_flag_value( $assoc, 'hooks', '' ) ) );
		$group   = (string) \WP_CLI\Utils\get_flag_value( $assoc, 'group', '' );
		$exclude = $group ? array() : array_filter( str_getcsv( (string) \WP_CLI\Utils\get_flag_value( $assoc, 'exclude-groups', '' ) ) );
		$free_on = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'free-memory-on', 50 );
		$pause   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'pause', 0 );
		$force   = (bool) \WP_CLI\Utils\get_flag_value( $assoc, 'force', false );
		$store   = \ActionScheduler::store();
		$runner  = \ActionScheduler::runner();
		$store->set_claim_filter( 'hooks', $hooks );
		$store->set_claim_filter( 'group', $group );
		$store->set_claim_filter( 'exclude-groups', $exclude );
		$unhook = self::print_progress( $store );
		$total  = 0;
		$done   = 0;
		do {
			( new \ActionScheduler_QueueCleaner( $store, $clean ) )->clean();
			if ( $runner->has_maximum_concurrent_batches() ) {
				if ( ! $force ) {
					\WP_CLI::error( __( 'There are too many concurrent batches.', 'action-scheduler' ) );
				}
				\WP_CLI::warning( __( 'There are too many concurrent batches, but the run is forced to continue.', 'action-scheduler' ) );
			}
			do_action( 'action_scheduler_before_process_queue' );
			$claim = $store->stake_claim( $batch );
			$runner->attach_claim( $claim ); // A fatal error releases it, as the library's monitor does.
			foreach ( $claim->get_actions() as $action_id ) {
				if ( ! in_array( $action_id, $store->find_actions_by_claim_id( $claim->get_id() ), true ) ) {
					\WP_CLI::warning( __( 'The claim has been lost. Aborting current batch.', 'action-scheduler' ) );
					break;
				}
				$runner->process_action( $action_id, 'WP CLI' );
				$total++;
				if ( $free_on > 0 && 0 === $total % $free_on ) {
					self::free_memory( $pause );
				}
			}
			$count = count( $claim->get_actions() );
			$store->release_claim( $claim );
			$runner->detach_claim();
			do_action( 'action_scheduler_after_process_queue' );
			$done++;
		} while ( $count > 0 && ( 0 === $batches || $done < $batches ) );
		$unhook();
		/* translators: %d: amount of actions */
		\WP_CLI::success( sprintf( _n( '%d scheduled task completed.', '%d scheduled tasks completed.', $total, 'action-scheduler' ), $total ) );
	}

	/**
	 * The library's per-action lines, printed from the same hooks it uses: "Started" before the status check (so an
	 * ignored action prints only that), "Completed" after the callback, and a non-fatal error for a failure.
	 *
	 * @return callable Removes the hooks again.
	 */
	private static function print_progress( $store ) {
		$started   = static function ( $action_id ) {
			/* translators: %s: action ID */
			\WP_CLI::log( sprintf( __( 'Started processing action %s', 'action-scheduler' ), $action_id ) );
		};
		$completed = static function ( $action_id, $action = null ) use ( $store ) {
			$action = $action ? $action : $store->fetch_action( $action_id );
			/* translators: 1: action ID 2: hook */
			\WP_CLI::log( sprintf( __( 'Completed processing action %1$s with hook: %2$s', 'action-scheduler' ), $action_id, $action->get_hook() ) );
		};
		$failed    = static function ( $action_id, $exception ) {
			/* translators: 1: action ID 2: exception message */
			\WP_CLI::error( sprintf( __( 'Error processing action %1$s: %2$s', 'action-scheduler' ), $action_id, $exception->getMessage() ), false );
		};
		add_action( 'action_scheduler_before_execute', $started );
		add_action( 'action_scheduler_after_execute', $completed, 10, 2 );
		add_action( 'action_scheduler_failed_execution', $failed, 10, 2 );
		return static function () use ( $started, $completed, $failed ) {
			remove_action( 'action_scheduler_before_execute', $started );
			remove_action( 'action_scheduler_after_execute', $completed, 10 );
			remove_action( 'action_scheduler_failed_execution', $failed, 10 );
		};
	}

	/** --free-memory-on: the library's memory relief between actions of a long run, with its messages. */
	private static function free_memory( $pause ) {
		global $wpdb;
		if ( $pause > 0 ) {
			/* translators: %d: seconds */
			\WP_CLI::warning( sprintf( _n( 'Stopped the insanity for %d second', 'Stopped the insanity for %d seconds', $pause, 'action-scheduler' ), $pause ) );
			sleep( $pause );
		}
		\WP_CLI::warning( __( 'Attempting to reduce used memory...', 'action-scheduler' ) );
		$wpdb->queries = array();
		if ( function_exists( 'wp_cache_flush_runtime' ) ) {
			wp_cache_flush_runtime();
		} elseif ( ! wp_using_ext_object_cache() ) {
			wp_cache_flush();
		}
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

	/**
	 * Re-runs the table creation for both schemas (recreates a missing table, adds missing columns and indexes).
	 *
	 * @subcommand fix-schema
	 */
	public function fix_schema( $args, $assoc ) {
		\SidecarScheduler\Store\Schema::maybe_install( true );
		\WP_CLI::success( __( 'Schema updated.', 'sidecar-scheduler' ) );
	}
}
