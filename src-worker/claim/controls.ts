// The claim's view of pauses (and, later, limits), reloaded every second from what PHP published (db/controls.ts),
// so a claim never pays a query for them: with nothing paused the claim's SQL is exactly what it was.
import type { Pool, Tables } from '../db/database';
import { resolveGroupIds } from '../db/groups';
import { readBreakers, readControls, ControlsData } from '../db/controls';
import type { ClaimFilter } from '../db/claims/types';
import type { Metrics } from '../metrics';
import type { LimitedGroup } from '../db/claims/claim-with-limits';
import { ensureRateTable } from '../db/claims/claim-with-limits';

export const CONTROLS_REFRESH_MS = 1000;

export class Controls {
  private data: ControlsData = { pausedGroups: {}, pausedHooks: {}, limits: {} };
  private pausedGroupIds: number[] = [];
  private pausedHooks: string[] = [];
  private limitedGroups: LimitedGroup[] = [];
  private rateTableReady = false;
  private timer?: NodeJS.Timeout;
  private refreshing = false;

  private shown: { scope: string; name: string }[] = [];

  constructor(
    private pool: Pool,
    private t: Tables,
    private site: string,
    private metrics?: Metrics,
    private onError: (e: Error) => void = () => undefined,
  ) {}

  /** Reads the options; keeps the last known state when the database is away (a pause is not lifted by an outage). */
  async refresh(): Promise<void> {
    if (this.refreshing) return; // never stacked
    this.refreshing = true;
    try {
      const data = await readControls(this.pool, this.t);
      const slugs = Object.keys(data.pausedGroups);
      // A paused group that has no row yet has no actions either; it is resolved again at the next refresh.
      this.pausedGroupIds = slugs.length ? await resolveGroupIds(this.pool, this.t, slugs) : [];
      this.pausedHooks = Object.keys(data.pausedHooks);
      this.limitedGroups = await this.resolveLimits(data);
      this.data = data;
      this.publishMetrics();
      if (this.limitedGroups.some((g) => g.breaker)) await this.breakerMetrics();
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.refreshing = false;
    }
  }

  /** Groups with a concurrency or rate limit or a circuit breaker, by ID (a group without a row has no actions to limit yet). */
  private async resolveLimits(data: ControlsData): Promise<LimitedGroup[]> {
    const entries = Object.entries(data.limits).filter(
      ([, l]) => l.concurrency !== undefined || l.rate !== undefined || l.breaker !== undefined,
    );
    if (!entries.length) return [];
    if (entries.some(([, l]) => l.rate) && !this.rateTableReady) {
      await ensureRateTable(this.pool, this.t);
      this.rateTableReady = true;
    }
    const out: LimitedGroup[] = [];
    for (const [slug, l] of entries) {
      for (const id of await resolveGroupIds(this.pool, this.t, [slug])) {
        out.push({
          id,
          concurrency: l.concurrency,
          rate: l.rate ? { limit: l.rate.limit, perMs: l.rate.per === 'minute' ? 60_000 : 1000 } : undefined,
          breaker: l.breaker
            ? { slug, cooldownMs: l.breaker.cooldown * 1000, failures: l.breaker.failures }
            : undefined,
        });
      }
    }
    return out;
  }

  /** sidecar_breaker_state / _opens_total per group, from the site's breaker table (every sidecar sees the same). */
  private async breakerMetrics(): Promise<void> {
    if (!this.metrics) return;
    const code: Record<string, number> = { closed: 0, open: 1, 'half-open': 2 };
    for (const b of await readBreakers(this.pool, this.t)) {
      this.metrics.breakerState.set({ site: this.site, group: b.group }, code[b.state] ?? 0);
      this.metrics.breakerOpens.set({ site: this.site, group: b.group }, b.opens);
    }
  }

  /** Counts the trial runs a claim took for half-open breakers. */
  noteTrials(trials: { slug: string }[]): void {
    for (const tr of trials) this.metrics?.breakerTrials.inc({ site: this.site, group: tr.slug });
  }

  /** The limited groups the claim must respect; empty when no group policy sets a limit. */
  get limited(): LimitedGroup[] {
    return this.limitedGroups;
  }

  /** sidecar_paused{site, scope, name} = 1 for each pause in force, removed once resumed. */
  private publishMetrics(): void {
    if (!this.metrics) return;
    for (const l of this.shown) this.metrics.paused.remove({ site: this.site, ...l });
    this.shown = [
      ...Object.keys(this.data.pausedGroups).map((name) => ({ scope: 'group', name })),
      ...this.pausedHooks.map((name) => ({ scope: 'hook', name })),
    ];
    for (const l of this.shown) this.metrics.paused.set({ site: this.site, ...l }, 1);
  }

  start(intervalMs = CONTROLS_REFRESH_MS): void {
    this.timer = setInterval(() => {
      void this.refresh();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get current(): ControlsData {
    return this.data;
  }
  get paused(): { groups: number; hooks: number } {
    return { groups: Object.keys(this.data.pausedGroups).length, hooks: this.pausedHooks.length };
  }

  /** The lane's filter with paused groups and hooks left out; the same object when nothing is paused. */
  narrow(filter: ClaimFilter): ClaimFilter {
    if (!this.pausedGroupIds.length && !this.pausedHooks.length) return filter;
    return { ...filter, pausedGroupIds: this.pausedGroupIds, pausedHooks: this.pausedHooks };
  }
}
