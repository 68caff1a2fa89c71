// Composition of one site's sidecar: its claimers (general and dedicated group lanes), its execution channel
// (PHP, WP-CLI or rest) and the Sidecar that runs them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SidecarConfig } from './config/config';
import { Claimer } from './claim/claimer';
import { contract } from './contract';
import { Controls } from './claim/controls';
import { checkSchema, Pool, tableNames } from './db/database';
import { resolveGroupIds } from './db/groups';
import { readActionState } from './db/action-state';
import { SiteTime } from './db/site-time';
import type { Executor } from './execute/executor';
import { ProcessExecutor } from './execute/process-executor';
import { RestExecutor } from './execute/rest-executor';
import { SiteSecret } from './execute/rest-secret';
import type { Metrics } from './metrics';
import { Sidecar, LanePlan } from './sidecar';
import type { Site } from './sites';

export interface SiteBuilderDeps {
  config: SidecarConfig;
  log: Logger;
  metrics: Metrics;
  pool: Pool;
  claimPool: Pool;
  channel: 'wp-cli' | 'php' | 'rest';
  skipLocked: boolean;
  mariadb: boolean;
  /** The environment PHP workers get (the process's, with the table prefix). */
  workerEnv: NodeJS.ProcessEnv;
}

/** The worker script shipped beside the sidecar (a checkout or package), else the one of the installed plugin. */
const pluginWorker = join(__dirname, '..', '..', 'plugin', 'bin', 'worker.php');

/** One Sidecar per site: its own tables, claims, heartbeat and workers (bound to the site's URL); undefined to skip it. */
export function siteBuilder(d: SiteBuilderDeps): (site: Site) => Promise<Sidecar | undefined> {
  const { config, log, pool, claimPool, channel } = d;
  return async (site) => {
    const t = tableNames(site.prefix);
    if (site.prefix !== config.tablePrefix) {
      try {
        await checkSchema(pool, t);
      } catch (e) {
        log.warn(
          { site: site.url, err: (e as Error).message },
          'skipping site: its tables are not ready (is the plugin active there?)',
        );
        return undefined;
      }
    }
    const time = await SiteTime.load(pool, t.options);
    // Groups with lanes of their own are kept off the general lanes.
    const laneGroups = config.lanes.flatMap((l) => l.groups);
    // Pauses (and group limits) published by PHP: loaded before the first claim, then every second.
    const controls = new Controls(pool, t, site.prefix, d.metrics, (e) =>
      log.debug({ site: site.url, err: e.message }, 'controls not reloaded'),
    );
    await controls.refresh();
    controls.start();
    const claimer = new Claimer(
      claimPool,
      t,
      time,
      d.skipLocked,
      {
        groupIds: await resolveGroupIds(pool, t, config.groups),
        excludeGroupIds: await resolveGroupIds(pool, t, [...config.excludeGroups, ...laneGroups]),
      },
      controls,
    );
    const dedicated: LanePlan[] = [];
    for (const lane of config.lanes) {
      const ids = await resolveGroupIds(pool, t, lane.groups);
      if (!ids.length) {
        log.warn(
          { site: site.url, groups: lane.groups },
          'lane groups do not exist (yet) on this site; lane not started',
        );
        continue;
      }
      dedicated.push({
        claimer: new Claimer(claimPool, t, time, d.skipLocked, { groupIds: ids, excludeGroupIds: [] }, controls),
        count: lane.workers,
        label: lane.groups.join('+'),
      });
    }
    // The rest channel: the site's secret (created if the site has none yet) and how to read a row when the route
    // gave no answer (RestExecutor.run()). Shared by the site's lanes, so a re-read after a 401 serves them all.
    const secret = new SiteSecret(pool, t.options, config.secret);
    if (channel === 'rest') await secret.reload();
    const probe = (id: number) => readActionState(pool, t, id);
    // The executors ask the sidecar for the time limit, which it reads from PHP at start.
    const ref: { sidecar?: Sidecar } = {};
    const timeout = () => ref.sidecar?.actionTimeoutSec() ?? 300;
    const url = config.multisite ? site.url : config.url;
    const makeExecutor = (i: number | 'maintenance'): Executor => {
      // The maintenance pass's worker says so on its command line (PHP ignores the option), so `ps` tells it from a
      // lane's worker: an operator sees which PHP process is the cleanup, and tests count the lanes' workers.
      const extraArgs = [...(url ? [`--url=${url}`] : []), ...(i === 'maintenance' ? ['--role=maintenance'] : [])];
      if (channel === 'rest') {
        return new RestExecutor({
          url: config.multisite
            ? `${site.url.replace(/\/$/, '')}/wp-json/${contract.rest.NAMESPACE}${contract.rest.RUN_ROUTE}`
            : config.restUrl,
          secret,
          timeoutSec: timeout,
          extraHeaders: config.restHeaders,
          blogId: site.blogId,
          probe,
        });
      }
      if (channel === 'wp-cli') {
        return new ProcessExecutor(
          {
            command: config.wpBinary,
            args: ['sidecar-scheduler', 'work', `--path=${config.wpPath}`, ...extraArgs],
            env: d.workerEnv,
            label: `wp-cli#${site.blogId}.${i}`,
          },
          log,
          timeout,
        );
      }
      const script = existsSync(pluginWorker)
        ? pluginWorker
        : join(config.wpPath!, 'wp-content/plugins/sidecar-scheduler/bin/worker.php');
      return new ProcessExecutor(
        {
          command: config.phpBinary,
          args: [script, `--path=${config.wpPath}`, ...extraArgs],
          env: d.workerEnv,
          label: `php#${site.blogId}.${i}`,
        },
        log,
        timeout,
      );
    };
    const sidecar = new Sidecar({
      config,
      pool,
      tables: t,
      claimer,
      dedicated,
      log: log.child({ site: site.blogId }),
      metrics: d.metrics,
      makeExecutor,
      channel,
      siteKey: site.prefix,
      mariadb: d.mariadb,
    });
    ref.sidecar = sidecar;
    await sidecar.start();
    return sidecar;
  };
}
