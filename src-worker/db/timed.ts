// Statements with a time limit suited to them, for the periodic work (heartbeat, statistics, maintenance).
import type { Pool } from './database';

/** A query with a limit: MariaDB aborts it itself, the client gives up a second later in any case. */
export type TimedQuery = (sql: string, values: unknown[], seconds: number) => Promise<unknown>;

/**
 * MariaDB aborts the statement itself (SET STATEMENT max_statement_time: the connection stays usable, and a lock wait
 * counts), and the client gives up a second later in any case (a server that stopped answering).
 */
export function timedQuery(pool: Pool, mariadb: boolean): TimedQuery {
  return (sql, values, seconds) => {
    const text = mariadb ? `SET STATEMENT max_statement_time=${seconds} FOR ${sql}` : sql;
    return pool.query({ sql: text, timeout: seconds * 1000 + 1000 }, values);
  };
}

/** Seconds a periodic statement may take before it is abandoned (the next tick tries again). */
export const STATEMENT_SECONDS = { heartbeat: 5, stats: 10, maintenance: 30 };
