// Releasing a lane's claims, and keeping the ones that could not be released (the database was away) for later.
import type { Logger } from 'pino';
import type { Claimer } from '../claim/claimer';
import type { OnDbError } from './db-error';
import type { Lane } from './lane';

export class ClaimReleases {
  /** Claims whose release failed (database down): retried before new claims, so they do not wait for the stale reset. */
  private unreleased = new Set<number>();

  /** `claimer`: any claimer of the site (a release does not depend on the lane's group filter). */
  constructor(
    private claimer: Claimer,
    private log: Logger,
    private onDbError: OnDbError,
  ) {}

  /** Releases a claim; one that cannot be released now (the database is away) is retried before the next claim. */
  async release(lane: Lane, claimId: number) {
    try {
      await lane.claimer.release(claimId);
    } catch (e) {
      this.unreleased.add(claimId);
      await this.onDbError(e, 'release');
    }
  }

  /** Releases the claims left over from an outage; throws while the database is still away. */
  async retry() {
    for (const claimId of [...this.unreleased]) {
      await this.claimer.release(claimId);
      this.unreleased.delete(claimId);
      this.log.info({ claim: claimId }, 'released a claim left over from a database outage');
    }
  }
}
