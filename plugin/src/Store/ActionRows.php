<?php
/**
 * SQL of the admin screen's and the runner route's reads and writes of single queue rows: one action with its group
 * slug, "run now" (make pending actions due now) and which of a batch a claim still holds.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Store;

use SidecarScheduler\Contract;

defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the Action Scheduler tables are custom tables with no WordPress API, and runners change their rows concurrently, so an object cache would hand out stale statuses and claims (the library queries them directly too).

/**
 * Row-level queries on the actions table, by action ID.
 */
final class ActionRows {

	/**
	 * One action's row with its group's slug (group_slug), or null when there is no such action.
	 *
	 * @param int $id Action ID.
	 * @return object|null
	 */
	public static function with_group_slug( $id ) {
		global $wpdb;
		return $wpdb->get_row( $wpdb->prepare( "SELECT a.*, g.slug AS group_slug FROM {$wpdb->actionscheduler_actions} a LEFT JOIN {$wpdb->actionscheduler_groups} g ON g.group_id = a.group_id WHERE a.action_id = %d", $id ) );
	}

	/**
	 * Makes those of $ids that are still pending and due later than $gmt due at $gmt. The status is part of the
	 * UPDATE's condition, so an action a runner claimed or finished meanwhile is left alone; a pending action that is
	 * already due keeps its date (and its place in the queue).
	 *
	 * @param int[]  $ids   Action IDs (at most a few hundred: one statement).
	 * @param string $gmt   'Y-m-d H:i:s' UTC.
	 * @param string $local The same moment in the site's time zone.
	 * @return void
	 */
	public static function make_due_at( array $ids, $gmt, $local ) {
		global $wpdb;
		$list = implode( ',', array_map( 'intval', $ids ) );
		// phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
		$wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET scheduled_date_gmt = %s, scheduled_date_local = %s WHERE action_id IN ({$list}) AND status = %s AND scheduled_date_gmt > %s", $gmt, $local, Contract::STATUS_PENDING, $gmt ) );
	}

	/**
	 * Those of $ids that are pending now.
	 *
	 * @param int[] $ids Action IDs (at most a few hundred: one statement).
	 * @return int[]
	 */
	public static function pending_among( array $ids ) {
		global $wpdb;
		$list = implode( ',', array_map( 'intval', $ids ) );
		// phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
		return array_map( 'intval', $wpdb->get_col( $wpdb->prepare( "SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE action_id IN ({$list}) AND status = %s", Contract::STATUS_PENDING ) ) );
	}

	/**
	 * Those of $ids that claim $claim_id holds and that are still pending. A plain read: the runner route uses it to
	 * refuse what its sender did not claim, and the start of each action checks the claim again atomically.
	 *
	 * @param int[] $ids      Action IDs.
	 * @param int   $claim_id Claim ID (> 0).
	 * @return int[]
	 */
	public static function held_by_claim( array $ids, $claim_id ) {
		global $wpdb;
		$list = implode( ',', array_map( 'intval', $ids ) );
		// phpcs:ignore WordPress.DB.PreparedSQL -- integers only.
		return array_map( 'intval', $wpdb->get_col( $wpdb->prepare( "SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE action_id IN ({$list}) AND claim_id = %d AND status = %s", $claim_id, Contract::STATUS_PENDING ) ) );
	}
}
