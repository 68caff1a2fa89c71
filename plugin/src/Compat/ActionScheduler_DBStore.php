<?php
/**
 * The custom-tables store: every SQL statement against the four actionscheduler tables that PHP runs.
 * Semantics follow Action Scheduler 3.x's DBStore (see the facts sheet, §1-§3); deviations are commented.
 *
 * Over 300 lines because it implements the library's whole store class surface (every public method plugins call
 * on it), statement by statement.
 */
defined( 'ABSPATH' ) || exit;
// phpcs:disable WordPress.DB.DirectDatabaseQuery -- the Action Scheduler tables are custom tables with no WordPress API, and runners change their rows concurrently, so an object cache would hand out stale statuses and claims (the library queries them directly too).

class ActionScheduler_DBStore extends ActionScheduler_Store {
	/** @var int JSON longer than this is rejected. */
	protected static $max_args_length = 8000;
	/** @var int JSON up to this length is stored in `args`; longer goes to `extended_args` with its md5 in `args`. */
	protected static $max_index_length = 191;

	private $claim_filters = array(
		'group'          => '',
		'hooks'          => '',
		'exclude-groups' => '',
	);

	public function init() {
		SidecarScheduler\Store\Schema::register_table_names();
	}

	public function save_unique_action( ActionScheduler_Action $action, ?DateTime $scheduled_date = null ) {
		return $this->save_action_to_db( $action, $scheduled_date, true );
	}

	public function save_action( ActionScheduler_Action $action, ?DateTime $scheduled_date = null ) {
		return $this->save_action_to_db( $action, $scheduled_date, false );
	}

	private function save_action_to_db( ActionScheduler_Action $action, ?DateTime $date = null, $unique = false ) {
		global $wpdb;
		try {
			$this->validate_action( $action );
			$data = array(
				'hook'                 => $action->get_hook(),
				'status'               => $action->is_finished() ? self::STATUS_COMPLETE : self::STATUS_PENDING,
				'scheduled_date_gmt'   => $this->get_scheduled_date_string( $action, $date ),
				'scheduled_date_local' => $this->get_scheduled_date_string_local( $action, $date ),
				'schedule'             => serialize( $action->get_schedule() ), // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_serialize -- the schedule column holds a serialized ActionScheduler_Schedule, as the library stores it.
				'group_id'             => current( $this->get_group_ids( $action->get_group() ) ),
				'priority'             => $action->get_priority(),
			);
			$args = wp_json_encode( $action->get_args() );
			if ( strlen( $args ) <= static::$max_index_length ) {
				$data['args'] = $args;
			} else {
				$data['args']          = $this->hash_args( $args );
				$data['extended_args'] = $args;
			}

			if ( $unique ) {
				$action_id = $this->insert_unique( $data );
				if ( 0 === $action_id ) {
					return 0; // Another pending or running action has this hook and group: not an error.
				}
			} else {
				$action_id = $this->insert_plain( $data );
			}

			if ( is_wp_error( $action_id ) ) {
				throw new \RuntimeException( $action_id->get_error_message() );
			} elseif ( empty( $action_id ) ) {
				/* translators: %s: database error. */
				throw new \RuntimeException( sprintf( __( 'Error saving action: %s', 'sidecar-scheduler' ), $wpdb->last_error ) );
			}
			do_action( 'action_scheduler_stored_action', $action_id );
			return $action_id;
		} catch ( \Exception $e ) {
			/* translators: %s: error message. */
			throw new \RuntimeException( sprintf( __( 'Error saving action: %s', 'sidecar-scheduler' ), $e->getMessage() ), 0 ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- plain text carrying the caught error's message verbatim, as the library does; callers print it as text (CLI, React), never as HTML.
		}
	}

	/**
	 * A prepared INSERT, as the library builds it (not $wpdb->insert(), which refuses over-long values): a hook over
	 * 191 characters is truncated by the server in WordPress's non-strict SQL mode, exactly as with the library.
	 */
	private function insert_plain( array $data ) {
		global $wpdb;
		$placeholders = array();
		foreach ( $data as $column => $value ) {
			$placeholders[] = in_array( $column, array( 'group_id', 'priority' ), true ) ? '%d' : '%s';
		}
		$sql = 'INSERT INTO ' . $wpdb->actionscheduler_actions . ' (' . implode( ', ', array_keys( $data ) ) . ') VALUES (' . implode( ', ', $placeholders ) . ')';
		$wpdb->query( $wpdb->prepare( $sql, array_values( $data ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the statement was built above from our own fragments with placeholders, and prepare() fills them.
		return (int) $wpdb->insert_id;
	}

	/**
	 * One atomic statement: the row is inserted only if no pending or running action shares hook and group.
	 * Args are ignored on purpose, as in the library (a unit test there asserts it).
	 */
	private function insert_unique( array $data ) {
		global $wpdb;
		$table        = $wpdb->actionscheduler_actions;
		$columns      = array_keys( $data );
		$placeholders = array();
		foreach ( $data as $column => $value ) {
			$placeholders[] = in_array( $column, array( 'group_id', 'priority' ), true ) ? '%d' : '%s';
		}
		$sql      = 'INSERT INTO ' . $table . ' (' . implode( ', ', $columns ) . ') SELECT ' . implode( ', ', $placeholders )
			. ' FROM DUAL WHERE ( SELECT action_id FROM ' . $table . " WHERE status IN ( 'pending', 'in-progress' ) AND hook = %s AND group_id = %d LIMIT 1 ) IS NULL";
		$params   = array_values( $data );
		$params[] = $data['hook'];
		$params[] = $data['group_id'];
		$wpdb->query( $wpdb->prepare( $sql, $params ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the statement was built above from our own fragments with placeholders, and prepare() fills them.
		return (int) $wpdb->insert_id;
	}

	protected function hash_args( $args ) {
		return md5( $args );
	}

	/** The args column value that equality queries compare against. */
	protected function get_args_for_query( $args ) {
		$encoded = wp_json_encode( $args );
		return strlen( $encoded ) <= static::$max_index_length ? $encoded : $this->hash_args( $encoded );
	}

	protected function get_group_ids( $slugs, $create_if_not_exists = true ) {
		$slugs = (array) $slugs;
		$ids   = array();
		foreach ( $slugs as $slug ) {
			$group_id = $this->get_group_id( $slug, $create_if_not_exists );
			if ( $group_id ) {
				$ids[] = $group_id;
			}
		}
		return $ids ? $ids : array( 0 );
	}

	/**
	 * Looked up every time, as the library does: a cached ID goes stale as soon as the group row is gone (deleted, or
	 * rolled back by a test suite's transaction), and new actions would then point at a group that does not exist.
	 */
	protected function get_group_id( $slug, $create_if_not_exists = true ) {
		global $wpdb;
		$group_id = (int) $wpdb->get_var( $wpdb->prepare( "SELECT group_id FROM {$wpdb->actionscheduler_groups} WHERE slug=%s", $slug ) );
		if ( empty( $group_id ) && $create_if_not_exists ) {
			$group_id = $this->create_group( $slug );
		}
		return $group_id;
	}

	protected function create_group( $slug ) {
		global $wpdb;
		$wpdb->insert( $wpdb->actionscheduler_groups, array( 'slug' => $slug ) );
		return (int) $wpdb->insert_id;
	}

	/** Kept for callers written when group IDs were cached (the sidecar's worker calls it between batches): nothing to forget. */
	public function flush_group_cache() {}

	public function fetch_action( $action_id ) {
		return $this->action_from_row( $action_id, $this->fetch_row( $action_id ) );
	}

	/** The action's row with its group slug, or null. */
	private function fetch_row( $action_id ) {
		global $wpdb;
		return $wpdb->get_row(
			$wpdb->prepare(
				"SELECT a.*, g.slug AS `group` FROM {$wpdb->actionscheduler_actions} a LEFT JOIN {$wpdb->actionscheduler_groups} g ON a.group_id=g.group_id WHERE a.action_id=%d",
				$action_id
			)
		);
	}

	/** What fetch_action() returns for a row read earlier (null: no such action). */
	public function action_from_row( $action_id, $data ) {
		if ( empty( $data ) ) {
			return $this->get_null_action();
		}
		if ( ! empty( $data->extended_args ) ) {
			$data->args = $data->extended_args;
			unset( $data->extended_args );
		}
		try {
			$action = $this->make_action_from_db_record( $data );
		} catch ( ActionScheduler_InvalidActionException $exception ) {
			do_action( 'action_scheduler_failed_fetch_action', $action_id, $exception );
			return $this->get_null_action();
		}
		return $action;
	}

	protected function make_action_from_db_record( $data ) {
		$args     = json_decode( (string) $data->args, true );
		$schedule = @unserialize( (string) $data->schedule ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_unserialize,WordPress.PHP.NoSilencedErrors.Discouraged -- the library stores schedules serialized; a corrupt row must not warn, it is reported below.
		$this->validate_args( $args, $data->action_id );
		$this->validate_schedule( $schedule, $data->action_id );
		$group = $data->group ? $data->group : '';
		return ActionScheduler::factory()->get_stored_action( $data->status, $data->hook, $args, $schedule, $group, $data->priority );
	}

	public function query_actions( $query = array(), $query_type = 'select' ) {
		global $wpdb;
		list( $sql, $params ) = $this->get_query_actions_sql( $query, $query_type );
		$sql                  = $params ? $wpdb->prepare( $sql, $params ) : $sql; // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the statement was built above from our own fragments with placeholders, and prepare() fills them.
		// A count is the string $wpdb->get_var() gives, as in the library (plugins that compare it with === see the same).
		return 'count' === $query_type ? $wpdb->get_var( $sql ) : $wpdb->get_col( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared on the line above when it has values; without values it is our own SQL.
	}

	/**
	 * query_actions() with a time cap, for searches on big tables (LIKE '%term%' has to read every row): returns null
	 * when the server stopped the statement, so the admin screen can say so instead of hanging. Our extension.
	 */
	public function query_actions_capped( $query, $query_type, $seconds ) {
		global $wpdb;
		list( $sql, $params ) = $this->get_query_actions_sql( $query, $query_type );
		$sql                  = $params ? $wpdb->prepare( $sql, $params ) : $sql; // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the statement was built above from our own fragments with placeholders, and prepare() fills them.
		if ( false !== stripos( (string) $wpdb->db_server_info(), 'mariadb' ) ) {
			$sql = sprintf( 'SET STATEMENT max_statement_time=%.3F FOR %s', $seconds, $sql );
		} else {
			$sql = preg_replace( '/^SELECT /', sprintf( 'SELECT /*+ MAX_EXECUTION_TIME(%d) */ ', (int) ( $seconds * 1000 ) ), $sql );
		}
		$suppress = $wpdb->suppress_errors( true );
		$result   = 'count' === $query_type ? $wpdb->get_var( $sql ) : $wpdb->get_col( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared on the line above when it has values; without values it is our own SQL.
		$error    = $wpdb->last_error;
		$wpdb->suppress_errors( $suppress );
		if ( $error ) {
			return null;
		}
		return 'count' === $query_type ? (int) $result : $result;
	}

	protected function get_query_actions_sql( array $query, $select_or_count = 'select' ) {
		global $wpdb;
		if ( ! in_array( $select_or_count, array( 'select', 'count' ), true ) ) {
			throw new InvalidArgumentException( esc_html__( 'Invalid value for select or count parameter. Cannot query actions.', 'sidecar-scheduler' ) );
		}
		$query  = wp_parse_args(
			$query,
			array(
				'hook'                  => '',
				'args'                  => null,
				'partial_args_matching' => 'off',
				'date'                  => null,
				'date_compare'          => '<=',
				'modified'              => null,
				'modified_compare'      => '<=',
				'group'                 => '',
				'status'                => '',
				'claimed'               => null,
				'per_page'              => 5,
				'offset'                => 0,
				'orderby'               => 'date',
				'order'                 => 'ASC',
			)
		);
		$params = array();
		$select = 'count' === $select_or_count ? 'count(a.action_id)' : 'a.action_id';
		$sql    = "SELECT {$select} FROM {$wpdb->actionscheduler_actions} a";
		if ( ! empty( $query['group'] ) || 'group' === $query['orderby'] ) {
			$sql .= " LEFT JOIN {$wpdb->actionscheduler_groups} g ON g.group_id=a.group_id";
		}
		$sql .= ' WHERE 1=1';

		if ( ! empty( $query['group'] ) ) {
			$sql     .= ' AND g.slug=%s';
			$params[] = $query['group'];
		}
		if ( ! empty( $query['hook'] ) ) {
			$sql     .= ' AND a.hook=%s';
			$params[] = $query['hook'];
		}
		if ( null !== $query['args'] ) {
			switch ( $query['partial_args_matching'] ) {
				case 'json':
					if ( ! $this->db_supports_json() ) {
						throw new RuntimeException( esc_html__( 'JSON partial matching not supported in your environment. Please check your MySQL/MariaDB version.', 'sidecar-scheduler' ) );
					}
					$supported = array(
						'integer' => '%d',
						'boolean' => '%s',
						'double'  => '%f',
						'string'  => '%s',
					);
					foreach ( $query['args'] as $key => $value ) {
						$type = gettype( $value );
						if ( ! isset( $supported[ $type ] ) ) {
							/* translators: %s: provided value type */
							throw new RuntimeException( sprintf( esc_html__( 'The value type for the JSON partial matching is not supported. Must be either integer, boolean, double or string. %s type provided.', 'sidecar-scheduler' ), esc_html( $type ) ) );
						}
						$placeholder = $supported[ $type ];
						if ( 'boolean' === $type ) {
							$value = $value ? 'true' : 'false';
						}
						$sql     .= ' AND JSON_EXTRACT(a.args, %s)=' . $placeholder;
						$params[] = '$.' . $key;
						$params[] = $value;
					}
					break;
				case 'like':
					foreach ( $query['args'] as $key => $value ) {
						$sql     .= ' AND a.args LIKE %s';
						$pair     = substr( wp_json_encode( array( $key => $value ) ), 1, -1 );
						$params[] = '%' . $wpdb->esc_like( $pair ) . '%';
					}
					break;
				case 'off':
					$sql     .= ' AND a.args=%s';
					$params[] = $this->get_args_for_query( $query['args'] );
					break;
				default:
					throw new RuntimeException( esc_html__( 'Unknown partial args matching value.', 'sidecar-scheduler' ) );
			}
		}
		if ( $query['status'] ) {
			$statuses = (array) $query['status'];
			$in       = ' a.status IN (' . implode( ', ', array_fill( 0, count( $statuses ), '%s' ) ) . ')';
			$sql     .= " AND {$in}";
			$params   = array_merge( $params, array_values( $statuses ) );
		}
		if ( $query['date'] instanceof DateTime ) {
			$date = clone $query['date'];
			$date->setTimezone( new DateTimeZone( 'UTC' ) );
			$sql     .= ' AND a.scheduled_date_gmt ' . $this->validate_sql_comparator( $query['date_compare'] ) . ' %s';
			$params[] = $date->format( 'Y-m-d H:i:s' );
		}
		if ( $query['modified'] instanceof DateTime ) {
			$modified = clone $query['modified'];
			$modified->setTimezone( new DateTimeZone( 'UTC' ) );
			$sql     .= ' AND a.last_attempt_gmt ' . $this->validate_sql_comparator( $query['modified_compare'] ) . ' %s';
			$params[] = $modified->format( 'Y-m-d H:i:s' );
		}
		if ( true === $query['claimed'] ) {
			$sql .= ' AND a.claim_id != 0';
		} elseif ( false === $query['claimed'] ) {
			$sql .= ' AND a.claim_id = 0';
		} elseif ( null !== $query['claimed'] ) {
			$sql     .= ' AND a.claim_id = %d';
			$params[] = $query['claimed'];
		}
		if ( ! empty( $query['search'] ) ) {
			$sql .= ' AND (a.hook LIKE %s OR (a.extended_args IS NULL AND a.args LIKE %s) OR a.extended_args LIKE %s';
			for ( $i = 0; $i < 3; $i++ ) {
				$params[] = '%' . $wpdb->esc_like( $query['search'] ) . '%';
			}
			$search_claim_id = (int) $query['search'];
			if ( $search_claim_id ) {
				$sql     .= ' OR a.claim_id = %d';
				$params[] = $search_claim_id;
			}
			$sql .= ')';
		}
		if ( 'select' === $select_or_count ) {
			$order = 'ASC' === strtoupper( (string) $query['order'] ) ? 'ASC' : 'DESC';
			switch ( $query['orderby'] ) {
				case 'hook':
					$sql .= " ORDER BY a.hook $order";
					break;
				case 'group':
					$sql .= " ORDER BY g.slug $order";
					break;
				case 'modified':
					$sql .= " ORDER BY a.last_attempt_gmt $order";
					break;
				case 'none':
					break;
				case 'action_id':
					$sql .= " ORDER BY a.action_id $order";
					break;
				case 'date':
				default:
					$sql .= " ORDER BY a.scheduled_date_gmt $order";
					break;
			}
			if ( $query['per_page'] > 0 ) {
				$sql     .= ' LIMIT %d, %d';
				$params[] = (int) $query['offset'];
				$params[] = (int) $query['per_page'];
			}
		}
		return array( $sql, $params );
	}

	private function db_supports_json() {
		global $wpdb;
		$version = $wpdb->db_server_info();
		if ( false !== stripos( $version, 'mariadb' ) ) {
			preg_match( '/(\d+\.\d+)/', preg_replace( '/^5\.5\.5-/', '', $version ), $m );
			return isset( $m[1] ) && version_compare( $m[1], '10.2', '>=' );
		}
		return version_compare( $wpdb->db_version(), '5.7', '>=' );
	}

	public function action_counts() {
		global $wpdb;
		$rows   = $wpdb->get_results( "SELECT a.status, count(a.status) as 'count' FROM {$wpdb->actionscheduler_actions} a GROUP BY a.status" );
		$labels = $this->get_status_labels();
		$counts = array();
		foreach ( $rows as $row ) {
			if ( array_key_exists( $row->status, $labels ) ) {
				$counts[ $row->status ] = $row->count;
			}
		}
		return $counts;
	}

	public function cancel_action( $action_id ) {
		global $wpdb;
		$updated = $wpdb->update( $wpdb->actionscheduler_actions, array( 'status' => self::STATUS_CANCELED ), array( 'action_id' => $action_id ), array( '%s' ), array( '%d' ) );
		if ( false === $updated ) {
			/* translators: %s: action ID */
			throw new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to cancel this action. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
		}
		do_action( 'action_scheduler_canceled_action', $action_id );
	}

	public function cancel_actions_by_hook( $hook ) {
		$this->bulk_cancel_actions( array( 'hook' => $hook ) );
	}

	public function cancel_actions_by_group( $group ) {
		$this->bulk_cancel_actions( array( 'group' => $group ) );
	}

	/** Cancels pending matches 1000 at a time; each batch fires one bulk hook (one multi-row log insert). */
	protected function bulk_cancel_actions( $query_args ) {
		global $wpdb;
		if ( ! is_array( $query_args ) ) {
			return;
		}
		$query_args = wp_parse_args(
			$query_args,
			array(
				'per_page' => 1000,
				'status'   => self::STATUS_PENDING,
				'orderby'  => 'none',
			)
		);
		do {
			$action_ids = $this->query_actions( $query_args );
			if ( empty( $action_ids ) ) {
				break;
			}
			$id_list = implode( ',', array_map( 'intval', $action_ids ) );
			$wpdb->query( $wpdb->prepare( "UPDATE {$wpdb->actionscheduler_actions} SET status = %s WHERE action_id IN ({$id_list})", self::STATUS_CANCELED ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the IN list is integers only (intval above); the table name comes from $wpdb->prefix.
			do_action( 'action_scheduler_bulk_cancel_actions', $action_ids );
		} while ( true );
	}

	public function delete_action( $action_id ) {
		global $wpdb;
		$deleted = $wpdb->delete( $wpdb->actionscheduler_actions, array( 'action_id' => $action_id ), array( '%d' ) );
		if ( empty( $deleted ) ) {
			/* translators: %s is the action ID */
			throw new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to delete this action. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
		}
		do_action( 'action_scheduler_deleted_action', $action_id );
	}

	public function get_date( $action_id ) {
		$date = $this->get_date_gmt( $action_id );
		ActionScheduler_TimezoneHelper::set_local_timezone( $date );
		return $date;
	}

	protected function get_date_gmt( $action_id ) {
		global $wpdb;
		$record = $wpdb->get_row( $wpdb->prepare( "SELECT status, scheduled_date_gmt, last_attempt_gmt FROM {$wpdb->actionscheduler_actions} WHERE action_id=%d", $action_id ) );
		if ( empty( $record ) ) {
			/* translators: %s is the action ID */
			throw new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to determine the date of this action. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
		}
		return as_get_datetime_object( self::STATUS_PENDING === $record->status ? $record->scheduled_date_gmt : $record->last_attempt_gmt );
	}

	public function stake_claim( $max_actions = 10, ?DateTime $before_date = null, $hooks = array(), $group = '' ) {
		$claim_id                = $this->generate_claim_id();
		$this->claim_before_date = $before_date;
		$this->claim_actions( $claim_id, $max_actions, $before_date, $hooks, $group );
		$action_ids              = $this->find_actions_by_claim_id( $claim_id );
		$this->claim_before_date = null;
		return new ActionScheduler_ActionClaim( $claim_id, $action_ids );
	}

	/** @var DateTime|null */
	private $claim_before_date = null;

	protected function generate_claim_id() {
		global $wpdb;
		$now = as_get_datetime_object();
		$wpdb->insert( $wpdb->actionscheduler_claims, array( 'date_created_gmt' => $now->format( 'Y-m-d H:i:s' ) ) );
		return $wpdb->insert_id;
	}

	public function set_claim_filter( $filter_name, $filter_values ) {
		if ( isset( $this->claim_filters[ $filter_name ] ) ) {
			$this->claim_filters[ $filter_name ] = $filter_values;
		}
	}

	public function get_claim_filter( $filter_name ) {
		return isset( $this->claim_filters[ $filter_name ] ) ? $this->claim_filters[ $filter_name ] : '';
	}

	protected function claim_actions( $claim_id, $limit, ?DateTime $before_date = null, $hooks = array(), $group = '' ) {
		global $wpdb;
		$now  = as_get_datetime_object();
		$date = null === $before_date ? $now : clone $before_date;
		$date->setTimezone( new DateTimeZone( 'UTC' ) );

		$update  = "UPDATE {$wpdb->actionscheduler_actions} SET claim_id=%d, last_attempt_gmt=%s, last_attempt_local=%s";
		$params  = array( $claim_id, $now->format( 'Y-m-d H:i:s' ), current_time( 'mysql' ) );
		$where   = 'WHERE claim_id = 0 AND scheduled_date_gmt <= %s AND status=%s';
		$wparams = array( $date->format( 'Y-m-d H:i:s' ), self::STATUS_PENDING );

		// As in the library, hooks or a group given here become the store's claim filters, so later claims through
		// the same store that name none keep to them (seen: stake_claim( 2, null, array( 'h' ) ) then run()).
		if ( ! empty( $hooks ) ) {
			$this->set_claim_filter( 'hooks', $hooks );
		} else {
			$hooks = $this->get_claim_filter( 'hooks' );
		}
		if ( ! empty( $group ) ) {
			$this->set_claim_filter( 'group', $group );
		}
		if ( ! empty( $hooks ) ) {
			$hooks   = (array) $hooks;
			$where  .= ' AND hook IN (' . implode( ', ', array_fill( 0, count( $hooks ), '%s' ) ) . ')';
			$wparams = array_merge( $wparams, array_values( $hooks ) );
		}

		$group_operator = 'IN';
		if ( empty( $group ) ) {
			$group = $this->get_claim_filter( 'group' );
			if ( empty( $group ) ) {
				$group          = $this->get_claim_filter( 'exclude-groups' );
				$group_operator = 'NOT IN';
			}
		}
		if ( ! empty( $group ) ) {
			$group_ids = array();
			foreach ( (array) $group as $slug ) {
				$group_id = $this->get_group_id( $slug, false );
				if ( empty( $group_id ) ) {
					if ( 'IN' === $group_operator ) {
						/* translators: %s: group name */
						throw new InvalidArgumentException( sprintf( __( 'The group "%s" does not exist.', 'sidecar-scheduler' ), $slug ) ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- the library's exact text (esc_html would turn its quotes into entities); printed as text, never as HTML.
					}
					continue;
				}
				$group_ids[] = $group_id;
			}
			if ( $group_ids ) {
				$where  .= " AND group_id {$group_operator} (" . implode( ', ', array_fill( 0, count( $group_ids ), '%d' ) ) . ')';
				$wparams = array_merge( $wparams, $group_ids );
			}
		}

		$order = apply_filters( 'action_scheduler_claim_actions_order_by', 'ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC', $claim_id, $hooks );
		$sql   = "{$update} {$where} {$order} LIMIT %d";
		$all   = array_merge( $params, $wparams, array( $limit ) );
		$rows  = $wpdb->query( $wpdb->prepare( $sql, $all ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the statement was built above from our own fragments with placeholders, and prepare() fills them.
		if ( false === $rows ) {
			throw new RuntimeException( __( 'Unable to claim actions. Database error.', 'sidecar-scheduler' ) . ' ' . $wpdb->last_error ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- plain text carrying the database error verbatim, as the library does; callers print it as text (CLI, React), never as HTML.
		}
		return (int) $rows;
	}

	public function get_claim_count() {
		global $wpdb;
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(DISTINCT claim_id) FROM {$wpdb->actionscheduler_actions} WHERE claim_id != 0 AND status IN ( %s, %s)", self::STATUS_PENDING, self::STATUS_RUNNING ) );
	}

	public function get_claim_id( $action_id ) {
		global $wpdb;
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT claim_id FROM {$wpdb->actionscheduler_actions} WHERE action_id=%d", $action_id ) );
	}

	public function find_actions_by_claim_id( $claim_id ) {
		global $wpdb;
		$cut_off = ( $this->claim_before_date ? $this->claim_before_date : as_get_datetime_object() )->format( 'Y-m-d H:i:s' );
		$rows    = $wpdb->get_results(
			$wpdb->prepare( "SELECT action_id, scheduled_date_gmt FROM {$wpdb->actionscheduler_actions} WHERE claim_id = %d ORDER BY priority ASC, attempts ASC, scheduled_date_gmt ASC, action_id ASC", $claim_id )
		);
		$ids     = array();
		foreach ( $rows as $row ) {
			// A row whose date moved past the cut-off after we claimed it (e.g. rescheduled) is not ours to run now.
			if ( $row->scheduled_date_gmt <= $cut_off ) {
				$ids[] = (int) $row->action_id;
			}
		}
		return $ids;
	}

	/** Select first, then update by primary key: updating by claim_id deadlocks on the claim_id index. */
	public function release_claim( ActionScheduler_ActionClaim $claim ) {
		global $wpdb;
		$ids     = $wpdb->get_col( $wpdb->prepare( "SELECT action_id FROM {$wpdb->actionscheduler_actions} WHERE claim_id = %d", $claim->get_id() ) );
		$updated = 0;
		if ( $ids ) {
			$list    = implode( ',', array_map( 'absint', $ids ) );
			$updated = (int) $wpdb->query( "UPDATE {$wpdb->actionscheduler_actions} SET claim_id = 0 WHERE action_id IN ({$list})" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the IN list is integers only (intval above); the table name comes from $wpdb->prefix.
		}
		$wpdb->delete( $wpdb->actionscheduler_claims, array( 'claim_id' => $claim->get_id() ), array( '%d' ) );
		if ( $updated < count( $ids ) ) {
			/* translators: %d: claim ID */
			throw new RuntimeException( sprintf( esc_html__( 'Unable to release actions from claim id %d.', 'sidecar-scheduler' ), (int) $claim->get_id() ) );
		}
	}

	public function unclaim_action( $action_id ) {
		global $wpdb;
		$wpdb->update( $wpdb->actionscheduler_actions, array( 'claim_id' => 0 ), array( 'action_id' => $action_id ), array( '%s' ), array( '%d' ) );
	}

	public function mark_failure( $action_id ) {
		global $wpdb;
		$updated = $wpdb->update( $wpdb->actionscheduler_actions, array( 'status' => self::STATUS_FAILED ), array( 'action_id' => $action_id ), array( '%s' ), array( '%d' ) );
		if ( empty( $updated ) ) {
			/* translators: %s is the action ID */
			throw new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to mark this action as having failed. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
		}
	}

	/** mark_complete()'s UPDATE: rows changed, or false on error. */
	private function write_completion( $action_id, $gmt, $local ) {
		global $wpdb;
		return $wpdb->update(
			$wpdb->actionscheduler_actions,
			array(
				'status'             => self::STATUS_COMPLETE,
				'last_attempt_gmt'   => $gmt,
				'last_attempt_local' => $local,
			),
			array( 'action_id' => $action_id ),
			array( '%s' ),
			array( '%d' )
		);
	}

	/** What log_execution() throws when the action's row is gone. */
	private static function execution_not_logged( $action_id ) {
		/* translators: %s is the action ID */
		return new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to log the execution of this action. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
	}

	public function log_execution( $action_id ) {
		global $wpdb;
		$updated = $wpdb->query(
			$wpdb->prepare(
				"UPDATE {$wpdb->actionscheduler_actions} SET attempts = attempts+1, status=%s, last_attempt_gmt = %s, last_attempt_local = %s WHERE action_id = %d",
				self::STATUS_RUNNING,
				current_time( 'mysql', true ),
				current_time( 'mysql' ),
				$action_id
			)
		);
		if ( ! $updated ) {
			throw self::execution_not_logged( $action_id ); // phpcs:ignore WordPress.Security.EscapeOutput.ExceptionNotEscaped -- execution_not_logged() escapes its message.
		}
	}

	public function mark_complete( $action_id ) {
		$updated = $this->write_completion( $action_id, current_time( 'mysql', true ), current_time( 'mysql' ) );
		if ( empty( $updated ) ) {
			/* translators: %s is the action ID */
			throw new InvalidArgumentException( sprintf( esc_html__( 'Unidentified action %s: we were unable to mark this action as having completed. It may may have been deleted by another process.', 'sidecar-scheduler' ), esc_html( $action_id ) ) );
		}
		do_action( 'action_scheduler_completed_action', $action_id );
	}

	public function get_status( $action_id ) {
		global $wpdb;
		return $this->checked_status( $wpdb->get_var( $wpdb->prepare( "SELECT status FROM {$wpdb->actionscheduler_actions} WHERE action_id=%d", $action_id ) ) );
	}

	private function checked_status( $status ) {
		if ( null === $status ) {
			throw new InvalidArgumentException( esc_html__( 'Invalid action ID. No status found.', 'sidecar-scheduler' ) );
		} elseif ( empty( $status ) ) {
			throw new RuntimeException( esc_html__( 'Unknown status found for action.', 'sidecar-scheduler' ) );
		}
		return $status;
	}
}
