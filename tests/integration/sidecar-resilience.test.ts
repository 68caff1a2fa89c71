// Workers that cannot start for a while: a live sidecar keeps its process (and its other lanes and sites) running,
// says so on /healthz, and heals when PHP can start again.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, php, rows, startSidecar, exited, eventually, laneWorkerPids } from '../helpers/stack';
import { countingNetwork, countingSite, MULTISITE, onNetworkSite } from '../helpers/sites';

const PREFIX = 'tnres_';
const BASE = 'tnms_';
const health = async (port: number) => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { code: r.status, body: (await r.json()) as any };
  } catch {
    return { code: 0, body: null as any };
  }
};

/** /healthz's status once it answers 200, or the last one after 30 s (the caller asserts 200). */
const settledHealth = async (port: number) =>
  (
    await eventually(
      () => health(port),
      (h) => h.code === 200,
      30000,
      100,
    )
  ).code;

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
  await countingSite(PREFIX);
  const http = await freePort();
  const flaky = flakyPhp({ firstWorks: true });
  const s = startSidecar(PREFIX, ['--workers=1', `--http-port=${http}`, `--php-binary=${flaky.wrapper}`]);
  try {
    expect(await settledHealth(http)).toBe(200);
    // Kill the idle worker (as the OOM killer would); its replacements cannot start.
    const [worker] = laneWorkerPids(s.pid!);
    process.kill(worker, 'SIGKILL');
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
    expect(await settledHealth(http)).toBe(200);
    expect(s.output.join('')).toContain('"msg":"lane has a worker again"');
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});

test('a network: a site whose workers cannot start yet is retried on its own while the other sites run', async () => {
  await countingNetwork(BASE, { path: '/flaky/', title: 'Flaky' });
  for (const path of ['/', '/flaky/']) {
    onNetworkSite(
      BASE,
      path,
      `for ($i = 0; $i < 10; $i++) { as_enqueue_async_action('sidecar_test_count', array($i), 'ms'); }`,
    );
  }
  const http = await freePort();
  const flaky = flakyPhp({ firstWorks: false, onlyFor: '/flaky/' });
  const s = startSidecar(BASE, ['--workers=1', `--http-port=${http}`, `--php-binary=${flaky.wrapper}`], MULTISITE);
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
    expect(await settledHealth(http)).toBe(200);
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});
