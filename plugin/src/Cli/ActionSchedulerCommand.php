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
		$batch   = absint( \WP_CLI\Utils\get_flag_value( $assoc, 'batch-size', 100 ) );
		$batches = absint( \WP_CLI\Utils\get_flag_value( $assoc, 'batches', 0 ) );
		$clean   = absint( \WP_CLI\Utils\get_flag_value( $assoc, 'cleanup-batch-size', $batch ) );
		$hooks   = array_filter( array_map( 'trim', explode( ',', (string) \WP_CLI\Utils\get_flag_value( $assoc, 'hooks', '' ) ) ) );
		$group   = (string) \WP_CLI\Utils\get_flag_value( $assoc, 'group', '' );
		$exclude = array_filter( str_getcsv( (string) \WP_CLI\Utils\get_flag_value( $assoc, 'exclude-groups', '' ) ) );
		$force   = (bool) \WP_CLI\Utils\get_flag_value( $assoc, 'force', false );
		\ActionScheduler_DataController::set_free_ticks( (int) \WP_CLI\Utils\get_flag_value( $assoc, 'free-memory-on', 50 ) );
		\ActionScheduler_DataController::set_sleep_time( (int) \WP_CLI\Utils\get_flag_value( $assoc, 'pause', 0 ) );
		$store = \ActionScheduler::store();
		if ( $exclude && is_callable( array( $store, 'set_claim_filter' ) ) ) {
			$store->set_claim_filter( 'exclude-groups', $exclude );
		}
		$cleaner   = new \ActionScheduler_QueueCleaner( $store, $clean );
		$unhook    = self::print_progress( $store );
		$completed = 0;
		$done      = 0;
		try {
			// As the library's WP-CLI runner: clean, check concurrency and claim before each batch; a batch (and its
			// before/after_process_queue hooks) exists only when the claim found something.
			$found = $this->claim_batch( $store, $cleaner, $batch, $hooks, $group, $force, $claim );
			while ( $found > 0 ) {
				/* translators: %d: number of actions claimed for this batch */
				\WP_CLI::log( sprintf( _n( 'Found %d scheduled task', 'Found %d scheduled tasks', $found, 'sidecar-scheduler' ), $found ) );
				$completed += (int) $this->run_batch( $store, $claim );
				++$done;
				$found = ( 0 === $batches || $done < $batches ) ? $this->claim_batch( $store, $cleaner, $batch, $hooks, $group, $force, $claim ) : 0;
			}
		} catch ( \Exception $e ) {
			/* translators: %s: the error message */
			\WP_CLI::error( sprintf( __( 'There was an error running the action scheduler: %s', 'sidecar-scheduler' ), $e->getMessage() ) );
		} finally {
			$unhook();
		}
		/* translators: %d: number of batches run */
		\WP_CLI::log( sprintf( _n( '%d batch executed.', '%d batches executed.', $done, 'sidecar-scheduler' ), $done ) );
		/* translators: %d: amount of actions */
		\WP_CLI::success( sprintf( _n( '%d scheduled task completed.', '%d scheduled tasks completed.', $completed, 'sidecar-scheduler' ), $completed ) );
	}

	/** Cleans, checks the concurrency limit and claims the next batch; returns how many actions it claimed. */
	private function claim_batch( $store, $cleaner, $batch, $hooks, $group, $force, &$claim ) {
		$cleaner->clean( 10 * self::time_limit() );
		if ( \ActionScheduler::runner()->has_maximum_concurrent_batches() ) {
			if ( ! $force ) {
				\WP_CLI::error( __( 'There are too many concurrent batches.', 'sidecar-scheduler' ) );
			}
			\WP_CLI::warning( __( 'There are too many concurrent batches, but the run is forced to continue.', 'sidecar-scheduler' ) );
		}
		$claim = $store->stake_claim( $batch, null, $hooks, $group );
		if ( ! $claim->get_actions() ) {
			// The library leaves this empty claim's row in the claims table on every run; we delete it (README).
			$store->release_claim( $claim );
			return 0;
		}
		\ActionScheduler::runner()->attach_claim( $claim ); // A fatal error releases it, as the library's monitor does.
		return count( $claim->get_actions() );
	}

	/**
	 * Runs one claimed batch. The count it returns is the progress bar's, as in the library: WP-CLI gives a piped
	 * command a bar that counts nothing, so there the final "N scheduled tasks completed." says 0, as the library's does.
	 */
	private function run_batch( $store, $claim ) {
		do_action( 'action_scheduler_before_process_queue' );
		$count = count( $claim->get_actions() );
		/* translators: %d: number of actions in the batch */
		$message = sprintf( _n( 'Running %d action', 'Running %d actions', $count, 'sidecar-scheduler' ), $count );
		$bar     = null;
		$ticks   = 0;
		foreach ( $claim->get_actions() as $action_id ) {
			if ( ! in_array( $action_id, $store->find_actions_by_claim_id( $claim->get_id() ), true ) ) {
				\WP_CLI::warning( __( 'The claim has been lost. Aborting current batch.', 'sidecar-scheduler' ) );
				break;
			}
			\ActionScheduler::runner()->process_action( $action_id, 'WP CLI' );
			$bar = $bar ? $bar : \WP_CLI\Utils\make_progress_bar( $message, $count, 100 );
			$bar->tick();
			++$ticks;
			// The library's progress hook: ActionScheduler_DataController frees memory on it every --free-memory-on actions.
			do_action( 'action_scheduler/progress_tick', $ticks ); // phpcs:ignore WordPress.NamingConventions.ValidHookName -- the library's name.
		}
		$completed = $bar ? $bar->current() : 0;
		if ( $bar ) {
			$bar->finish();
		}
		$store->release_claim( $claim );
		\ActionScheduler::runner()->detach_claim();
		do_action( 'action_scheduler_after_process_queue' );
		return $completed;
	}

	/** The runners' time limit (the cleaner works with ten times it), with the library's filters. */
	private static function time_limit() {
		$time_limit = 30;
		if ( has_filter( 'action_scheduler_maximum_execution_time' ) ) {
			$time_limit = apply_filters( 'action_scheduler_maximum_execution_time', $time_limit );
		}
		return absint( apply_filters( 'action_scheduler_queue_runner_time_limit', $time_limit ) );
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
			\WP_CLI::log( sprintf( __( 'Started processing action %s', 'sidecar-scheduler' ), $action_id ) );
		};
		$completed = static function ( $action_id, $action = null ) use ( $store ) {
			$action = $action ? $action : $store->fetch_action( $action_id );
			/* translators: 1: action ID 2: hook */
			\WP_CLI::log( sprintf( __( 'Completed processing action %1$s with hook: %2$s', 'sidecar-scheduler' ), $action_id, $action->get_hook() ) );
		};
		$failed    = static function ( $action_id, $exception ) {
			/* translators: 1: action ID 2: exception message */
			\WP_CLI::error( sprintf( __( 'Error processing action %1$s: %2$s', 'sidecar-scheduler' ), $action_id, $exception->getMessage() ), false );
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
		$batch   = absint( \WP_CLI\Utils\get_flag_value( $assoc, 'batch-size', 20 ) );
		$batches = absint( \WP_CLI\Utils\get_flag_value( $assoc, 'batches', 0 ) );
		// No --status: the cleaner's defaults (complete and canceled).
		$statuses = array_filter( array_map( 'trim', explode( ',', (string) \WP_CLI\Utils\get_flag_value( $assoc, 'status', '' ) ) ) );
		// The library documents "31 days" but parses an empty string, i.e. now; kept so scripts behave the same.
		$before  = as_get_datetime_object( (string) \WP_CLI\Utils\get_flag_value( $assoc, 'before', '' ) );
		$pause   = (int) \WP_CLI\Utils\get_flag_value( $assoc, 'pause', 0 );
		$cleaner = new \ActionScheduler_QueueCleaner( \ActionScheduler::store(), $batch );
		$deleted = 0;
		$done    = 0;
		try {
			// The library's output: a success line per batch that deleted something, the number of such batches,
			// and the total when there was more than one.
			while ( 0 === $batches || $done < $batches ) {
				if ( $pause && $done > 0 ) {
					sleep( $pause );
				}
				$count = count( $cleaner->clean_actions( $statuses, $before, null, 'CLI' ) );
				if ( $count <= 0 ) {
					break;
				}
				$deleted += $count;
				++$done;
				self::print_deleted( $count );
			}
		} catch ( \Exception $e ) {
			/* translators: %s: the error message */
			\WP_CLI::error( sprintf( __( 'There was an error deleting an action: %s', 'sidecar-scheduler' ), $e->getMessage() ) );
		}
		/* translators: %d: number of batches */
		\WP_CLI::log( sprintf( _n( '%d batch processed.', '%d batches processed.', $done, 'sidecar-scheduler' ), $done ) );
		if ( $done > 1 ) {
			self::print_deleted( $deleted );
		}
	}

	private static function print_deleted( $count ) {
		/* translators: %d: number of deleted actions */
		\WP_CLI::success( sprintf( _n( '%d action deleted.', '%d actions deleted.', $count, 'sidecar-scheduler' ), $count ) );
	}

	/**
	 * Re-runs the table creation for both schemas (recreates a missing table, adds missing columns and indexes).
	 *
	 * @subcommand fix-schema
	 */
	public function fix_schema( $args, $assoc ) { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI passes positional and associative arguments to every subcommand.
		\SidecarScheduler\Store\Schema::maybe_install( true );
		\WP_CLI::success( __( 'Schema updated.', 'sidecar-scheduler' ) );
	}
}
