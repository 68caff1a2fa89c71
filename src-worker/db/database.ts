// The MySQL pool and the checks that must pass before the sidecar touches a row (schema versions, tables).
import mysql from 'mysql2/promise';
import type { SidecarConfig } from '../config/config';
import { contract } from '../contract';

export class SchemaError extends Error {}

export type Pool = mysql.Pool;

/**
 * `multipleStatements` is for the claimers' pool only (a claim is two round trips of several statements each, see
 * Claimer); every value still goes through placeholders, and table names come from a validated prefix.
 */
export function createPool(
  config: SidecarConfig,
  connectionLimit: number,
  options: { multipleStatements?: boolean } = {},
): Pool {
  const pool = mysql.createPool({
    host: config.db.socketPath ? undefined : config.db.host,
    port: config.db.socketPath ? undefined : config.db.port,
    socketPath: config.db.socketPath,
    user: config.db.user,
    password: config.db.password,
    database: config.db.database,
    connectionLimit,
    waitForConnections: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectTimeout: 5000,
    enableKeepAlive: true,
    multipleStatements: options.multipleStatements ?? false,
  });
  // READ COMMITTED for every statement of the sidecar: claims see only committed rows and take no gap locks
  // (under REPEATABLE READ two claimers deadlocked now and then). Set once per connection, not per claim.
  pool.pool.on('connection', (conn) => {
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  return pool;
}

/**
 * A ceiling for every statement on the pool's connections (MariaDB's max_statement_time; MySQL has no such variable
 * and answers an error, which is ignored).
 */
export function limitStatements(pool: Pool, seconds: number): void {
  pool.pool.on('connection', (conn) => {
    conn.query(`SET SESSION max_statement_time = ${Number(seconds)}`, () => undefined);
  });
}

export interface Tables {
  actions: string;
  claims: string;
  groups: string;
  logs: string;
  heartbeats: string;
  stats: string;
  options: string;
}

export function tableNames(prefix: string): Tables {
  const t = contract.tables;
  return {
    actions: `${prefix}${t.ACTIONS}`,
    claims: `${prefix}${t.CLAIMS}`,
    groups: `${prefix}${t.GROUPS}`,
    logs: `${prefix}${t.LOGS}`,
    heartbeats: `${prefix}${t.HEARTBEATS}`,
    stats: `${prefix}${t.STATS}`,
    options: `${prefix}options`,
  };
}

/** Refuses to run against tables it does not understand: a wrong prefix or an un-upgraded schema loses jobs silently. */
export async function checkSchema(pool: Pool, tables: Tables): Promise<{ skipLocked: boolean; server: string }> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SHOW TABLES');
  const names = new Set(rows.map((r) => String(Object.values(r)[0])));
  for (const t of [tables.actions, tables.claims, tables.groups, tables.logs, tables.options]) {
    if (!names.has(t)) {
      throw new SchemaError(`table ${t} is missing: is the plugin active, and is the table prefix right?`);
    }
  }
  for (const t of [tables.heartbeats, tables.stats]) {
    if (!names.has(t)) {
      throw new SchemaError(
        `table ${t} is missing: activate Sidecar Scheduler in wp-admin (it creates its tables on activation)`,
      );
    }
  }
  const [opts] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT option_name, option_value FROM ${tables.options} WHERE option_name IN (?, ?, ?)`,
    [contract.schema.STORE_OPTION, contract.schema.LOGGER_OPTION, contract.schema.SIDECAR_OPTION],
  );
  const byName = Object.fromEntries(opts.map((o) => [o.option_name, String(o.option_value)]));
  const major = (v: string | undefined) => (v ? parseInt(v.split('.')[0], 10) : 0);
  if (major(byName[contract.schema.STORE_OPTION]) !== contract.schema.STORE_VERSION) {
    throw new SchemaError(
      `store schema is "${byName[contract.schema.STORE_OPTION] ?? 'absent'}", this sidecar needs ${contract.schema.STORE_VERSION}.x`,
    );
  }
  if (major(byName[contract.schema.LOGGER_OPTION]) !== contract.schema.LOGGER_VERSION) {
    throw new SchemaError(
      `logger schema is "${byName[contract.schema.LOGGER_OPTION] ?? 'absent'}", this sidecar needs ${contract.schema.LOGGER_VERSION}.x`,
    );
  }
  // What the sidecar itself needs (5: the heartbeat table's name), not the newest PHP installs (6 adds an index that
  // only PHP's maintenance reads): a sidecar restarted after a plugin update, before the upgrade ran, keeps running.
  if (major(byName[contract.schema.SIDECAR_OPTION]) < contract.schema.SIDECAR_REQUIRED_BY_SIDECAR) {
    throw new SchemaError(
      `Sidecar Scheduler schema is "${byName[contract.schema.SIDECAR_OPTION] ?? 'absent'}", need ${contract.schema.SIDECAR_REQUIRED_BY_SIDECAR}: update the plugin`,
    );
  }
  const [ver] = await pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  const server = String(ver[0].v);
  const m = /^(\d+)\.(\d+)/.exec(server);
  const [maj, min] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const mariadb = /mariadb/i.test(server);
  const skipLocked = mariadb ? maj > 10 || (maj === 10 && min >= 6) : maj >= 8;
  return { skipLocked, server };
}

export const isRetryable = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
};

export const isConnectionError = (e: unknown) => {
  const code = String((e as { code?: string }).code ?? '');
  return (
    [
      'ECONNREFUSED',
      'ENOENT',
      'PROTOCOL_CONNECTION_LOST',
      'ECONNRESET',
      'ETIMEDOUT',
      'ER_SERVER_SHUTDOWN',
      'EPIPE',
      'ER_CON_COUNT_ERROR',
    ].includes(code) || /closed state|connection lost|server has gone away/i.test(String((e as Error).message))
  );
};
