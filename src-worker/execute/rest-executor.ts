// The rest channel: signed keep-alive loopback POSTs to the plugin's runner route, one per action. The HMAC covers the
// timestamp, the Host, the blog ID, the route and the body, so a request cannot be replayed against another site.
import { createHmac } from 'node:crypto';
import { contract, ReplyOf, WorkerReply, WorkerRequest } from '../contract';
import { checkReply } from '../protocol-check';
import {
  Executor,
  FailRequest,
  PhpSettings,
  RunResult,
  StreamEnd,
  StreamLimits,
  streamByRuns,
  throwIfRefused,
} from './executor';

/** The route every request is signed for (WP_REST_Request::get_route() on the PHP side). */
export const RUNNER_ROUTE = `/${contract.rest.NAMESPACE}${contract.rest.RUN_ROUTE}`;

/** hex(hmac(secret, timestamp \n host \n blog_id \n route \n body)), host lowercased: Signature::sign() in PHP. */
export function signRequest(
  secret: string,
  timestamp: number,
  host: string,
  blogId: number,
  route: string,
  body: string,
): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}\n${host.toLowerCase()}\n${blogId}\n${route}\n${body}`)
    .digest('hex');
}

/** What the sidecar reads of a row when the route gave no answer it can trust: did the action start? */
export type RowProbe = (id: number) => Promise<{ status: string; claimId: number } | null>;

/** The site's secret; reload() re-reads it (after a 401: it may have been created or rotated meanwhile). */
export interface SecretSource {
  value(): string;
  reload(): Promise<string>;
}

export interface RestExecutorOptions {
  url: string;
  secret: SecretSource;
  timeoutSec: () => number;
  extraHeaders?: Record<string, string>;
  blogId?: number;
  probe?: RowProbe;
  /** How often a started action whose request failed (a 504: PHP may still be running it) is looked at again. */
  probeEveryMs?: number;
}

class RouteError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class RestExecutor implements Executor {
  /** Each request boots WordPress afresh: no worker to retire after some actions, or whose code goes stale. */
  readonly jobs = 0;
  readonly codeChanged = false;
  readonly label = 'rest';
  private stopRequested = false;
  private readonly host: string;

  constructor(private o: RestExecutorOptions) {
    // The Host actually sent: fetch() always sends the URL's (it drops a Host given in the headers).
    let urlHost = '';
    try {
      urlHost = new URL(o.url).host;
    } catch {
      /* start() says what is wrong */
    }
    this.host = urlHost;
  }

  async start(): Promise<void> {
    if (!this.o.url) throw new Error('the rest channel needs --url or --rest-url');
    if (!this.o.secret.value()) {
      throw new Error(
        'the rest channel needs a secret (SIDECAR_SCHEDULER_SECRET, --secret, or the option set on activation)',
      );
    }
  }

  /** The replies that fit the contract (protocol-check.ts); one that does not counts as no answer. */
  private async post(payload: WorkerRequest, timeoutMs: number): Promise<WorkerReply[]> {
    const body = JSON.stringify(payload);
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(this.o.url, {
      method: 'POST',
      body,
      headers: {
        ...this.o.extraHeaders,
        'content-type': 'application/json',
        [contract.rest.TIMESTAMP_HEADER]: String(ts),
        [contract.rest.SIGNATURE_HEADER]: signRequest(
          this.o.secret.value(),
          ts,
          this.host,
          this.o.blogId ?? 1,
          RUNNER_ROUTE,
          body,
        ),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new RouteError(`runner route answered ${res.status}: ${text.slice(0, 300)}`, res.status);
    const parsed = JSON.parse(text) as { messages?: unknown };
    if (!Array.isArray(parsed?.messages)) {
      throw new RouteError(`runner route answered without messages: ${text.slice(0, 300)}`, res.status);
    }
    return parsed.messages.flatMap((m) => {
      const c = checkReply(m);
      return 'reply' in c ? [c.reply] : [];
    });
  }

  /**
   * One action, one request. Only an answer from PHP says how it went; without one (a php-fpm reload's 502, nginx's
   * 504 at its read timeout while PHP carries on, a refused connection, our own time limit) the row says whether its
   * callback started: still pending under our claim means it never did (`unstarted`: the lane releases the claim and
   * backs off; nothing is failed); in progress means PHP is running it, so wait for it to finish, up to the time limit.
   */
  async run(id: number, claimId: number, _claimedAt: number): Promise<RunResult> {
    const t0 = Date.now();
    const limitMs = this.o.timeoutSec() * 1000;
    let error: string;
    try {
      const messages = await this.post(
        { op: 'batch', ids: [id], claim: claimId, context: contract.contexts.SIDECAR },
        limitMs,
      );
      const done = messages.find((m): m is ReplyOf<'done'> => m.op === 'done' && m.id === id);
      if (done) return { id, status: done.status, ms: Number(done.ms), error: done.error };
      error = 'the runner route answered without a result for this action';
    } catch (e) {
      error = (e as Error).message;
      if (e instanceof RouteError && e.status === 401) {
        // The secret may have been created or rotated since it was read: read it again (the lane backs off).
        await this.o.secret.reload().catch(() => undefined);
      }
    }
    if (!this.o.probe) return { id, status: 'unstarted', ms: Date.now() - t0, error };
    for (;;) {
      let row: { status: string; claimId: number } | null;
      try {
        row = await this.o.probe(id);
      } catch (e) {
        return {
          id,
          status: 'unstarted',
          ms: Date.now() - t0,
          error: `${error}; row unreadable: ${(e as Error).message}`,
        };
      }
      const ms = Date.now() - t0;
      if (!row) return { id, status: 'lost', ms, error };
      if (row.status === contract.statuses.PENDING) {
        return { id, status: row.claimId === claimId ? 'unstarted' : 'lost', ms, error };
      }
      if (row.status === contract.statuses.COMPLETE) return { id, status: 'complete', ms };
      if (row.status === contract.statuses.FAILED) return { id, status: 'failed', ms, error };
      if (row.status !== contract.statuses.RUNNING || row.claimId !== claimId) return { id, status: 'lost', ms, error };
      if (ms >= limitMs) {
        return { id, status: 'timeout', ms, error: `no result after ${this.o.timeoutSec()} s (${error})` };
      }
      await new Promise((r) => setTimeout(r, Math.min(this.o.probeEveryMs ?? 250, limitMs - ms)));
    }
  }

  /** One signed request per action: a request that runs several could not be stopped or timed out per action. */
  async runStream(
    ids: number[],
    claimId: number,
    claimedAt: number,
    _limits: StreamLimits,
    onDone: (r: RunResult) => void,
  ): Promise<StreamEnd> {
    this.stopRequested = false;
    return streamByRuns(this, () => this.stopRequested, ids, claimId, claimedAt, onDone);
  }

  requestStop() {
    this.stopRequested = true;
  }

  async flush(): Promise<void> {
    /* every request is a fresh PHP request: nothing is cached across actions */
  }
  async fail(req: FailRequest): Promise<void> {
    const m = await this.post({ op: 'fail', ...req }, 60_000);
    const reply = m.find((x): x is ReplyOf<'failed'> => x.op === 'failed');
    // An answer without its reply (a proxy's page, a cut-off body) proves nothing was written: tried again, as a refusal.
    if (!reply) throw new Error(`could not fail action ${req.id}: the runner route answered without a reply`);
    throwIfRefused(reply, `could not fail action ${req.id}`);
  }
  async clean(): Promise<ReplyOf<'cleaned'> | undefined> {
    const m = await this.post({ op: 'clean' }, 300_000);
    return m.find((x): x is ReplyOf<'cleaned'> => x.op === 'cleaned');
  }
  async settings(): Promise<PhpSettings> {
    const m = await this.post({ op: 'settings' }, 30_000);
    const settings = m.find((x): x is ReplyOf<'settings'> => x.op === 'settings');
    if (!settings) throw new Error('the runner route answered without its settings');
    return settings;
  }
  async stop(): Promise<void> {}
}
