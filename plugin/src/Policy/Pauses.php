<?php
/**
 * Paused groups and hooks. Stored as JSON in one autoloaded option (sidecar_scheduler_pauses), so it survives any
 * restart and the sidecar reads it with a plain SELECT (it reloads it every second and leaves those actions out of its
 * claim). The library's own claim (WP-Cron, `wp action-scheduler run`, the library's runners in companion mode) leaves
 * them out too: action_scheduler_claim_actions_order_by is appended right after the claim's WHERE, in the library and
 * in ours, so a condition put before its ORDER BY narrows that claim. Paused actions stay pending, untouched.
 *
 * @package SidecarScheduler
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Pause and resume.
 */
final class Pauses {
	const OPTION = 'sidecar_scheduler_pauses';

	/**
	 * Hooks the library's claim.
	 *
	 * @return void
	 */
	public static function register() {
		add_filter( 'action_scheduler_claim_actions_order_by', array( __CLASS__, 'narrow_claim' ), 999 );
	}

	/**
	 * Everything paused: scope => name => array( by, userId, atGmt ).
	 *
	 * @return array
	 */
	public static function all() {
		$raw  = Limits::autoloaded( self::OPTION ); // No query when nothing was ever paused.
		$data = is_string( $raw ) && '' !== $raw ? json_decode( $raw, true ) : null;
		return array(
			'group' => isset( $data['group'] ) && is_array( $data['group'] ) ? $data['group'] : array(),
			'hook'  => isset( $data['hook'] ) && is_array( $data['hook'] ) ? $data['hook'] : array(),
		);
	}

	/**
	 * Whether a group or hook is paused.
	 *
	 * @param string $scope 'hook' or 'group'.
	 * @param string $name  Name.
	 * @return bool
	 */
	public static function is_paused( $scope, $name ) {
		$all = self::all();
		return isset( $all[ $scope ][ $name ] );
	}

	/**
	 * Pauses a group or hook.
	 *
	 * @param string $scope 'hook' or 'group'.
	 * @param string $name  Name.
	 * @return array|\WP_Error The pause (by, userId, atGmt).
	 */
	public static function pause( $scope, $name ) {
		$target = Validator::check_target( $scope, $name );
		if ( is_wp_error( $target ) ) {
			return $target;
		}
		$all = self::all();
		if ( isset( $all[ $scope ][ $name ] ) ) {
			return $all[ $scope ][ $name ]; // Already paused: keep who paused it first, and when.
		}
		if ( 'group' === $scope ) {
			self::ensure_group( $name );
		}
		$user                   = wp_get_current_user();
		$all[ $scope ][ $name ] = array(
			'by'     => $user && $user->exists() ? $user->user_login : self::who_without_user(),
			'userId' => $user ? (int) $user->ID : 0,
			'atGmt'  => gmdate( 'Y-m-d H:i:s' ),
		);
		self::save( $all );
		/**
		 * A group or hook was paused.
		 *
		 * @param string $scope 'hook' or 'group'.
		 * @param string $name  Name.
		 * @param array  $pause by, userId, atGmt.
		 */
		do_action( 'sidecar_scheduler_paused', $scope, $name, $all[ $scope ][ $name ] );
		return $all[ $scope ][ $name ];
	}

	/**
	 * Resumes a group or hook; its due actions are claimed again (the sidecar is nudged).
	 *
	 * @param string $scope 'hook' or 'group'.
	 * @param string $name  Name.
	 * @return true|\WP_Error
	 */
	public static function resume( $scope, $name ) {
		$all = self::all();
		if ( ! isset( $all[ $scope ][ $name ] ) ) {
			/* translators: 1: hook or group 2: name */
			return new \WP_Error( 'sidecar_scheduler_not_paused', sprintf( __( 'The %1$s "%2$s" is not paused.', 'sidecar-scheduler' ), $scope, $name ), array( 'status' => 404 ) );
		}
		unset( $all[ $scope ][ $name ] );
		self::save( $all );
		do_action( 'sidecar_scheduler_resumed', $scope, $name );
		do_action( 'sidecar_scheduler_due_action_stored' );
		return true;
	}

	/**
	 * Listing for REST, WP-CLI and the banner.
	 *
	 * @return array[] scope, name, by, userId, atGmt.
	 */
	public static function listing() {
		$out = array();
		foreach ( self::all() as $scope => $names ) {
			foreach ( $names as $name => $p ) {
				$out[] = array(
					'scope'  => $scope,
					'name'   => (string) $name,
					'by'     => (string) $p['by'],
					'userId' => (int) $p['userId'],
					'atGmt'  => (string) $p['atGmt'],
				);
			}
		}
		return $out;
	}

	/**
	 * The library's claim (and ours in standalone mode) leaves paused groups and hooks out. The fragment goes through
	 * the store's $wpdb->prepare().
	 *
	 * @param string $order The claim's ORDER BY clause.
	 * @return string
	 */
	public static function narrow_claim( $order ) {
		global $wpdb;
		$all = self::all();
		if ( ! $all['group'] && ! $all['hook'] ) {
			return $order;
		}
		$and = '';
		if ( $all['hook'] ) {
			$hooks = array_map(
				function ( $h ) use ( $wpdb ) {
					// esc_sql() hides a literal % from the store's prepare() behind wpdb's placeholder escape, which
					// query() turns back into %.
					return "'" . esc_sql( (string) $h ) . "'";
				},
				array_keys( $all['hook'] )
			);
			$and  .= ' AND hook NOT IN (' . implode( ',', $hooks ) . ')';
		}
		if ( $all['group'] ) {
			$slugs = array_keys( $all['group'] );
			// phpcs:ignore WordPress.DB.PreparedSQL, WordPress.DB.PreparedSQLPlaceholders, WordPress.DB.DirectDatabaseQuery -- placeholders built for the slugs; the library's groups table has no WordPress API.
			$ids = array_map( 'intval', (array) $wpdb->get_col( $wpdb->prepare( "SELECT group_id FROM {$wpdb->actionscheduler_groups} WHERE slug IN (" . implode( ',', array_fill( 0, count( $slugs ), '%s' ) ) . ')', $slugs ) ) );
			if ( $ids ) {
				$and .= ' AND group_id NOT IN (' . implode( ',', $ids ) . ')';
			}
		}
		return $and . ' ' . $order;
	}

	/**
	 * A paused group gets its row now if it has none: claims leave groups out by ID, so the sidecar must be able to
	 * resolve the slug before the group's first action is stored (an empty group row is what the library leaves after
	 * its actions are deleted, too).
	 *
	 * @param string $slug Group slug.
	 * @return void
	 */
	public static function ensure_group( $slug ) {
		global $wpdb;
		if ( empty( $wpdb->actionscheduler_groups ) ) {
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery, WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the library's table name.
		if ( ! $wpdb->get_var( $wpdb->prepare( "SELECT group_id FROM {$wpdb->actionscheduler_groups} WHERE slug = %s LIMIT 1", $slug ) ) ) {
			$wpdb->insert( $wpdb->actionscheduler_groups, array( 'slug' => $slug ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- the library's groups table; no WordPress API writes it.
		}
	}

	/**
	 * "WP-CLI (system user root)" or "system" when nobody is logged in.
	 *
	 * @return string
	 */
	private static function who_without_user() {
		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			$u = function_exists( 'posix_getpwuid' ) && function_exists( 'posix_geteuid' ) ? posix_getpwuid( posix_geteuid() ) : null;
			/* translators: %s: operating system user */
			return $u ? sprintf( __( 'WP-CLI (system user %s)', 'sidecar-scheduler' ), $u['name'] ) : __( 'WP-CLI', 'sidecar-scheduler' );
		}
		return __( 'system', 'sidecar-scheduler' );
	}

	/**
	 * Stores the set (autoloaded: every claim of the library's runners reads it).
	 *
	 * @param array $all scope => name => pause.
	 * @return void
	 */
	private static function save( array $all ) {
		$all = array_filter( $all );
		if ( ! $all ) {
			delete_option( self::OPTION ); // Nothing paused: back to a site with nothing configured.
			return;
		}
		update_option(
			self::OPTION,
			wp_json_encode(
				(object) array_map(
					function ( $v ) {
						return (object) $v;
					},
					$all
				)
			),
			true
		);
	}
}
