<?php
/**
 * `wp sidecar-scheduler dead-letters list|retry|purge`.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Cli;

use SidecarScheduler\DeadLetter\DeadLetters;

defined( 'ABSPATH' ) || exit;

/**
 * Actions that failed their last attempt under a retry policy.
 */
final class DeadLettersCommand {
	/**
	 * Lists dead letters, newest failure first.
	 *
	 * [--hook=<hook>]
	 * : Only this hook.
	 *
	 * [--group=<group>]
	 * : Only this group.
	 *
	 * [--per-page=<n>]
	 * : Rows. Default: 100.
	 *
	 * [--format=<format>]
	 * : table or json. Default: table.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function list( $args, $assoc ) {
		$page = DeadLetters::page( self::filter( $assoc ), 1, isset( $assoc['per-page'] ) ? (int) $assoc['per-page'] : 100 );
		if ( isset( $assoc['format'] ) && 'json' === $assoc['format'] ) {
			\WP_CLI::line( wp_json_encode( $page ) );
			return;
		}
		\WP_CLI\Utils\format_items( 'table', $page['items'], array( 'id', 'hook', 'group', 'attempts', 'firstFailureGmt', 'lastFailureGmt', 'lastError' ) );
		/* translators: %d: count */
		\WP_CLI::line( sprintf( __( '%d dead letters.', 'sidecar-scheduler' ), $page['total'] ) );
	}

	/**
	 * Re-runs dead letters: each gets a pending copy due now, with the policy's retries again.
	 *
	 * [<id>...]
	 * : Action IDs of dead letters.
	 *
	 * [--all]
	 * : Every dead letter matching --hook / --group (at most 1000 per call).
	 *
	 * [--hook=<hook>]
	 * : With --all: only this hook.
	 *
	 * [--group=<group>]
	 * : With --all: only this group.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function retry( $args, $assoc ) {
		$result = DeadLetters::rerun( self::target( $args, $assoc ) );
		foreach ( $result['errors'] as $e ) {
			\WP_CLI::warning( $e['message'] );
		}
		/* translators: 1: done 2: matched 3: new IDs */
		\WP_CLI::success( sprintf( __( '%1$d of %2$d dead letters re-run as actions %3$s.', 'sidecar-scheduler' ), $result['done'], $result['matched'], $result['newIds'] ? implode( ', ', $result['newIds'] ) : '-' ) );
	}

	/**
	 * Discards dead letters (off the list; the failed actions and their logs stay).
	 *
	 * [<id>...]
	 * : Action IDs of dead letters.
	 *
	 * [--all]
	 * : Every dead letter matching --hook / --group (at most 1000 per call).
	 *
	 * [--hook=<hook>]
	 * : With --all: only this hook.
	 *
	 * [--group=<group>]
	 * : With --all: only this group.
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return void
	 */
	public function purge( $args, $assoc ) {
		$result = DeadLetters::discard( self::target( $args, $assoc ) );
		/* translators: %d: count */
		\WP_CLI::success( sprintf( __( '%d dead letters discarded.', 'sidecar-scheduler' ), $result['done'] ) );
	}

	/**
	 * IDs or --all, never neither (a bare purge must not empty the list by accident).
	 *
	 * @param array $args  Positional.
	 * @param array $assoc Options.
	 * @return array
	 */
	private static function target( $args, $assoc ) {
		$filter = self::filter( $assoc );
		if ( $args ) {
			foreach ( $args as $a ) {
				if ( ! ctype_digit( (string) $a ) ) {
					/* translators: %s: argument */
					\WP_CLI::error( sprintf( __( '"%s" is not an action ID.', 'sidecar-scheduler' ), $a ) );
				}
			}
			$filter['ids'] = array_map( 'intval', $args );
		} elseif ( empty( $assoc['all'] ) ) {
			\WP_CLI::error( __( 'Give action IDs, or --all (with --hook / --group to narrow it).', 'sidecar-scheduler' ) );
		}
		return $filter;
	}

	/**
	 * Filter from options.
	 *
	 * @param array $assoc Options.
	 * @return array
	 */
	private static function filter( $assoc ) {
		return array(
			'hook'  => isset( $assoc['hook'] ) ? (string) $assoc['hook'] : '',
			'group' => isset( $assoc['group'] ) ? (string) $assoc['group'] : '',
		);
	}
}
