// Issue 13 item 4: the worker's protocol has a file descriptor of its own and results are matched by action ID, so
// whatever plugin code prints cannot disturb it; that output lands in the sidecar's log, labelled with the worker.
import { existsSync, lstatSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT,
  DOCROOT,
  WP_BIN,
  installSite,
  php,
  rows,
  startSidecar,
  exited,
  dropPrefix,
  eventually,
} from '../helpers/stack';

const LINK = join(DOCROOT, 'wp-content/mu-plugins/tw-protocol-noise.php');
const HOOKS = ['tw_noise_echo', 'tw_noise_fwrite', 'tw_noise_cli_log', 'tw_noise_json'];
const PER_HOOK = 15;

beforeAll(() => {
  try {
    lstatSync(LINK);
  } catch {
    symlinkSync(join(ROOT, 'tests/fixtures/tw-protocol-noise.php'), LINK);
  }
});
afterAll(() => {
  if (existsSync(LINK)) unlinkSync(LINK);
});

const channels: [string, string, string[], RegExp][] = [
  ['php', 'twpphp_', [], /^php#/],
  ['wp-cli', 'twpcli_', ['--channel=wp-cli', `--wp-binary=${WP_BIN}`], /^wp-cli#/],
];

test.each(channels)(
  '%s channel: callbacks that echo, fwrite(STDOUT/STDERR), WP_CLI::log and print JSON-looking lines all complete exactly once; their output is in the sidecar log',
  async (_name, P, args, label) => {
    await dropPrefix(P);
    installSite(P);
    await rows(
      `CREATE TABLE ${P}tw_runs (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL, pid INT NOT NULL, tag VARCHAR(20) NOT NULL)`,
    );
    // Interleaved, so every stream mixes the kinds of output.
    php(
      P,
      `for ($i = 1; $i <= ${PER_HOOK}; $i++) { foreach (${JSON.stringify(HOOKS).replace(/^\[/, 'array(').replace(/\]$/, ')')} as $h) { as_enqueue_async_action($h, array($i)); } }`,
    );
    const total = PER_HOOK * HOOKS.length;
    const s = startSidecar(P, [...args, '--workers=2', '--batch-size=10']);
    try {
      await eventually(
        async () =>
          Number(
            (
              await rows(
                `SELECT COUNT(*) AS n FROM ${P}actionscheduler_actions WHERE hook LIKE 'tw\\_noise\\_%' AND status IN ('complete', 'failed')`,
              )
            )[0].n,
          ),
        (n) => n >= total,
        120000,
      );
    } finally {
      s.kill('SIGTERM');
      expect(await exited(s, 30000)).toBe(0);
    }
    const st = await rows(
      `SELECT hook, status, COUNT(*) AS n, MAX(attempts) AS hi, MIN(attempts) AS lo FROM ${P}actionscheduler_actions WHERE hook LIKE 'tw\\_noise\\_%' GROUP BY hook, status ORDER BY hook`,
    );
    expect(st.map((r: any) => [r.hook, r.status, Number(r.n), Number(r.hi), Number(r.lo)])).toEqual(
      [...HOOKS].sort().map((h) => [h, 'complete', PER_HOOK, 1, 1]),
    );
    const runs = await rows(
      `SELECT tag, COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${P}tw_runs GROUP BY tag ORDER BY tag`,
    );
    expect(runs.map((r: any) => [r.tag, Number(r.n), Number(r.d)])).toEqual([
      ['cli_log', PER_HOOK, PER_HOOK],
      ['echo', PER_HOOK, PER_HOOK],
      ['fwrite', PER_HOOK, PER_HOOK],
      ['json', PER_HOOK, PER_HOOK],
    ]);
    // The sidecar's log: one JSON object per line; the plugins' output is there as 'php worker output', with the worker.
    const lines = s.output
      .join('')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    const output = lines.filter((l) => l.msg === 'php worker output');
    for (const marker of [
      'tw-echo-marker 7',
      'tw-fwrite-marker 7',
      'tw-stderr-marker 7',
      'tw-cli-log-marker 7',
      'tw-json-marker',
    ]) {
      const hit = output.find((l) => String(l.output).includes(marker));
      expect({ marker, found: !!hit }).toEqual({ marker, found: true });
      expect(hit.worker).toMatch(label);
    }
    expect(output.find((l) => String(l.output).includes('tw-stderr-marker'))?.stream).toBe('stderr');
    expect(lines.filter((l) => /protocol error|non-protocol/.test(String(l.msg)))).toEqual([]);
  },
);

test('a result for an action other than the one running is a protocol error: the worker is retired with a clear log, the rest run once on a fresh worker', async () => {
  const P = 'twpforge_';
  await dropPrefix(P);
  installSite(P);
  await rows(
    `CREATE TABLE ${P}tw_runs (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL, pid INT NOT NULL, tag VARCHAR(20) NOT NULL)`,
  );
  const ids: number[] = JSON.parse(
    php(
      P,
      `$ids = array(as_enqueue_async_action('tw_noise_forge', array(1), '', false, 1)); for ($i = 1; $i <= 10; $i++) { $ids[] = as_enqueue_async_action('tw_noise_echo', array($i), '', false, 2); } echo json_encode($ids);`,
    )
      .trim()
      .split('\n')
      .pop()!,
  );
  const s = startSidecar(P, ['--workers=1', '--batch-size=20']);
  try {
    await eventually(
      async () =>
        Number(
          (
            await rows(
              `SELECT COUNT(*) AS n FROM ${P}actionscheduler_actions WHERE hook LIKE 'tw\\_noise\\_%' AND status IN ('complete', 'failed')`,
            )
          )[0].n,
        ),
      (n) => n >= 11,
      120000,
    );
  } finally {
    s.kill('SIGTERM');
    expect(await exited(s, 30000)).toBe(0);
  }
  const lines = s.output
    .join('')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const errors = lines.filter((l) => l.msg === 'php worker protocol error; retiring the worker');
  expect(errors.length).toBe(1);
  expect(errors[0].err).toBe(`'done' for action 900001 while action ${ids[0]} is the one running`);
  expect(errors[0].label).toMatch(/^php#/);
  // The forged result was not believed: the running action's callback had started, and its worker was killed in it,
  // so it is failed as any action whose worker died mid-run (once, one attempt); every other action ran once.
  const [forge] = await rows(`SELECT status, attempts FROM ${P}actionscheduler_actions WHERE action_id = ?`, [ids[0]]);
  expect(forge).toEqual({ status: 'failed', attempts: 1 });
  const [echo] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${P}tw_runs WHERE tag = 'echo'`);
  expect([Number(echo.n), Number(echo.d)]).toEqual([10, 10]);
  expect(
    (
      await rows(
        `SELECT status, COUNT(*) AS n FROM ${P}actionscheduler_actions WHERE hook = 'tw_noise_echo' GROUP BY status`,
      )
    ).map((r: any) => [r.status, Number(r.n)]),
  ).toEqual([['complete', 10]]);
});
