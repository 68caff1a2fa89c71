// Entry point: composes the process (config, pools, sites, nudges, health) from argv and env, wires the signals to
// Shutdown, and is the only place that exits the process. Exit codes are listed in --help.
import type { Socket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { ConfigError, loadConfig, SidecarConfig } from './config/config';
import { helpText } from './config/options';
import { WpConfigError } from './config/wp-config-reader';
import { checkSchema, createPool, SchemaError, tableNames, isConnectionError, limitStatements } from './db/database';
import { resolveGroupIds } from './db/groups';
import { Metrics } from './metrics';
import type { Sidecar } from './sidecar';
import { SidecarSet } from './sidecar-set';
import { siteBuilder } from './site-builder';
import { Shutdown } from './shutdown';
import { discoverSites, Site } from './sites';
import { startHttp } from './http/server';
import { listenForNudges } from './nudge-listener';
import { isConfigFailure, withStartRetry } from './startup';

const EXIT = { OK: 0, USAGE: 64, UNAVAILABLE: 69, SOFTWARE: 70, CONFIG: 78 };
/** The longest any statement of the sidecar may run (claims and releases take milliseconds). */
const SESSION_STATEMENT_SECONDS = 60;

function pickChannel(config: SidecarConfig): 'wp-cli' | 'php' | 'rest' {
  if (config.channel !== 'auto') return config.channel;
  try {
    execFileSync(config.wpBinary, ['--version'], { stdio: 'ignore' });
    return 'wp-cli';
  } catch {
    return 'php';
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: SidecarConfig;
  try {
    config = loadConfig(argv, env);
  } catch (e) {
    process.stderr.write(`sidecar-scheduler: ${(e as Error).message}\n`);
    return e instanceof ConfigError && /Unknown option|must be|needs|is not "/.test((e as Error).message)
      ? EXIT.USAGE
      : EXIT.CONFIG;
  }
  if (config.help) {
    process.stdout.write(helpText() + '\n');
    return EXIT.OK;
  }
  const log = pino({ level: config.logLevel, base: { pid: process.pid, svc: 'sidecar-scheduler' } });
  const channel = pickChannel(config);
  const tables = tableNames(config.tablePrefix);
  const pool = createPool(config, config.workers * 2 + 4);
  // The claimers' own pool: up to two connections per lane (a lane's next claim overlaps its previous release; the
  // sites of a network share them, and a lane waits for a free one).
  const claimPool = createPool(config, 2 * (config.workers + config.lanes.reduce((n, l) => n + l.workers, 0)) + 2, {
    multipleStatements: true,
  });
  const endPools = () => Promise.all([pool.end(), claimPool.end()]).catch(() => undefined);
  // A ceiling for every statement of the sidecar (MariaDB; MySQL has no such variable and answers an error that is
  // ignored): a lock held elsewhere or a stalled table then ends in an error the loop handles, never in a hang.
  // Periodic statements get tighter limits of their own (db/timed.ts).
  for (const p of [pool, claimPool]) limitStatements(p, SESSION_STATEMENT_SECONDS);

  // Signals are handled from here on: a stop during start-up retries ends them, a started sidecar stops cleanly, and
  // a second signal exits at once (running actions are abandoned: their PHP workers finish the action they are
  // running and exit, and their claims are reset by the stale-claim cleaner).
  const set = new SidecarSet();
  const shutdown = new Shutdown({
    onStop: (reason) => {
      log.info(
        { signal: reason, deadlineMs: config.shutdownTimeoutMs },
        'stopping: no new claims; waiting for running actions',
      );
      return set.stop(config.shutdownTimeoutMs).then(
        (clean) => log.info({ clean }, 'stopped'),
        (e) => log.error({ err: e.message }, 'error while stopping'),
      );
    },
    forceExit: (code, signal) => {
      log.warn(
        { signal, code, running: set.running.length },
        'second signal: exiting now without waiting for running actions',
      );
      process.exit(code);
    },
  });
  const stopping = () => shutdown.stopping;
  // --once is for cron: it retries a transient start-up failure for about a minute, then exits 69 (the next run tries again).
  const retryOpts = { giveUp: (n: number) => config.once && n >= 5, stopped: stopping, sleep: shutdown.sleep };
  process.on('SIGTERM', () => shutdown.signal('SIGTERM'));
  process.on('SIGINT', () => shutdown.signal('SIGINT'));

  let schema;
  try {
    schema = await withStartRetry(
      () => checkSchema(pool, tables),
      (e, n, waitMs) =>
        log.error(
          { err: (e as Error).message, code: (e as { code?: string }).code, attempt: n, retryInMs: waitMs },
          'database unavailable at start; retrying',
        ),
      retryOpts,
    );
  } catch (e) {
    await endPools();
    if (stopping()) return EXIT.OK;
    if (e instanceof SchemaError) {
      log.fatal({ err: e.message }, 'refusing to start');
      return EXIT.CONFIG;
    }
    log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, 'database unavailable');
    return isConnectionError(e) || /Access denied|Unknown database/.test((e as Error).message)
      ? EXIT.UNAVAILABLE
      : EXIT.SOFTWARE;
  }
  const metrics = new Metrics();
  const workerEnv = { ...env, WP_TABLE_PREFIX: env.WP_TABLE_PREFIX ?? config.tablePrefix };
  const buildSite = siteBuilder({
    config,
    log,
    metrics,
    pool,
    claimPool,
    channel,
    skipLocked: schema.skipLocked,
    mariadb: /mariadb/i.test(schema.server),
    workerEnv,
  });

  let sites: Site[];
  try {
    sites = await withStartRetry(
      () => discoverSites(pool, config.tablePrefix, config.multisite, config.url),
      (e, n, waitMs) =>
        log.error(
          { err: (e as Error).message, attempt: n, retryInMs: waitMs },
          'site discovery failed at start; retrying',
        ),
      retryOpts,
    );
    if (config.groups.length && !(await resolveGroupIds(pool, tables, config.groups)).length) {
      log.fatal({ groups: config.groups }, 'none of the --groups exist');
      await endPools();
      return EXIT.CONFIG;
    }
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'could not list the sites to serve');
    await endPools();
    return isConfigFailure(e) ? EXIT.CONFIG : EXIT.UNAVAILABLE;
  }
  let udp: Socket[] = [];
  try {
    if (!config.once && config.nudgePort) {
      udp = await listenForNudges(config.nudgeHost, config.nudgePort, log, (prefix) => set.nudge(prefix));
    }
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'refusing to start');
    await endPools();
    return EXIT.CONFIG;
  }
  // Health is served from the start: while a site's workers cannot start yet, /healthz says so (503).
  const server =
    !config.once && config.httpPort
      ? await startHttp(config.httpPort, set, metrics).catch((e) => {
          log.error({ err: e.message, port: config.httpPort }, 'http port unavailable; health endpoint off');
          return undefined;
        })
      : undefined;

  /**
   * Starts one site's sidecar and runs it until stop (or, with --once, until drained). A transient failure to start
   * (workers that cannot reach the database, a route down, a database flap) is retried with backoff for this site
   * alone; the other sites of a network keep running. A configuration failure ends the attempt (and the process, for
   * the main site).
   */
  let fatal: unknown;
  let unavailable = false;
  const serve = async (site: Site, isMain: boolean) => {
    let s: Sidecar | undefined;
    try {
      s = await withStartRetry(
        () => buildSite(site),
        (e, n, waitMs) => {
          set.starting(site.prefix, (e as Error).message);
          log.error(
            { site: site.url, err: (e as Error).message, attempt: n, retryInMs: waitMs },
            'could not start PHP workers; retrying',
          );
        },
        retryOpts,
      );
    } catch (e) {
      set.started(site.prefix);
      if (stopping()) return;
      if (isConfigFailure(e) && isMain) {
        log.fatal({ site: site.url, err: (e as Error).message }, 'could not start PHP workers');
        fatal = e;
        shutdown.stop('fatal');
        return;
      }
      if (!isConfigFailure(e)) unavailable = true;
      log.error(
        { site: site.url, err: (e as Error).message },
        isConfigFailure(e) ? 'site not served: configuration problem' : 'site not served: could not start PHP workers',
      );
      return;
    }
    set.started(site.prefix);
    if (!s) return;
    if (stopping()) {
      await s.stop(0).catch(() => undefined);
      return;
    }
    set.add(s);
    if (isMain) logReady();
    else log.info({ site: site.url }, 'serving site');
    await s.run();
    // --once left a dead worker's outcomes unwritten: not a clean run (69, as for a site it could not serve).
    if (s.recoveryAbandoned) unavailable = true;
    // --once: each site says goodbye as soon as it is drained (its heartbeat row goes, its workers stop).
    if (config.once && !stopping()) await s.stop(config.shutdownTimeoutMs);
  };
  // "ready" once the main site serves (the other sites of a network start beside it, each when it can).
  const logReady = () =>
    log.info(
      {
        channel,
        workers: config.workers,
        prefix: config.tablePrefix,
        sites: sites.length,
        multisite: config.multisite,
        server: schema.server,
        skipLocked: schema.skipLocked,
        http: server ? config.httpPort : null,
        nudge: udp.length ? `${config.nudgeHost}:${config.nudgePort}` : null,
      },
      'ready',
    );
  const running = sites.map((site) => serve(site, site.prefix === config.tablePrefix));

  // New sites of a network are picked up without a restart; a scan still running when the next is due is not stacked.
  let scanning = false;
  const serving = new Set<string>();
  const rescan =
    config.multisite && !config.once
      ? setInterval(async () => {
          if (scanning || stopping()) return;
          scanning = true;
          try {
            for (const site of await discoverSites(pool, config.tablePrefix, true, config.url)) {
              if (set.has(site.prefix) || set.isStarting(site.prefix) || serving.has(site.prefix)) continue;
              serving.add(site.prefix);
              running.push(serve(site, false).finally(() => serving.delete(site.prefix)));
            }
          } catch (e) {
            log.warn({ err: (e as Error).message }, 'site discovery failed');
          } finally {
            scanning = false;
          }
        }, 60_000)
      : undefined;

  // Settles as sites are added by the rescan too.
  for (let n = 0; n < running.length; n++) await running[n];
  if (rescan) clearInterval(rescan);
  // The pool must outlive stop(): it writes the last heartbeat and removes this sidecar's row.
  if (shutdown.finished) await shutdown.finished;
  server?.close();
  for (const u of udp) u.close();
  await endPools();
  log.info({ executed: set.executedTotal }, 'exit');
  if (fatal) return EXIT.CONFIG;
  if (config.once && unavailable) return EXIT.UNAVAILABLE;
  return EXIT.OK;
}

export function run() {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e) => {
      const expected = e instanceof WpConfigError || e instanceof ConfigError;
      process.stderr.write(`sidecar-scheduler: ${expected ? e.message : e.stack}\n`);
      process.exit(expected ? EXIT.CONFIG : EXIT.SOFTWARE);
    },
  );
}
