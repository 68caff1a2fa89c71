// The rest channel: signed keep-alive loopback POSTs to the plugin's runner route (HMAC-SHA256 over timestamp and body).
import { createHmac } from 'node:crypto';
import { contract } from '../contract';
import { Executor, FailRequest, PhpSettings, RunResult, StreamEnd, StreamLimits, streamByRuns } from './executor';

export function signBody(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${body}`).digest('hex');
}

export class RestExecutor implements Executor {
  readonly label = 'rest';
  constructor(private url: string, private secret: string, private timeoutSec: () => number, private extraHeaders: Record<string, string> = {}) {}

  async start(): Promise<void> {
    if (!this.url) throw new Error('the rest channel needs --url or --rest-url');
    if (!this.secret) throw new Error('the rest channel needs a secret (SIDECAR_SCHEDULER_SECRET, --secret, or the option set on activation)');
  }

  private async post(payload: object, timeoutMs: number): Promise<any[]> {
    const body = JSON.stringify(payload);
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(this.url, {
      method: 'POST',
      body,
      headers: {
        ...this.extraHeaders,
        'content-type': 'application/json',
        [contract.rest.TIMESTAMP_HEADER]: String(ts),
        [contract.rest.SIGNATURE_HEADER]: signBody(this.secret, ts, body),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`runner route answered ${res.status}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { messages: any[] }).messages;
  }

  async run(id: number, claimId: number, claimedAt: number): Promise<RunResult> {
    const t0 = Date.now();
    try {
      const messages = await this.post({ op: 'batch', ids: [id], claim: claimId, context: contract.contexts.SIDECAR }, this.timeoutSec() * 1000);
      const done = messages.find((m) => m?.op === 'done' && m.id === id);
      return done ? { id, status: done.status, ms: Number(done.ms), error: done.error } : { id, status: 'unknown', ms: Date.now() - t0 };
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError';
      return { id, status: timedOut ? 'timeout' : 'crashed', ms: Date.now() - t0, error: (e as Error).message };
    }
  }

  private stopRequested = false;

  /** One signed request per action: a request that runs several could not be stopped or timed out per action. */
  async runStream(ids: number[], claimId: number, claimedAt: number, _limits: StreamLimits, onDone: (r: RunResult) => void): Promise<StreamEnd> {
    this.stopRequested = false;
    return streamByRuns(this, () => this.stopRequested, ids, claimId, claimedAt, onDone);
  }

  requestStop() { this.stopRequested = true; }

  async flush(): Promise<void> { /* every request is a fresh PHP request: nothing is cached across actions */ }
  async fail(req: FailRequest): Promise<void> { await this.post({ op: 'fail', ...req }, 60_000); }
  async clean(): Promise<void> { await this.post({ op: 'clean' }, 300_000); }
  async settings(): Promise<PhpSettings> {
    const m = await this.post({ op: 'settings' }, 30_000);
    return m.find((x) => x?.op === 'settings') as PhpSettings;
  }
  async stop(): Promise<void> {}
}
