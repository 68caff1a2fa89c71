<?php
/**
 * Checks a policy and returns it in its normal form, or a WP_Error naming the policy, the key, what is allowed and
 * what was given. Every way in (PHP, filter, admin screen, REST, WP-CLI) goes through here, so the rules are one.
 *
 * @package SidecarScheduler
 *
 * Over 300 lines because every key of every policy kind has its own check and message, and keeping them in one
 * place keeps the rules one.
 */

namespace SidecarScheduler\Policy;

defined( 'ABSPATH' ) || exit;

/**
 * Policy validation.
 */
final class Validator {
	const SCOPE_HOOK  = 'hook';
	const SCOPE_GROUP = 'group';

	const MAX_RETRIES = 50;
	const MAX_DELAY   = 2592000; // 30 days.

	/** Keys a hook policy may have; a group policy may also limit, pause-free, its lane (concurrency, rate, breaker). */
	const HOOK_KEYS  = array( 'retries', 'delays', 'backoff' );
	const GROUP_KEYS = array( 'retries', 'delays', 'backoff', 'concurrency', 'rate', 'breaker' );

	/**
	 * Validates a scope and name.
	 *
	 * @param string $scope 'hook' or 'group'.
	 * @param string $name  Hook or group slug.
	 * @return true|\WP_Error
	 */
	public static function check_target( $scope, $name ) {
		if ( self::SCOPE_HOOK !== $scope && self::SCOPE_GROUP !== $scope ) {
			/* translators: %s: the scope given */
			return self::error( sprintf( __( 'A policy applies to a "hook" or a "group", not to %s.', 'sidecar-scheduler' ), self::show( $scope ) ) );
		}
		if ( ! is_string( $name ) || '' === trim( $name ) ) {
			/* translators: %s: hook or group */
			return self::error( sprintf( __( 'A %s policy needs a non-empty name.', 'sidecar-scheduler' ), $scope ) );
		}
		$max = self::SCOPE_HOOK === $scope ? 191 : 255;
		if ( strlen( $name ) > $max ) {
			/* translators: 1: hook or group 2: maximum length */
			return self::error( sprintf( __( 'A %1$s name is at most %2$d characters long.', 'sidecar-scheduler' ), $scope, $max ) );
		}
		return true;
	}

	/**
	 * Validates and normalises a policy.
	 *
	 * @param string $scope  'hook' or 'group'.
	 * @param string $name   Hook or group slug.
	 * @param mixed  $policy The policy as given.
	 * @return array|\WP_Error The normal form: only the keys given, with defaults filled in inside backoff/rate/breaker.
	 */
	public static function validate( $scope, $name, $policy ) {
		$target = self::check_target( $scope, $name );
		if ( is_wp_error( $target ) ) {
			return $target;
		}
		/* translators: 1: hook or group 2: its name */
		$who = sprintf( __( 'Policy for %1$s "%2$s"', 'sidecar-scheduler' ), $scope, $name );
		if ( ! is_array( $policy ) ) {
			/* translators: 1: policy name 2: the value given */
			return self::error( sprintf( __( '%1$s: a policy is an array of settings; got %2$s.', 'sidecar-scheduler' ), $who, self::show( $policy ) ) );
		}
		$allowed = self::SCOPE_HOOK === $scope ? self::HOOK_KEYS : self::GROUP_KEYS;
		foreach ( array_keys( $policy ) as $key ) {
			if ( in_array( $key, $allowed, true ) ) {
				continue;
			}
			if ( in_array( $key, self::GROUP_KEYS, true ) ) {
				/* translators: 1: policy name 2: key */
				return self::error( sprintf( __( '%1$s: "%2$s" is a limit of a whole group; set it in a group policy.', 'sidecar-scheduler' ), $who, $key ) );
			}
			/* translators: 1: policy name 2: key 3: list of keys */
			return self::error( sprintf( __( '%1$s: unknown setting "%2$s"; known settings are %3$s.', 'sidecar-scheduler' ), $who, (string) $key, implode( ', ', $allowed ) ) );
		}
		$out = array();
		if ( array_key_exists( 'delays', $policy ) ) {
			$delays = $policy['delays'];
			if ( ! is_array( $delays ) || ! $delays || count( $delays ) > self::MAX_RETRIES || array_values( $delays ) !== $delays ) {
				/* translators: 1: policy name 2: maximum count 3: value */
				return self::error( sprintf( __( '%1$s: "delays" must be a list of 1 to %2$d delays in seconds, e.g. [10, 60, 600]; got %3$s.', 'sidecar-scheduler' ), $who, self::MAX_RETRIES, self::show( $delays ) ) );
			}
			foreach ( $delays as $i => $d ) {
				if ( ! self::is_int_between( $d, 0, self::MAX_DELAY ) ) {
					/* translators: 1: policy name 2: position 3: maximum 4: value */
					return self::error( sprintf( __( '%1$s: delay %2$d must be a whole number of seconds from 0 to %3$d; got %4$s.', 'sidecar-scheduler' ), $who, $i + 1, self::MAX_DELAY, self::show( $d ) ) );
				}
			}
			$out['delays'] = array_map( 'intval', $delays );
		}
		if ( array_key_exists( 'retries', $policy ) ) {
			if ( ! self::is_int_between( $policy['retries'], 0, self::MAX_RETRIES ) ) {
				/* translators: 1: policy name 2: maximum 3: value */
				return self::error( sprintf( __( '%1$s: "retries" must be a whole number from 0 to %2$d (retries after the first failure); got %3$s.', 'sidecar-scheduler' ), $who, self::MAX_RETRIES, self::show( $policy['retries'] ) ) );
			}
			$out['retries'] = (int) $policy['retries'];
		} elseif ( isset( $out['delays'] ) ) {
			$out['retries'] = count( $out['delays'] );
		}
		if ( array_key_exists( 'backoff', $policy ) ) {
			if ( isset( $out['delays'] ) ) {
				/* translators: %s: policy name */
				return self::error( sprintf( __( '%s: give either "delays" (an explicit list) or "backoff" (exponential), not both.', 'sidecar-scheduler' ), $who ) );
			}
			$b = self::sub(
				$who,
				'backoff',
				$policy['backoff'],
				array(
					'base'   => 10,
					'factor' => 2,
					'max'    => 3600,
					'jitter' => 0.2,
				)
			);
			if ( is_wp_error( $b ) ) {
				return $b;
			}
			$checks = array(
				'base'   => array( 1, self::MAX_DELAY, true ),
				'factor' => array( 1, 100, false ),
				'max'    => array( 1, self::MAX_DELAY, true ),
				'jitter' => array( 0, 1, false ),
			);
			$b      = self::numbers( $who, 'backoff', $b, $checks );
			if ( is_wp_error( $b ) ) {
				return $b;
			}
			if ( $b['max'] < $b['base'] ) {
				/* translators: %s: policy name */
				return self::error( sprintf( __( '%s: "backoff.max" must not be below "backoff.base".', 'sidecar-scheduler' ), $who ) );
			}
			$out['backoff'] = $b;
		}
		if ( isset( $out['retries'] ) && ! isset( $out['delays'] ) && ! isset( $out['backoff'] ) ) {
			$out['backoff'] = array(
				'base'   => 10,
				'factor' => 2,
				'max'    => 3600,
				'jitter' => 0.2,
			);
		}
		if ( ! isset( $out['retries'] ) && isset( $out['backoff'] ) ) {
			/* translators: %s: policy name */
			return self::error( sprintf( __( '%s: "backoff" needs "retries" (how many times to retry).', 'sidecar-scheduler' ), $who ) );
		}
		if ( array_key_exists( 'concurrency', $policy ) ) {
			if ( ! self::is_int_between( $policy['concurrency'], 1, 10000 ) ) {
				/* translators: 1: policy name 2: value */
				return self::error( sprintf( __( '%1$s: "concurrency" must be a whole number from 1 to 10000 (actions of the group running at once); got %2$s.', 'sidecar-scheduler' ), $who, self::show( $policy['concurrency'] ) ) );
			}
			$out['concurrency'] = (int) $policy['concurrency'];
		}
		if ( array_key_exists( 'rate', $policy ) ) {
			$r = self::sub(
				$who,
				'rate',
				$policy['rate'],
				array(
					'limit' => null,
					'per'   => 'second',
				)
			);
			if ( is_wp_error( $r ) ) {
				return $r;
			}
			if ( ! self::is_int_between( $r['limit'], 1, 100000 ) ) {
				/* translators: 1: policy name 2: value */
				return self::error( sprintf( __( '%1$s: "rate.limit" must be a whole number from 1 to 100000 (starts per second or minute); got %2$s.', 'sidecar-scheduler' ), $who, self::show( $r['limit'] ) ) );
			}
			if ( 'second' !== $r['per'] && 'minute' !== $r['per'] ) {
				/* translators: 1: policy name 2: value */
				return self::error( sprintf( __( '%1$s: "rate.per" must be "second" or "minute"; got %2$s.', 'sidecar-scheduler' ), $who, self::show( $r['per'] ) ) );
			}
			$out['rate'] = array(
				'limit' => (int) $r['limit'],
				'per'   => $r['per'],
			);
		}
		if ( array_key_exists( 'breaker', $policy ) ) {
			$br = self::sub(
				$who,
				'breaker',
				$policy['breaker'],
				array(
					'failures' => 5,
					'rate'     => 0,
					'window'   => 60,
					'min_runs' => 10,
					'cooldown' => 60,
				)
			);
			if ( is_wp_error( $br ) ) {
				return $br;
			}
			$checks = array(
				'failures' => array( 0, 10000, true ),
				'rate'     => array( 0, 1, false ),
				'window'   => array( 1, 86400, true ),
				'min_runs' => array( 1, 100000, true ),
				'cooldown' => array( 1, 86400, true ),
			);
			$br     = self::numbers( $who, 'breaker', $br, $checks );
			if ( is_wp_error( $br ) ) {
				return $br;
			}
			if ( ! $br['failures'] && ! $br['rate'] ) {
				/* translators: %s: policy name */
				return self::error( sprintf( __( '%s: a breaker needs "failures" (consecutive failures) or "rate" (a failure rate over the window) above 0.', 'sidecar-scheduler' ), $who ) );
			}
			$out['breaker'] = $br;
		}
		if ( ! $out ) {
			/* translators: %s: policy name */
			return self::error( sprintf( __( '%s is empty: give at least one setting.', 'sidecar-scheduler' ), $who ) );
		}
		return $out;
	}

	/**
	 * A nested settings array with defaults filled in, unknown keys refused.
	 *
	 * @param string $who      Policy label.
	 * @param string $key      Setting.
	 * @param mixed  $value    Given value.
	 * @param array  $defaults Key => default (null: required).
	 * @return array|\WP_Error
	 */
	private static function sub( $who, $key, $value, array $defaults ) {
		if ( ! is_array( $value ) ) {
			/* translators: 1: policy name 2: key 3: keys 4: value */
			return self::error( sprintf( __( '%1$s: "%2$s" must be an array with %3$s; got %4$s.', 'sidecar-scheduler' ), $who, $key, implode( ', ', array_keys( $defaults ) ), self::show( $value ) ) );
		}
		foreach ( array_keys( $value ) as $k ) {
			if ( ! array_key_exists( $k, $defaults ) ) {
				/* translators: 1: policy name 2: key 3: sub key 4: keys */
				return self::error( sprintf( __( '%1$s: unknown setting "%2$s.%3$s"; known settings are %4$s.', 'sidecar-scheduler' ), $who, $key, (string) $k, implode( ', ', array_keys( $defaults ) ) ) );
			}
		}
		foreach ( $defaults as $k => $d ) {
			if ( null === $d && ! array_key_exists( $k, $value ) ) {
				/* translators: 1: policy name 2: key 3: sub key */
				return self::error( sprintf( __( '%1$s: "%2$s.%3$s" is required.', 'sidecar-scheduler' ), $who, $key, $k ) );
			}
		}
		return array_merge( $defaults, $value );
	}

	/**
	 * Checks numeric settings against [min, max, integer].
	 *
	 * @param string $who    Policy label.
	 * @param string $key    Setting.
	 * @param array  $values Sub settings.
	 * @param array  $checks Sub key => array( min, max, integer ).
	 * @return array|\WP_Error
	 */
	private static function numbers( $who, $key, array $values, array $checks ) {
		foreach ( $checks as $k => $c ) {
			list( $min, $max, $int ) = $c;
			$v                       = $values[ $k ];
			$ok                      = $int ? self::is_int_between( $v, $min, $max ) : ( is_numeric( $v ) && ! is_string( $v ) && $v >= $min && $v <= $max );
			if ( ! $ok ) {
				return self::error(
					sprintf(
						/* translators: 1: policy name 2: key 3: sub key 4: kind of number 5: minimum 6: maximum 7: value */
						__( '%1$s: "%2$s.%3$s" must be %4$s from %5$s to %6$s; got %7$s.', 'sidecar-scheduler' ),
						$who,
						$key,
						$k,
						$int ? __( 'a whole number', 'sidecar-scheduler' ) : __( 'a number', 'sidecar-scheduler' ),
						$min,
						$max,
						self::show( $v )
					)
				);
			}
			$values[ $k ] = $int ? (int) $v : (float) $v;
		}
		return $values;
	}

	/**
	 * An integer (or an integral float such as 10.0) within bounds; numeric strings are refused, so a typo like "10s"
	 * or "ten" never becomes 0.
	 *
	 * @param mixed $v   Value.
	 * @param int   $min Minimum.
	 * @param int   $max Maximum.
	 * @return bool
	 */
	private static function is_int_between( $v, $min, $max ) {
		if ( is_float( $v ) && floor( $v ) === $v ) {
			$v = (int) $v;
		}
		return is_int( $v ) && $v >= $min && $v <= $max;
	}

	/**
	 * A value as the error message shows it.
	 *
	 * @param mixed $v Value.
	 * @return string
	 */
	private static function show( $v ) {
		$json = wp_json_encode( $v );
		return false === $json ? gettype( $v ) : ( strlen( $json ) > 80 ? substr( $json, 0, 77 ) . '...' : $json );
	}

	/**
	 * The error every caller returns as is.
	 *
	 * @param string $message Message.
	 * @return \WP_Error
	 */
	private static function error( $message ) {
		return new \WP_Error( 'sidecar_scheduler_bad_policy', $message, array( 'status' => 400 ) );
	}
}
