// The sidecars of one process (one per site of a network, or just one): started, run, nudged, stopped and reported together.
import type { Sidecar } from './sidecar';

export interface HealthSource {
  readonly dbHealthy: boolean;
  readonly workerId: string;
  readonly laneCount: number;
  readonly running: Array<{ id: number; hook: string; since: number; lane: number }>;
  readonly executedTotal: number;
  readonly lastClaimAt: number;
}

export class SidecarSet implements HealthSource {
  private sidecars = new Map<string, Sidecar>();

  add(s: Sidecar) { this.sidecars.set(s.siteKey, s); }
  has(siteKey: string) { return this.sidecars.has(siteKey); }
  get size() { return this.sidecars.size; }
  private get all() { return [...this.sidecars.values()]; }

  run(): Promise<unknown> { return Promise.all(this.all.map((s) => s.run())); }

  /** Wakes the site that stored the action, or every site when the datagram did not say which. */
  nudge(siteKey?: string) {
    const s = siteKey ? this.sidecars.get(siteKey) : undefined;
    if (s) s.nudge(); else for (const x of this.all) x.nudge();
  }

  async stop(deadlineMs: number): Promise<boolean> {
    const results = await Promise.all(this.all.map((s) => s.stop(deadlineMs)));
    return results.every(Boolean);
  }

  get dbHealthy() { return this.all.every((s) => s.dbHealthy); }
  get workerId() { return this.all[0]?.workerId.replace(/@.*$/, '') ?? ''; }
  get laneCount() { return this.all.reduce((n, s) => n + s.laneCount, 0); }
  get running() { return this.all.flatMap((s) => s.running); }
  get executedTotal() { return this.all.reduce((n, s) => n + s.executedTotal, 0); }
  get lastClaimAt() { return Math.max(0, ...this.all.map((s) => s.lastClaimAt)); }
}
