// The rest channel when HTTP goes wrong: a proxy that answers 502 (as during a php-fpm reload) or 504 (as nginx at its
// read timeout, while PHP carries on), the route down for 3 s, a rotated secret, and a real php-fpm reload. A row is
// failed only if its callback started; an action that never started goes back to the queue, and the lane backs off.
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { php, rows, dropPrefix, PREFIX_SITE, DOCROOT, startSidecar, exited, eventually } from '../helpers/stack';
import { countingSite } from '../helpers/sites';
import { startFlakyProxy, FlakyProxy } from '../helpers/flaky-proxy';

// Per process: two runs of this file at once (a full suite beside a single file) must not share a site.
const PREFIX = `tfc${process.pid}_`;
const runs = `${PREFIX}sidecar_test_runs`;
let base = 0;

afterAll(async () => {
  await dropPrefix(PREFIX);
});

beforeAll(async () => {
  await countingSite(PREFIX);
});

/** Enqueues `count` counted actions with arguments base..base+count-1; returns that range. */
function enqueue(count: number): [number, number] {
  const from = (base += 100000);
  php(
    PREFIX,
    `for ($i = 0; $i < ${count}; $i++) { as_enqueue_async_action('sidecar_test_count', array(${from} + $i), 'faults'); }`,
  );
  return [from, from + count - 1];
}

/** Every action of the range ran exactly once and is complete with one attempt; none failed. */
async function expectExactlyOnce([from, to]: [number, number]) {
  const count = to - from + 1;
  const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${runs} WHERE n BETWEEN ? AND ?`, [
    from,
    to,
  ]);
  const byStatus = await rows(
    `SELECT status, attempts, COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_count' AND CAST(TRIM(BOTH ']' FROM TRIM(BOTH '[' FROM args)) AS UNSIGNED) BETWEEN ? AND ? GROUP BY status, attempts`,
    [from, to],
  );
  expect({
    ran: Number(c.n),
    distinct: Number(c.d),
    rows: byStatus.map((r: any) => [r.status, Number(r.attempts), Number(r.n)]),
  }).toEqual({ ran: count, distinct: count, rows: [['complete', 1, count]] });
  const [failedLogs] = await rows(
    `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) WHERE a.hook = 'sidecar_test_count' AND (l.message LIKE 'action failed%' OR l.message LIKE 'action marked as failed%' OR l.message LIKE 'unexpected shutdown%')`,
  );
  expect(Number(failedLogs.n)).toBe(0);
}

const restArgs = (url: string, extra: string[] = []) => [
  '--channel=rest',
  `--url=${url}`,
  `--rest-url=${url}/wp-json/sidecar-scheduler/v1/runner/execute`,
  `--rest-headers=X-WP-Table-Prefix: ${PREFIX}`,
  ...extra,
];

/** A live sidecar on the rest channel through `url` (2 workers), once it says it is ready (or after 30 s). */
async function readySidecar(url: string) {
  const s = startSidecar(PREFIX, ['--workers=2', ...restArgs(url)]);
  await eventually(
    async () => s.output.join(''),
    (o) => o.includes('"msg":"ready"'),
    30000,
    50,
  );
  return s;
}

describe('through a flaky proxy', () => {
  let proxy: FlakyProxy;
  beforeAll(async () => {
    proxy = await startFlakyProxy(PREFIX_SITE, () => 'pass');
  });
  afterAll(() => proxy.close());

  test('502 to one request in ten and 504 to one in fifteen: nothing failed that did not run, every action complete once', async () => {
    const range = enqueue(300);
    proxy.decide = (n) => (n % 10 === 0 ? 502 : n % 15 === 7 ? 504 : 'pass');
    const s = startSidecar(PREFIX, ['--once', '--workers=2', ...restArgs(proxy.url)]);
    expect(await exited(s)).toBe(0);
    await expectExactlyOnce(range);
    // The proxy did its part (so the test cannot pass by not meeting any fault).
    expect(proxy.stats.answered[502]).toBeGreaterThanOrEqual(25);
    expect(proxy.stats.answered[504]).toBeGreaterThanOrEqual(15);
  }, 180000);

  test('the route down for 3 s: a bounded number of requests (it backs off), then it drains', async () => {
    proxy.decide = () => 'pass';
    const s = await readySidecar(proxy.url);
    try {
      proxy.decide = () => 502;
      const before = proxy.stats.requests;
      const range = enqueue(200);
      await new Promise((r) => setTimeout(r, 3000));
      const during = proxy.stats.requests - before;
      proxy.decide = () => 'pass';
      await eventually(
        async () => Number((await rows(`SELECT COUNT(*) AS n FROM ${runs} WHERE n BETWEEN ? AND ?`, range))[0].n),
        (n) => n === 200,
        60000,
        200,
      );
      // 2 lanes, each waiting 100 ms doubling to 5 s between attempts: about 5 requests each in 3 s (before: 2,782).
      expect(during).toBeLessThanOrEqual(20);
      expect(during).toBeGreaterThan(0);
      await expectExactlyOnce(range);
    } finally {
      s.kill('SIGTERM');
      await exited(s, 60000);
    }
  }, 180000);

  test('a rotated secret: the 401s make the sidecar read it again, and every action runs once', async () => {
    proxy.decide = () => 'pass';
    const s = await readySidecar(proxy.url);
    try {
      await rows(`UPDATE ${PREFIX}options SET option_value = ? WHERE option_name = 'sidecar_scheduler_secret'`, [
        'b'.repeat(64),
      ]);
      const before = proxy.stats.answered[401] ?? 0;
      const range = enqueue(50);
      await eventually(
        async () => Number((await rows(`SELECT COUNT(*) AS n FROM ${runs} WHERE n BETWEEN ? AND ?`, range))[0].n),
        (n) => n === 50,
        60000,
        200,
      );
      const unauthorized = (proxy.stats.answered[401] ?? 0) - before;
      expect(unauthorized).toBeGreaterThanOrEqual(1);
      expect(unauthorized).toBeLessThanOrEqual(4); // the requests already under way when it changed, no loop
      await expectExactlyOnce(range);
    } finally {
      s.kill('SIGTERM');
      await exited(s, 60000);
    }
  }, 180000);
});

/** A php-fpm and an nginx of this test's own (the stack's are shared): the same configuration as scripts/stack.sh. */
describe('through a php-fpm reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-fpm-'));
  let fpm: ChildProcess;
  let nginx: ChildProcess;
  let url = '';
  const freePort = () =>
    new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as any).port;
        srv.close(() => resolve(p));
      });
    });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'php-fpm.conf'),
      `[global]
pid = ${dir}/php-fpm.pid
error_log = ${dir}/php-fpm.log
daemonize = no
; a reload lets running requests finish (what a production pool should set), so no callback is cut off midway
process_control_timeout = 20s
[www]
listen = ${dir}/php-fpm.sock
listen.mode = 0660
pm = static
pm.max_children = 3
clear_env = no
php_admin_flag[log_errors] = on
php_admin_value[error_log] = ${dir}/php-error.log
`,
    );
    fpm = spawn('/usr/sbin/php-fpm8.2', ['--nodaemonize', '--fpm-config', join(dir, 'php-fpm.conf'), '-R'], {
      stdio: 'ignore',
    });
    expect(
      await eventually(
        async () => {
          try {
            readFileSync(join(dir, 'php-fpm.pid'));
            return true;
          } catch {
            return false;
          }
        },
        (v) => v,
        20000,
        100,
      ),
    ).toBe(true);
    for (const sub of ['body', 'fastcgi', 'proxy', 'uwsgi', 'scgi']) {
      execFileSync('mkdir', ['-p', join(dir, 'nginx-tmp', sub)]);
    }
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-tmp/body; fastcgi_temp_path ${dir}/nginx-tmp/fastcgi; proxy_temp_path ${dir}/nginx-tmp/proxy;
  uwsgi_temp_path ${dir}/nginx-tmp/uwsgi; scgi_temp_path ${dir}/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${DOCROOT};
    index index.php;
    location / { try_files $uri $uri/ /index.php?$args; }
    location ~ \\.php$ {
      try_files $uri =404;
      include /etc/nginx/fastcgi_params;
      fastcgi_param HTTP_HOST $http_host;
      fastcgi_param WP_TABLE_PREFIX $http_x_wp_table_prefix;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass unix:${dir}/php-fpm.sock;
      fastcgi_read_timeout 600;
    }
  }
}
`,
    );
    nginx = spawn('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'nginx-error.log')], {
      stdio: 'ignore',
    });
    expect(
      await eventually(
        async () => {
          try {
            return (await fetch(`${url}/wp-login.php`, { headers: { 'X-WP-Table-Prefix': PREFIX } })).status;
          } catch {
            return 0;
          }
        },
        (v) => v === 200,
        20000,
        100,
      ),
    ).toBe(200);
  }, 60000);

  afterAll(async () => {
    for (const p of [nginx, fpm]) {
      if (p && p.exitCode === null) {
        p.kill('SIGTERM');
        await exited(p, 30000).catch(() => undefined);
      }
    }
  });

  test('a drain through php-fpm reloads: every action complete exactly once, none failed', async () => {
    const range = enqueue(400);
    const s = startSidecar(PREFIX, ['--once', '--workers=3', ...restArgs(url)]);
    const masterPid = Number(readFileSync(join(dir, 'php-fpm.pid'), 'utf8').trim());
    let reloads = 0;
    // Reload while the drain runs (SIGUSR2: graceful reload, as `systemctl reload php8.2-fpm` does).
    while (s.exitCode === null && reloads < 6) {
      await new Promise((r) => setTimeout(r, 700));
      if (s.exitCode !== null) break;
      process.kill(masterPid, 'SIGUSR2');
      reloads++;
    }
    expect(await exited(s)).toBe(0);
    expect(reloads).toBeGreaterThanOrEqual(3);
    expect(readFileSync(join(dir, 'php-fpm.log'), 'utf8')).toMatch(/Reloading in progress/);
    await expectExactlyOnce(range);
  }, 240000);
});
