// Prometheus metrics and the per-minute statistics that feed the admin page's charts.
import client from 'prom-client';

export class Metrics {
  readonly registry = new client.Registry();
  readonly executed = new client.Counter({
    name: 'sidecar_actions_total',
    help: 'Actions run, by outcome',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly runSeconds = new client.Histogram({
    name: 'sidecar_action_run_seconds',
    help: 'Time to run one action in PHP',
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
    registers: [this.registry],
  });
  readonly waitSeconds = new client.Histogram({
    name: 'sidecar_action_wait_seconds',
    help: 'Due to started',
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 60, 600],
    registers: [this.registry],
  });
  readonly claimSeconds = new client.Histogram({
    name: 'sidecar_claim_seconds',
    help: 'Claim transaction time',
    buckets: [0.001, 0.003, 0.005, 0.01, 0.05, 0.2, 1],
    registers: [this.registry],
  });
  readonly running = new client.Gauge({
    name: 'sidecar_actions_running',
    help: 'Actions running now',
    registers: [this.registry],
  });
  readonly workerRestarts = new client.Counter({
    name: 'sidecar_worker_restarts_total',
    help: 'PHP workers replaced',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly dbErrors = new client.Counter({
    name: 'sidecar_db_errors_total',
    help: 'Database errors seen by the loop',
    registers: [this.registry],
  });
  readonly paused = new client.Gauge({
    name: 'sidecar_paused',
    help: 'Paused groups and hooks (1 each), as the claim sees them',
    labelNames: ['site', 'scope', 'name'],
    registers: [this.registry],
  });
  readonly breakerState = new client.Gauge({
    name: 'sidecar_breaker_state',
    help: 'Circuit breaker per group: 0 closed, 1 open, 2 half-open (trial running)',
    labelNames: ['site', 'group'],
    registers: [this.registry],
  });
  readonly breakerOpens = new client.Gauge({
    name: 'sidecar_breaker_opens_total',
    help: "Times a group's circuit breaker opened (all sidecars; read from the site)",
    labelNames: ['site', 'group'],
    registers: [this.registry],
  });
  readonly breakerTrials = new client.Counter({
    name: 'sidecar_breaker_trials_total',
    help: 'Trial runs this sidecar claimed for a half-open breaker',
    labelNames: ['site', 'group'],
    registers: [this.registry],
  });
  constructor() {
    client.collectDefaultMetrics({ register: this.registry });
  }
}

interface Bucket {
  completed: number;
  failed: number;
  waits: number[];
  waitSum: number;
  runMs: number;
}

/** Collects outcomes per (minute, group) until the heartbeat flushes them into {prefix}sidecar_stats. */
export class MinuteStats {
  private buckets = new Map<string, Bucket>();

  record(minuteGmt: string, group: string, ok: boolean, waitMs: number, runMs: number) {
    const key = `${minuteGmt}\u0000${group}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { completed: 0, failed: 0, waits: [], waitSum: 0, runMs: 0 };
      this.buckets.set(key, b);
    }
    if (ok) b.completed++;
    else b.failed++;
    b.waitSum += waitMs; // every action, while the percentiles come from the first 5,000 of the minute
    if (b.waits.length < 5000) b.waits.push(waitMs);
    b.runMs += runMs;
  }

  drain(): Array<{
    minute: string;
    group: string;
    completed: number;
    failed: number;
    waitSum: number;
    p50: number;
    p95: number;
    runMs: number;
  }> {
    const out = [];
    for (const [key, b] of this.buckets) {
      const [minute, group] = key.split('\u0000');
      const sorted = [...b.waits].sort((x, y) => x - y);
      const q = (p: number) =>
        sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] : 0;
      out.push({
        minute,
        group,
        completed: b.completed,
        failed: b.failed,
        waitSum: Math.round(b.waitSum),
        p50: Math.round(q(0.5)),
        p95: Math.round(q(0.95)),
        runMs: Math.round(b.runMs),
      });
    }
    this.buckets.clear();
    return out;
  }
}
