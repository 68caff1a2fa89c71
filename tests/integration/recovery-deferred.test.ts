// A worker dies with an outcome it reported but had not committed (killed in its action's completion hook), and no
// fresh worker can start to record it (PHP cannot reach the database, say). The claim must stay until a worker can:
// released first, the completed action was left in progress with no claim, for the cleaner to fail after the failure
// period (found in review). With it kept, the lane heals, the completion is recorded, and then the claim is released.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { installSite, php, rows, startSidecar, exited, dropPrefix, eventually } from '../helpers/stack';

const PREFIX = `tkrd${process.pid}_`;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  php(
    PREFIX,
    `global $wpdb; $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}sidecar_test_runs (id bigint unsigned auto_increment primary key, n bigint, pid int)");`,
  );
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

/** A PHP binary that starts the first worker and then fails every start until heal(), as PHP does while its database is down. */
function flakyPhp() {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-recovery-'));
  const wrapper = join(dir, 'php');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nif [ -f "${dir}/ok" ]; then exec php "$@"; fi\nif mkdir "${dir}/first" 2>/dev/null; then exec php "$@"; fi\necho "Error: Error establishing a database connection." >&2\nexit 1\n`,
    { mode: 0o755 },
  );
  return { wrapper, heal: () => writeFileSync(join(dir, 'ok'), '') };
}

test('the claim of a dead worker stays until a fresh worker records its reported completion, then it is released', async () => {
  const [id] = JSON.parse(
    php(PREFIX, `echo json_encode(array(as_enqueue_async_action('sidecar_test_die_after', array(77001), 'recovery')));`)
      .trim()
      .split('\n')
      .pop()!,
  );
  const flaky = flakyPhp();
  const s = startSidecar(PREFIX, ['--workers=1', `--php-binary=${flaky.wrapper}`, '--start-window-ms=0']);
  const row = async () =>
    (
      await rows(`SELECT status, attempts, claim_id FROM ${PREFIX}actionscheduler_actions WHERE action_id = ?`, [id])
    )[0];
  try {
    await eventually(
      async () => s.output.join(''),
      (o) => o.includes('keeping its claim until one starts'),
      60000,
      100,
    );
    // The callback ran once and its worker died before the completion was committed: in progress, still claimed.
    const held = await row();
    expect([held.status, Number(held.attempts), Number(held.claim_id) !== 0]).toEqual(['in-progress', 1, true]);
    flaky.heal();
    const done = await eventually(row, (r) => r.status === 'complete' && Number(r.claim_id) === 0, 60000, 200);
    expect([done.status, Number(done.attempts), Number(done.claim_id)]).toEqual(['complete', 1, 0]);
    const logs = (
      await rows(`SELECT message FROM ${PREFIX}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [id])
    ).map((l: any) => l.message);
    expect(logs).toEqual(['action created', 'action started via Sidecar', 'action complete via Sidecar']);
    const [c] = await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}sidecar_test_runs WHERE n = 77001`);
    expect(Number(c.n)).toBe(1);
    expect(s.output.join('')).toContain('recorded what the dead worker ran and released its claim');
    expect(Number((await rows(`SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_claims`))[0].n)).toBe(0);
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
});
