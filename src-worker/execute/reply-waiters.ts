// Requests waiting for their reply from a PHP worker: each waits for one op (typed by the contract), optionally
// matching more (the 'failed' of its own action), with a time limit; a dead worker rejects them all.
import type { ReplyOf, WorkerReply } from '../contract';

export class TimeoutError extends Error {}

interface Waiter {
  op: string;
  match: (m: WorkerReply) => boolean;
  resolve: (m: WorkerReply) => void;
  reject: (e: Error) => void;
}

export class ReplyWaiters {
  private waiters: Waiter[] = [];

  /** The next reply `op` that `match` accepts; rejects with TimeoutError after `timeoutMs` (0: no limit). */
  expect<Op extends WorkerReply['op']>(
    op: Op,
    timeoutMs: number,
    match: (m: ReplyOf<Op>) => boolean = () => true,
  ): Promise<ReplyOf<Op>> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const i = this.waiters.indexOf(entry);
              if (i >= 0) this.waiters.splice(i, 1);
              reject(new TimeoutError(`no answer within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      const entry: Waiter = {
        op,
        match: (m) => match(m as ReplyOf<Op>),
        resolve: (m) => {
          if (timer) clearTimeout(timer);
          resolve(m as ReplyOf<Op>);
        },
        reject: (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(entry);
    });
  }

  /** Hands a reply to the first waiter for it; false when nobody waited for it. */
  offer(m: WorkerReply): boolean {
    const i = this.waiters.findIndex((w) => w.op === m.op && w.match(m));
    if (i < 0) return false;
    const [w] = this.waiters.splice(i, 1);
    w.resolve(m);
    return true;
  }

  rejectAll(e: Error) {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}
