// The sidecar's maintenance under --once, the library's runner filters, start-up failures that pass, and health
// under a stalled database, against the real stack.
import { createServer, connect, Server } from 'node:net';
import {
  installSite,
  php,
  rows,
  db,
  startSidecar,
  exited,
  dropPrefix,
  eventually,
  SOCKET,
  PREFIX_SITE,
  OURS,
  BUNDLER_AFTER,
} from '../helpers/stack';

const PREFIX = 'tnops_';
const COMPANION = 'tnopc_';
const runs = `${PREFIX}sidecar_test_runs`;
const actions = `${PREFIX}actionscheduler_actions`;
const DB_PORT = Number(process.env.SIDECAR_STACK_DB_PORT ?? '33306');

const lastLine = (out: string) => out.trim().split('\n').pop()!;
const enqueue = (code: string, env: Record<string, string> = {}) =>
  JSON.parse(lastLine(php(PREFIX, `$ids = array(); ${code} echo json_encode($ids);`, env))) as number[];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  for (const [prefix, plugins] of [
    [PREFIX, [OURS]],
    [COMPANION, [OURS, BUNDLER_AFTER]],
  ] as const) {
    await dropPrefix(prefix);
    installSite(prefix, [...plugins]);
    php(
      prefix,
      `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
    );
  }
});

test.each([
  ['standalone', PREFIX],
  ["companion (the real library's cleaner)", COMPANION],
])(
  '--once runs the maintenance pass, %s: a stale claim is reset (and its action then runs), a stuck action is failed, an old row is deleted',
  async (_mode, prefix) => {
    const actionsTable = `${prefix}actionscheduler_actions`;
    const runsTable = `${prefix}sidecar_test_runs`;
    const [stale, stuck, old] = JSON.parse(
      lastLine(
        php(
          prefix,
          `$ids = array(); 
    global $wpdb;
    $ids[] = as_schedule_single_action(time() - 60, 'sidecar_test_count', array(42001), 'maint');
    $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('stuck'), 'maint');
    $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('old'), 'maint');
    $wpdb->insert($wpdb->prefix . 'actionscheduler_claims', array('date_created_gmt' => '2000-01-01 00:00:00'));
    $claim = $wpdb->insert_id;
    $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('claim_id' => $claim, 'last_attempt_gmt' => '2000-01-01 00:00:00', 'last_attempt_local' => '2000-01-01 00:00:00'), array('action_id' => $ids[0]));
    $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('status' => 'in-progress', 'last_attempt_gmt' => '2000-01-01 00:00:00', 'last_attempt_local' => '2000-01-01 00:00:00'), array('action_id' => $ids[1]));
    $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('status' => 'complete', 'last_attempt_gmt' => '2000-01-01 00:00:00', 'last_attempt_local' => '2000-01-01 00:00:00'), array('action_id' => $ids[2]));
  echo json_encode($ids);`,
        ),
      ),
    ) as number[];
    const s = startSidecar(prefix, ['--once', '--workers=1']);
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toContain(`"mode":"${prefix === PREFIX ? 'standalone' : 'companion'}"`);
    const logs = async (id: number) =>
      (await rows(`SELECT message FROM ${prefix}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id])).map(
        (r: any) => r.message,
      );
    // 1. The stale claim was reset ("action reset"), then the action ran once in the same --once run.
    const [a] = await rows(`SELECT status, claim_id FROM ${actionsTable} WHERE action_id = ?`, [stale]);
    expect([a.status, Number(a.claim_id)]).toEqual(['complete', 0]);
    expect(await logs(stale)).toEqual([
      'action created',
      'action reset',
      'action started via Sidecar',
      'action complete via Sidecar',
    ]);
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${runsTable} WHERE n = 42001`))[0].n)).toBe(1);
    // 2. The action stuck in progress was failed with the library's text and failure period.
    expect((await rows(`SELECT status FROM ${actionsTable} WHERE action_id = ?`, [stuck]))[0].status).toBe('failed');
    expect((await logs(stuck)).pop()).toBe(
      'action marked as failed after 300 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.',
    );
    // 3. The complete row past the retention period is gone, with its logs.
    expect(await rows(`SELECT action_id FROM ${actionsTable} WHERE action_id = ?`, [old])).toEqual([]);
    expect(await logs(old)).toEqual([]);
  },
);

test('the maintenance pass reads the two periods as the library does: a raised timeout period leaves the failure period at its default', async () => {
  // 400 s ago: past the failure period (300 s by default), within the raised timeout period (1,000 s).
  const [claimed, stuck] = enqueue(`
    global $wpdb;
    $ago = gmdate('Y-m-d H:i:s', time() - 400);
    $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('claimed-400'), 'periods');
    $ids[] = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('stuck-400'), 'periods');
    $wpdb->insert($wpdb->prefix . 'actionscheduler_claims', array('date_created_gmt' => $ago));
    $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('claim_id' => $wpdb->insert_id, 'last_attempt_gmt' => $ago), array('action_id' => $ids[0]));
    $wpdb->update($wpdb->prefix . 'actionscheduler_actions', array('status' => 'in-progress', 'last_attempt_gmt' => $ago), array('action_id' => $ids[1]));
  `);
  const s = startSidecar(PREFIX, ['--once', '--workers=1'], {
    SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({ action_scheduler_timeout_period: 1000 }),
  });
  expect(await exited(s)).toBe(0);
  const [c] = await rows(`SELECT status, claim_id FROM ${actions} WHERE action_id = ?`, [claimed]);
  expect(c.status).toBe('pending');
  expect(Number(c.claim_id)).toBeGreaterThan(0); // not reset: younger than the timeout period
  expect((await rows(`SELECT status FROM ${actions} WHERE action_id = ?`, [stuck]))[0].status).toBe('failed');
  await rows(`UPDATE ${actions} SET claim_id = 0 WHERE action_id = ?`, [claimed]);
  php(PREFIX, `as_unschedule_all_actions('', array(), 'periods');`);
});

describe("the library's runner filters under the sidecar", () => {
  const claimSizes = async (lo: number) => {
    const r = await rows(`SELECT n AS claim, COUNT(*) AS c FROM ${runs} WHERE id > ? GROUP BY n ORDER BY MIN(id)`, [
      lo,
    ]);
    return r.map((x: any) => Number(x.c));
  };
  const maxRun = async () => Number((await rows(`SELECT COALESCE(MAX(id), 0) AS m FROM ${runs}`))[0].m);

  test('action_scheduler_queue_runner_batch_size caps each claim; --batch-size, when given, wins', async () => {
    const filters = {
      SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({
        action_scheduler_queue_runner_batch_size: 3,
        action_scheduler_queue_runner_concurrent_batches: 4,
      }),
    };
    let lo = await maxRun();
    enqueue(
      `for ($i = 0; $i < 10; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_claim', array($i), 'filters'); }`,
    );
    const s = startSidecar(PREFIX, ['--once', '--workers=1'], filters);
    expect(await exited(s)).toBe(0);
    expect(await claimSizes(lo)).toEqual([3, 3, 3, 1]);
    // concurrent_batches is not used (--workers decides), and the sidecar says so.
    expect(s.output.join('')).toContain(
      'action_scheduler_queue_runner_concurrent_batches is not used: --workers (and --lanes) set how many actions run at once',
    );
    lo = await maxRun();
    enqueue(
      `for ($i = 0; $i < 10; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_claim', array($i), 'filters'); }`,
    );
    const t = startSidecar(PREFIX, ['--once', '--workers=1', '--batch-size=5'], filters);
    expect(await exited(t)).toBe(0);
    expect(await claimSizes(lo)).toEqual([5, 5]);
  });

  test('a raised action_scheduler_failure_period lets a long action finish (our own limit is never below it)', async () => {
    // Our limit says 2 s, the site's failure period 6 s: the library would let a 4 s action run, and so do we.
    const [id] = enqueue(`$ids[] = as_enqueue_async_action('sidecar_test_sleep', array(4), 'filters');`);
    const s = startSidecar(PREFIX, ['--once', '--workers=1'], {
      SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({
        action_scheduler_failure_period: 6,
        sidecar_scheduler_action_time_limit: 2,
      }),
    });
    expect(await exited(s)).toBe(0);
    expect(s.output.join('')).toContain('"actionTimeoutSec":6');
    expect((await rows(`SELECT status FROM ${actions} WHERE action_id = ?`, [id]))[0].status).toBe('complete');
  });

  test('action_scheduler_queue_runner_time_limit sets the default periods (10 times it), and so the per-action limit', async () => {
    const s = startSidecar(PREFIX, ['--once', '--workers=1'], {
      SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({ action_scheduler_queue_runner_time_limit: 2 }),
    });
    expect(await exited(s)).toBe(0);
    const out = s.output.join('');
    expect(out).toContain('"time_limit":2,"timeout_period":20,"failure_period":20');
    expect(out).toContain('"actionTimeoutSec":20');
  });

  test("a lowered failure period is the limit: the action is failed after it, with the library's text", async () => {
    const [id] = enqueue(`$ids[] = as_enqueue_async_action('sidecar_test_sleep', array(30), 'filters');`);
    const s = startSidecar(PREFIX, ['--once', '--workers=1'], {
      SIDECAR_TEST_RUNNER_FILTERS: JSON.stringify({ action_scheduler_failure_period: 2 }),
    });
    expect(await exited(s)).toBe(0);
    expect((await rows(`SELECT status FROM ${actions} WHERE action_id = ?`, [id]))[0].status).toBe('failed');
    const logs = (
      await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id])
    ).map((r: any) => r.message);
    expect(logs.pop()).toBe(
      'action marked as failed after 2 seconds. Unknown error occurred. Check server, PHP and database error logs to diagnose cause.',
    );
  });
});

/** A TCP proxy to MariaDB that refuses connections until open() is called (a database the workers cannot reach yet). */
async function dbProxy(): Promise<{ port: number; open: () => Promise<void>; close: () => void }> {
  const port = await freePort();
  let server: Server | undefined;
  const sockets = new Set<import('node:net').Socket>();
  return {
    port,
    open: () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const upstream = connect(DB_PORT, '127.0.0.1');
          sockets.add(client);
          sockets.add(upstream);
          client.pipe(upstream);
          upstream.pipe(client);
          const end = () => {
            client.destroy();
            upstream.destroy();
          };
          client.on('error', end);
          upstream.on('error', end);
          client.on('close', end);
          upstream.on('close', end);
        });
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    close: () => {
      for (const s of sockets) s.destroy();
      server?.close();
    },
  };
}

test('workers that cannot reach the database at start: the sidecar retries with backoff, then drains (not exit 78)', async () => {
  const proxy = await dbProxy();
  const ids = enqueue(
    `for ($i = 0; $i < 20; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_count', array(43000 + $i), 'startup'); }`,
  );
  // The sidecar itself uses the socket; its workers' wp-config.php reads WP_DB_HOST: the proxy, closed for 3 s.
  const s = startSidecar(PREFIX, ['--once', '--workers=2', `--db-host=localhost:${SOCKET}`], {
    WP_DB_HOST: `127.0.0.1:${proxy.port}`,
  });
  const opened = new Promise((r) => setTimeout(r, 3000)).then(() => proxy.open());
  try {
    expect(await exited(s)).toBe(0);
    await opened;
    const out = s.output.join('');
    expect(out).toContain('"msg":"could not start PHP workers; retrying"');
    expect(out).toContain('Error establishing a database connection'); // WordPress's own page, printed by the worker at boot
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runs} WHERE n BETWEEN 43000 AND 43019`);
    expect([Number(c.n), Number(c.d)]).toEqual([20, 20]);
    const done = await rows(`SELECT COUNT(*) AS n FROM ${actions} WHERE action_id IN (?) AND status = 'complete'`, [
      ids,
    ]);
    expect(Number(done[0].n)).toBe(20);
  } finally {
    proxy.close();
  }
});

test('rest channel: a runner route that is down at start is retried, then the queue drains', async () => {
  // A TCP proxy to the stack's prefix-selecting server that refuses connections for the first 3 s.
  const port = await freePort();
  let server: Server | undefined;
  const opened = new Promise((r) => setTimeout(r, 3000)).then(
    () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const upstream = connect(Number(new URL(PREFIX_SITE).port), '127.0.0.1');
          client.pipe(upstream);
          upstream.pipe(client);
          const end = () => {
            client.destroy();
            upstream.destroy();
          };
          client.on('error', end);
          upstream.on('error', end);
        });
        server.listen(port, '127.0.0.1', () => resolve());
      }),
  );
  enqueue(
    `for ($i = 0; $i < 5; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_count', array(45000 + $i), 'rest-start'); }`,
  );
  const s = startSidecar(PREFIX, [
    '--once',
    '--channel=rest',
    `--url=http://127.0.0.1:${port}`,
    `--rest-headers=X-WP-Table-Prefix: ${PREFIX}`,
    '--workers=1',
  ]);
  try {
    expect(await exited(s)).toBe(0);
    await opened;
    expect(s.output.join('')).toContain('"msg":"could not start PHP workers; retrying"');
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runs} WHERE n BETWEEN 45000 AND 45004`);
    expect([Number(c.n), Number(c.d)]).toEqual([5, 5]);
  } finally {
    server?.close();
  }
});

test('a real configuration error still exits 78 at once: a PHP binary that does not exist', async () => {
  const s = startSidecar(PREFIX, ['--once', '--workers=1', '--php-binary=/nonexistent/php']);
  expect(await exited(s)).toBe(78);
  expect(s.output.join('')).toMatch(/could not start \/nonexistent\/php: spawn \/nonexistent\/php ENOENT/);
  expect(s.output.join('')).not.toContain('retrying');
});

test('/healthz turns 503 while the heartbeat cannot be written (a lock on its row), says why, and 200 again after; heartbeats do not stack', async () => {
  const http = await freePort();
  const s = startSidecar(PREFIX, ['--workers=1', '--heartbeat-ms=500', `--http-port=${http}`]);
  const health = async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${http}/healthz`);
      return { code: r.status, body: (await r.json()) as any };
    } catch {
      return { code: 0, body: null };
    }
  };
  const holder = await db();
  try {
    const ok = await eventually(health, (h) => h.code === 200, 30000, 100);
    expect(ok.code).toBe(200);
    // `sidecar` names this process's heartbeat row (host:pid:start@prefix); `worker` is the same, under its old name.
    expect(ok.body.sidecar).toMatch(new RegExp(`^[^:]+:${s.pid}:\\d+$`));
    expect(ok.body.worker).toBe(ok.body.sidecar);
    const [row] = await rows(`SELECT sidecar_id FROM ${PREFIX}sidecar_heartbeats WHERE sidecar_id LIKE ?`, [
      `${ok.body.sidecar}@%`,
    ]);
    expect(row?.sidecar_id).toBe(`${ok.body.sidecar}@${PREFIX}`);
    await holder.query('START TRANSACTION');
    await holder.query(`SELECT * FROM ${PREFIX}sidecar_heartbeats FOR UPDATE`);
    const stale = await eventually(health, (h) => h.code === 503, 15000, 100);
    expect(stale.code).toBe(503);
    expect(stale.body.status).toBe('unhealthy');
    expect(stale.body.problems.join('\n')).toMatch(/^heartbeat not written for \d+ ms \(stale after 1500 ms\)$/m);
    // While the lock is held, at most one heartbeat statement waits for it (the in-flight guard), never one per tick.
    let most = 0;
    for (let i = 0; i < 10; i++) {
      const [w] = await rows(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'`,
        [`%INSERT INTO ${PREFIX}sidecar_heartbeats%`],
      );
      most = Math.max(most, Number(w.n));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(most).toBe(1);
    await holder.query('COMMIT');
    const back = await eventually(health, (h) => h.code === 200, 15000, 100);
    expect([back.code, back.body.status, back.body.problems]).toEqual([200, 'ok', []]);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});
