<?php
/**
 * Whether a long-lived worker may still run an action, or must give way to a freshly booted one.
 *
 * Stale: what WordPress would load changed since this process booted (CodeFingerprint). Checked before a stream's
 * first action and, during a stream, at most once a second after the stream ran something; the worker then ends the
 * stream without starting anything more and the sidecar replaces it.
 *
 * Hand-back: an action whose hook has no callback in this process. The library fails such an action ("no callbacks
 * are registered"), which is right only if this process sees the code that exists now: a plugin activated in a way
 * no fingerprint shows (say, one that registers its callback from an option read at boot) would otherwise have all
 * its actions failed by workers that booted before it. So the action is handed back untouched (not started, no
 * attempt, no log line) and a worker booted after the claim runs it; that worker's "no callbacks" is the library's
 * failure. A worker booted after the claim was made never hands back (every action of the claim was scheduled before
 * it booted), and neither does a worker for a hook it already found missing as such a fresh worker, so a hook with no
 * callback anywhere costs one boot, not one per claim.
 */

namespace SidecarScheduler\Runner;

defined( 'ABSPATH' ) || exit;

final class Freshness {
	/** @var CodeFingerprint */
	private $fingerprint;
	/** @var float When this PHP process started (before WordPress booted). */
	private $boot_started;
	/** @var array<string, true> Hooks found without a callback while this worker was fresh for the claim. */
	private $confirmed_missing = array();
	private $last_check        = 0.0;
	private $reason            = '';

	public function __construct() {
		$this->boot_started = isset( $_SERVER['REQUEST_TIME_FLOAT'] ) ? (float) $_SERVER['REQUEST_TIME_FLOAT'] : microtime( true );
		$this->fingerprint  = new CodeFingerprint();
		$this->last_check   = microtime( true );
	}

	public function reason() {
		return $this->reason;
	}

	/** True when this process booted after the claim was made (so it saw all code that existed when the claim's actions were scheduled). */
	private function fresh_for( $claimed_at ) {
		return $claimed_at > 0 && $this->boot_started > $claimed_at;
	}

	/**
	 * Before a stream's first action. A worker booted after the claim skips it: it is the replacement, and it runs
	 * at least one action, so code that changes all the time (a file rewritten every second) cannot stall a lane.
	 */
	public function stale_before_stream( $claimed_at ) {
		if ( $this->fresh_for( $claimed_at ) ) {
			return false;
		}
		return $this->check();
	}

	/** Between actions of a stream that already ran one: at most once a second (a check costs about 2 ms). */
	public function stale_during_stream() {
		if ( microtime( true ) - $this->last_check < 1 ) {
			return false;
		}
		return $this->check();
	}

	/** For the flush after a claim (the next stream checks anyway): at most every 5 s. */
	public function stale_after_claim() {
		if ( microtime( true ) - $this->last_check < 5 ) {
			return false;
		}
		return $this->check();
	}

	private function check() {
		$this->last_check = microtime( true );
		$changed          = $this->fingerprint->changed();
		$this->reason     = $changed ? $this->fingerprint->reason() : '';
		return $changed;
	}

	/** True when the action must go to a fresh worker instead of being run here (see the class comment). */
	public function hand_back( $hook, $claimed_at ) {
		if ( null === $hook || '' === $hook || has_action( $hook ) || isset( $this->confirmed_missing[ $hook ] ) ) {
			return false;
		}
		if ( $this->fresh_for( $claimed_at ) ) {
			$this->confirmed_missing[ $hook ] = true;
			return false;
		}
		$this->reason = 'no callback for ' . $hook;
		return true;
	}
}
