// Workers that cannot start for a while: a live sidecar keeps its process (and its other lanes and sites) running,
// says so on /healthz, and heals when PHP can start again.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installSite, php, rows, startSidecar, exited, dropPrefix, eventually } from '../helpers/stack';

const PREFIX = 'tnres_';
const BASE = 'tnms_';
const MS = { WP_MULTISITE: '1' };
const HOST = "$_SERVER['HTTP_HOST'] = '127.0.0.1';";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
const health = async (port: number) => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { code: r.status, body: (await r.json()) as any };
  } catch {
    return { code: 0, body: null as any };
  }
};

/**
 * A PHP binary that works for the first worker and then fails every start until `<dir>/ok` exists (or, with
 * `onlyFor`, fails only the workers whose arguments contain it), as PHP does while its database is unreachable.
 */
function flakyPhp(mode: { firstWorks: boolean; onlyFor?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-flaky-'));
  const wrapper = join(dir, 'php');
  const first = mode.firstWorks ? `if mkdir "${dir}/first" 2>/dev/null; then exec php "$@"; fi\n` : '';
  const scope = mode.onlyFor ? `case "$*" in *${mode.onlyFor}*) ;; *) exec php "$@" ;; esac\n` : '';
  writeFileSync(
    wrapper,
    `#!/bin/sh\n${scope}if [ -f "${dir}/ok" ]; then exec php "$@"; fi\n${first}echo "Error: Error establishing a database connection." >&2\nexit 1\n`,
    { mode: 0o755 },
  );
  return { wrapper, heal: () => writeFileSync(join(dir, 'ok'), '') };
}

test('a lane whose worker dies and cannot be replaced does not take the process down: /healthz 503, then it heals and drains', async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  php(
    PREFIX,
    `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
  );
  const http = await freePort();
  const flaky = flakyPhp({ firstWorks: true });
  const s = startSidecar(PREFIX, ['--workers=1', `--http-port=${http}`, `--php-binary=${flaky.wrapper}`]);
  try {
    expect(
      (
        await eventually(
          () => health(http),
          (h) => h.code === 200,
          30000,
          100,
        )
      ).code,
    ).toBe(200);
    // Kill the idle worker (as the OOM killer would); its replacements cannot start.
    const worker = execFileSync('pgrep', ['-P', String(s.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')[0];
    process.kill(Number(worker), 'SIGKILL');
    php(
      PREFIX,
      `for ($i = 0; $i < 5; $i++) { as_enqueue_async_action('sidecar_test_count', array(44000 + $i), 'resilience'); }`,
    );
    const broken = await eventually(
      () => health(http),
      (h) => h.code === 503 && h.body.problems.some((p: string) => /lane 0 has no PHP worker/.test(p)),
      30000,
      100,
    );
    expect(broken.body.problems).toContain('lane 0 has no PHP worker (retrying)');
    expect(s.exitCode).toBeNull(); // still running
    // Nothing stays claimed by the broken lane: its claim was released.
    expect(
      Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE claim_id <> 0`))[0].n),
    ).toBe(0);
    flaky.heal();
    await eventually(
      async () =>
        Number(
          (await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}sidecar_test_runs WHERE n BETWEEN 44000 AND 44004`))[0].n,
        ),
      (n) => n === 5,
      60000,
      200,
    );
    const [c] = await rows(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${PREFIX}sidecar_test_runs WHERE n BETWEEN 44000 AND 44004`,
    );
    expect([Number(c.n), Number(c.d)]).toEqual([5, 5]);
    expect(
      (
        await eventually(
          () => health(http),
          (h) => h.code === 200,
          30000,
          100,
        )
      ).code,
    ).toBe(200);
    expect(s.output.join('')).toContain('"msg":"lane has a worker again"');
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});

test('a network: a site whose workers cannot start yet is retried on its own while the other sites run', async () => {
  await dropPrefix(BASE);
  installSite(BASE);
  const onSite = (path: string, code: string) => php(BASE, code, MS, `${HOST} $_SERVER['REQUEST_URI'] = '${path}';`);
  php(
    BASE,
    `require_once ABSPATH . 'wp-admin/includes/upgrade.php'; require_once ABSPATH . 'wp-admin/includes/network.php';
    global $wpdb; foreach ($wpdb->tables('ms_global') as $table => $prefixed) { $wpdb->$table = $prefixed; }
    install_network(); $r = populate_network(1, '127.0.0.1', 'admin@example.test', 'Test network', '/', false); if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message()); exit(1); }`,
    {},
    HOST,
  );
  onSite(
    '/',
    `require_once ABSPATH . 'wp-admin/includes/plugin.php'; activate_plugin('sidecar-scheduler/sidecar-scheduler.php', '', true);
    $id = wpmu_create_blog(DOMAIN_CURRENT_SITE, '/flaky/', 'Flaky', 1); if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }`,
  );
  for (const path of ['/', '/flaky/']) {
    onSite(
      path,
      `global $wpdb; do_action('admin_init'); SidecarScheduler\\Store\\Schema::maybe_install(true);
      $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");
      for ($i = 0; $i < 10; $i++) { as_enqueue_async_action('sidecar_test_count', array($i), 'ms'); }`,
    );
  }
  const http = await freePort();
  const flaky = flakyPhp({ firstWorks: false, onlyFor: '/flaky/' });
  const s = startSidecar(BASE, ['--workers=1', `--http-port=${http}`, `--php-binary=${flaky.wrapper}`], MS);
  const done = async (prefix: string) =>
    Number((await rows(`SELECT COUNT(*) AS n FROM ${prefix}sidecar_test_runs`))[0].n);
  try {
    // The main site runs while the other one retries.
    expect(
      await eventually(
        () => done(BASE),
        (n) => n === 10,
        60000,
        200,
      ),
    ).toBe(10);
    expect(await done(`${BASE}2_`)).toBe(0);
    const waiting = await health(http);
    expect(waiting.code).toBe(503);
    expect(waiting.body.problems.join('\n')).toMatch(
      /^site tnms_2_: PHP workers not started yet \(worker exited \(code 1, signal null\); stderr: Error: Error establishing a database connection\.\)$/m,
    );
    expect(s.output.join('')).toContain('"msg":"could not start PHP workers; retrying"');
    flaky.heal();
    expect(
      await eventually(
        () => done(`${BASE}2_`),
        (n) => n === 10,
        60000,
        200,
      ),
    ).toBe(10);
    expect(
      (
        await eventually(
          () => health(http),
          (h) => h.code === 200,
          30000,
          100,
        )
      ).code,
    ).toBe(200);
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});
