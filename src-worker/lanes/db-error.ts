// What the loop does when one of its statements fails: count it, mark the site unhealthy, log, and wait a second.
import type { Logger } from 'pino';
import { isConnectionError } from '../db/database';
import type { Metrics } from '../metrics';
import { sleep } from '../retry';
import type { SiteState } from './lane';

export type OnDbError = (e: unknown, where: string) => Promise<void>;

export function dbErrorHandler(state: SiteState, metrics: Metrics, log: Logger): OnDbError {
  return async (e, where) => {
    metrics.dbErrors.inc();
    state.dbHealthy = false;
    log.error(
      { err: (e as Error).message, code: (e as { code?: string }).code, where },
      isConnectionError(e) ? 'database unavailable; retrying' : 'database error; retrying',
    );
    await sleep(1000);
  };
}
