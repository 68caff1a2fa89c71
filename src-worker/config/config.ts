// Builds the validated sidecar configuration from flags, environment and wp-config.php (in that order of precedence).
import { existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OPTIONS, envName } from './options';
import { parseDbHost, readWpConfigFile } from './wp-config-reader';

export class ConfigError extends Error {}

export type Channel = 'wp-cli' | 'php' | 'rest';

export interface SidecarConfig {
  wpPath?: string;
  url: string;
  channel: Channel | 'auto';
  workers: number;
  batchSize: number;
  /** Milliseconds of work whose starts a worker may commit at once; 0 = none (see StartWindow.php). */
  startWindowMs: number;
  pollMs: number;
  actionTimeoutSec: number;
  maxJobsPerWorker: number;
  maxWorkerMemoryMb: number;
  groups: string[];
  excludeGroups: string[];
  /** Dedicated lanes: these groups get their own workers and are kept off the general lanes. */
  lanes: Array<{ groups: string[]; workers: number }>;
  httpPort: number;
  nudgePort: number;
  /** Where nudges are received: 127.0.0.1, ::1, or both for `localhost` (PHP may resolve it to either). */
  nudgeHost: NudgeHost;
  /** --batch-size (or its variable) was given: it then wins over the site's action_scheduler_queue_runner_batch_size. */
  batchSizeExplicit: boolean;
  heartbeatMs: number;
  maintenanceMs: number;
  shutdownTimeoutMs: number;
  once: boolean;
  phpBinary: string;
  wpBinary: string;
  restUrl: string;
  restHeaders: Record<string, string>;
  secret: string;
  db: { host?: string; port?: number; socketPath?: string; user: string; password: string; database: string };
  tablePrefix: string;
  logLevel: string;
  help: boolean;
  /** MULTISITE from wp-config.php (or --multisite): serve every site of the network. */
  multisite: boolean;
}

type Raw = Record<string, string | number | boolean | undefined>;

export type NudgeHost = '127.0.0.1' | '::1' | 'localhost';

/**
 * SIDECAR_SCHEDULER_NUDGE: udp://127.0.0.1:PORT, udp://localhost:PORT or udp://[::1]:PORT. The sidecar listens on
 * loopback only (nudges carry no signature), so any other address is refused rather than silently never received.
 */
export function parseNudgeAddress(address: string): { host: NudgeHost; port: number } {
  const m = /^udp:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/i.exec(address.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(
      `SIDECAR_SCHEDULER_NUDGE "${address}" is not udp://127.0.0.1:PORT, udp://localhost:PORT or udp://[::1]:PORT (the sidecar receives nudges on loopback only); fix it in wp-config.php or pass --nudge-port`,
    );
  }
  const host = m[1].toLowerCase();
  return { host: host === '[::1]' ? '::1' : (host as NudgeHost), port };
}

function collect(argv: string[], env: Record<string, string | undefined>, explicit = new Set<string>()): Raw {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const o of OPTIONS) spec[o.name] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const raw: Raw = {};
  for (const o of OPTIONS) {
    const fromFlag = (parsed.values as Raw)[o.name];
    const fromEnv = env[envName(o.name)];
    if (fromFlag !== undefined || fromEnv !== undefined) explicit.add(o.name);
    let v: string | number | boolean | undefined = fromFlag ?? fromEnv ?? o.default;
    if (o.type === 'number' && v !== undefined) {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${o.name} must be a non-negative number, got "${v}"`);
      v = n;
    }
    if (o.type === 'boolean' && typeof v === 'string') v = !['', '0', 'false', 'no'].includes(v.toLowerCase());
    raw[o.name] = v;
  }
  return raw;
}

export function findWpConfig(wpPath: string): string {
  const here = join(wpPath, 'wp-config.php');
  if (existsSync(here)) return here;
  const above = join(dirname(resolve(wpPath)), 'wp-config.php');
  if (existsSync(above)) return above; // WordPress also looks one folder up.
  throw new ConfigError(`no wp-config.php in ${wpPath} or its parent`);
}

export function parseLanes(spec: string): Array<{ groups: string[]; workers: number }> {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([^:]+):(\d+)$/.exec(part);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 64) {
        throw new ConfigError(`--lanes entry "${part}" is not "group[+group...]:workers" (1-64 workers)`);
      }
      return {
        groups: m[1]
          .split('+')
          .map((g) => g.trim())
          .filter(Boolean),
        workers: Number(m[2]),
      };
    });
}

export function parseHeaders(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const i = part.indexOf(':');
    if (i <= 0) throw new ConfigError(`--rest-headers entry "${part}" is not "Name: value"`);
    const name = part.slice(0, i).trim();
    if (!/^[A-Za-z0-9-]+$/.test(name)) throw new ConfigError(`--rest-headers: "${name}" is not a header name`);
    out[name] = part.slice(i + 1).trim();
  }
  return out;
}

const list = (v: unknown) =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function loadConfig(argv: string[], env: Record<string, string | undefined>): SidecarConfig {
  const explicit = new Set<string>();
  const raw = collect(argv, env, explicit);
  if (raw.help) return { help: true } as SidecarConfig;
  let constants: Record<string, unknown> = {};
  let prefix: string | undefined;
  const wpPath = raw.path ? String(raw.path) : undefined;
  if (wpPath) {
    const values = readWpConfigFile(findWpConfig(wpPath), env);
    constants = values.constants;
    prefix = values.tablePrefix;
    const needed = ['DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST'].filter(
      (n) => raw[`db-${n.slice(3).toLowerCase()}`] === undefined,
    );
    for (const n of needed) {
      if (values.unresolved[n]) {
        throw new ConfigError(
          `cannot evaluate ${n} in wp-config.php (${values.unresolved[n]}); pass --db-${n.slice(3).toLowerCase()} or ${envName('db-' + n.slice(3).toLowerCase())}`,
        );
      }
    }
    if (values.unresolved.table_prefix && raw['table-prefix'] === undefined) {
      throw new ConfigError(
        `cannot evaluate $table_prefix in wp-config.php (${values.unresolved.table_prefix}); pass --table-prefix`,
      );
    }
  }
  const pick = (flag: string, constant: string): string | undefined => {
    if (raw[flag] !== undefined) return String(raw[flag]);
    const c = constants[constant];
    return c === undefined || c === null ? undefined : String(c);
  };
  const dbHost = pick('db-host', 'DB_HOST');
  const database = pick('db-name', 'DB_NAME');
  const user = pick('db-user', 'DB_USER');
  const password = pick('db-password', 'DB_PASSWORD') ?? '';
  const tablePrefix = raw['table-prefix'] !== undefined ? String(raw['table-prefix']) : (prefix ?? 'wp_');
  if (!dbHost || !database || !user) {
    throw new ConfigError(
      'database settings missing: give --path=<WordPress root> or --db-host, --db-name and --db-user',
    );
  }
  if (!/^[A-Za-z0-9_]+$/.test(tablePrefix)) {
    throw new ConfigError(`table prefix "${tablePrefix}" may only contain letters, digits and underscores`);
  }

  const channel = String(raw.channel);
  if (!['auto', 'wp-cli', 'php', 'rest'].includes(channel)) {
    throw new ConfigError(`--channel must be wp-cli, php, rest or auto, got "${channel}"`);
  }
  if ((channel === 'php' || channel === 'wp-cli') && !wpPath) {
    throw new ConfigError(`--channel=${channel} needs --path`);
  }
  let nudgePort = Number(raw['nudge-port']);
  if (nudgePort > 65535) throw new ConfigError(`--nudge-port must be a UDP port (1-65535), got "${nudgePort}"`);
  let nudgeHost: NudgeHost = '127.0.0.1';
  const nudgeConst = constants.SIDECAR_SCHEDULER_NUDGE;
  if (typeof nudgeConst === 'string' && nudgeConst !== '') {
    if (!nudgePort) ({ host: nudgeHost, port: nudgePort } = parseNudgeAddress(nudgeConst));
    else {
      // --nudge-port wins; listen where PHP sends when the constant names the same port on another loopback form.
      try {
        const c = parseNudgeAddress(nudgeConst);
        if (c.port === nudgePort) nudgeHost = c.host;
      } catch {
        /* the flag decides */
      }
    }
  }
  const workers = Number(raw.workers);
  if (workers < 1 || workers > 256) throw new ConfigError('--workers must be between 1 and 256');
  const batchSize = Number(raw['batch-size']);
  if (batchSize < 1 || batchSize > 5000) throw new ConfigError('--batch-size must be between 1 and 5000');
  const startWindowMs = Number(raw['start-window-ms']);
  if (!(startWindowMs >= 0 && startWindowMs <= 1000)) {
    throw new ConfigError('--start-window-ms must be between 0 and 1000');
  }
  const url = String(raw.url ?? '');
  return {
    wpPath,
    url,
    channel: channel as SidecarConfig['channel'],
    workers,
    batchSize,
    startWindowMs,
    pollMs: Math.max(10, Number(raw['poll-ms'])),
    actionTimeoutSec: Number(raw['action-timeout']),
    maxJobsPerWorker: Math.max(1, Number(raw['max-jobs-per-worker'])),
    maxWorkerMemoryMb: Math.max(16, Number(raw['max-worker-memory-mb'])),
    groups: list(raw.groups),
    excludeGroups: list(raw['exclude-groups']),
    lanes: parseLanes(String(raw.lanes ?? '')),
    httpPort: Number(raw['http-port']),
    nudgePort,
    nudgeHost,
    batchSizeExplicit: explicit.has('batch-size'),
    heartbeatMs: Math.max(250, Number(raw['heartbeat-ms'])),
    maintenanceMs: Math.max(1000, Number(raw['maintenance-ms'])),
    shutdownTimeoutMs: Number(raw['shutdown-timeout-ms']),
    once: Boolean(raw.once),
    phpBinary: String(raw['php-binary']),
    wpBinary: String(raw['wp-binary']),
    restUrl: String(
      raw['rest-url'] || (url ? `${url.replace(/\/$/, '')}/wp-json/sidecar-scheduler/v1/runner/execute` : ''),
    ),
    restHeaders: parseHeaders(String(raw['rest-headers'] ?? '')),
    secret: String(
      raw.secret || (typeof constants.SIDECAR_SCHEDULER_SECRET === 'string' ? constants.SIDECAR_SCHEDULER_SECRET : ''),
    ),
    db: { ...parseDbHost(dbHost), user, password, database },
    tablePrefix,
    logLevel: String(raw['log-level']),
    help: false,
    multisite:
      Boolean(raw.multisite) ||
      constants.MULTISITE === true ||
      constants.MULTISITE === 1 ||
      constants.MULTISITE === '1',
  };
}
