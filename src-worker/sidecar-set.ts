// The sidecars of one process (one per site of a network, or just one): started, run, nudged, stopped and reported together.
import type { Sidecar } from './sidecar';

export interface HealthSource {
  readonly sidecarId: string;
  readonly laneCount: number;
  readonly running: Array<{ id: number; hook: string; since: number; lane: number }>;
  readonly executedTotal: number;
  readonly lastClaimAt: number;
  readonly lastHeartbeatAt: number;
  /** Why the process is not healthy (empty when it is): /healthz answers 503 with these. */
  healthProblems(now?: number): string[];
}

export class SidecarSet implements HealthSource {
  private sidecars = new Map<string, Sidecar>();
  /** Sites whose workers could not start yet, with the last reason (retried with backoff). */
  private pending = new Map<string, string>();

  add(s: Sidecar) {
    this.sidecars.set(s.siteKey, s);
  }
  has(siteKey: string) {
    return this.sidecars.has(siteKey);
  }
  get size() {
    return this.sidecars.size;
  }
  private get all() {
    return [...this.sidecars.values()];
  }

  starting(siteKey: string, reason: string) {
    this.pending.set(siteKey, reason);
  }
  started(siteKey: string) {
    this.pending.delete(siteKey);
  }
  isStarting(siteKey: string) {
    return this.pending.has(siteKey);
  }

  /** Wakes the site that stored the action, or every site when the datagram did not say which. */
  nudge(siteKey?: string) {
    const s = siteKey ? this.sidecars.get(siteKey) : undefined;
    if (s) s.nudge();
    else if (!siteKey || !this.pending.has(siteKey)) for (const x of this.all) x.nudge();
  }

  async stop(deadlineMs: number): Promise<boolean> {
    const results = await Promise.all(this.all.map((s) => s.stop(deadlineMs)));
    return results.every(Boolean);
  }

  healthProblems(now = Date.now()): string[] {
    const problems: string[] = [];
    for (const [site, reason] of this.pending) {
      problems.push(`site ${site}: PHP workers not started yet (${reason.slice(0, 300)})`);
    }
    if (!this.sidecars.size && !this.pending.size) problems.push('no site is served');
    for (const s of this.all) {
      for (const p of s.healthProblems(now)) problems.push(this.sidecars.size > 1 ? `site ${s.siteKey}: ${p}` : p);
    }
    return problems;
  }

  get sidecarId() {
    return this.all[0]?.sidecarId.replace(/@.*$/, '') ?? '';
  }
  get laneCount() {
    return this.all.reduce((n, s) => n + s.laneCount, 0);
  }
  get running() {
    return this.all.flatMap((s) => s.running);
  }
  get executedTotal() {
    return this.all.reduce((n, s) => n + s.executedTotal, 0);
  }
  get lastClaimAt() {
    return Math.max(0, ...this.all.map((s) => s.lastClaimAt));
  }
  /** The oldest of the sites' last heartbeats: the one that matters for health. */
  get lastHeartbeatAt() {
    return this.all.length ? Math.min(...this.all.map((s) => s.lastHeartbeatAt)) : 0;
  }
}
