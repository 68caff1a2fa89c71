// A lane: one slot that claims a batch and runs it on its own PHP worker (or rest channel), one action at a time.
import type { Claimer } from '../claim/claimer';
import type { ClaimSizer } from '../claim/claim-size';
import type { Executor, FailRequest, SettleRequest } from '../execute/executor';

/**
 * `recovery`: what a dead worker's claim still needs (fail the action that was running, settle the outcomes it reported)
 * when no fresh worker could be started to do it. The claim is kept until then: both writes change only rows in
 * progress under that claim, so releasing it first would leave completed actions in progress with no claim, for the
 * cleaner to fail after the failure period.
 */
export interface Recovery {
  claimId: number;
  /** When the worker died (ms): --once gives up on writing this once the cleaner would fail those rows anyway. */
  since: number;
  fail?: FailRequest;
  settle?: SettleRequest;
  /** Start marks a live worker could not undo (StreamEnd.unreleased), not a dead worker's outcomes: for the log. */
  live?: boolean;
}

export interface Lane {
  index: number;
  executor: Executor;
  claimer: Claimer;
  sizer: ClaimSizer;
  current?: { id: number; hook: string; since: number };
  busy: boolean;
  /** When its last claim (empty or not) succeeded. */
  lastClaimAt: number;
  /** Its worker could not be replaced: it claims nothing until one starts. */
  broken?: boolean;
  repairs?: number;
  /** Consecutive claims the channel could not start (rest: HTTP or network errors), for the lane's backoff. */
  unavailable?: number;
  recovery?: Recovery;
}

/** How many lanes claim with which claimer (the general one, or one per dedicated group lane). */
export interface LanePlan {
  claimer: Claimer;
  count: number;
  label: string;
}

/** What the lanes of one site share with the sidecar that owns them (one object, read and written by all parts). */
export interface SiteState {
  lanes: Lane[];
  stopping: boolean;
  /** The last database statement of the loop succeeded. */
  dbHealthy: boolean;
  /** When any lane's last claim succeeded. */
  lastClaimAt: number;
  /** A --once lane gave up on writing what a dead worker's claim needed (the run then exits 69, not 0). */
  recoveryAbandoned?: boolean;
}
