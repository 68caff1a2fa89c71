// Nudges: PHP wakes the sidecar when an action becomes due, in standalone and in companion mode (the real library
// loaded by a plugin after ours); the nudge port coalesces floods and listens in every loopback form the config accepts.
import { createSocket, Socket } from 'node:dgram';
import {
  php,
  rows,
  startSidecar,
  exited,
  eventually,
  OURS,
  BUNDLER_AFTER,
  freePort, // for the nudge ports too: TCP and UDP share the number space closely enough for a test
} from '../helpers/stack';
import { freshSite } from '../helpers/sites';

const STANDALONE = 'tnn_';
const COMPANION = 'tnnc_';

/** Collects datagrams sent to udp://127.0.0.1:port. */
async function listen(port: number): Promise<{ socket: Socket; got: string[] }> {
  const socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m) => got.push(String(m)));
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', () => r()));
  return { socket, got };
}

/** SIGTERM, and the sidecar's log when it does not stop cleanly. */
async function stop(s: ReturnType<typeof startSidecar>) {
  s.kill('SIGTERM');
  const code = await exited(s, 30000).catch(() => {
    s.kill('SIGKILL');
    return null;
  });
  if (code !== 0) console.log(s.output.join('').slice(-6000));
  expect(code).toBe(0);
}

/**
 * Enqueues a no-op action from PHP (whose nudge should wake the sleeping sidecar) and returns its status once it is
 * complete, or after 20 s (the sidecar polls once a minute in these tests, so only a nudge completes it in time).
 */
async function nudgedStatus(prefix: string, arg: string, env: Record<string, string>) {
  const id = Number(
    php(prefix, `echo as_enqueue_async_action('sidecar_test_noop', array('${arg}'));`, env).trim().split('\n').pop(),
  );
  const [row] = await eventually(
    () => rows(`SELECT status FROM ${prefix}actionscheduler_actions WHERE action_id = ?`, [id]),
    (r) => r[0]?.status === 'complete',
    20000,
    50,
  );
  return row.status;
}

const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  await freshSite(STANDALONE, [OURS]);
  await freshSite(COMPANION, [OURS, BUNDLER_AFTER]);
});

describe.each([
  ['standalone', STANDALONE],
  ['companion', COMPANION],
])('PHP nudges in %s mode', (mode, prefix) => {
  test('one datagram per request for a due action (async, now, past, an admin retry or Run now); none for a future one', async () => {
    const port = await freePort();
    const { socket, got } = await listen(port);
    const env = { SIDECAR_NUDGE: `udp://127.0.0.1:${port}` };
    try {
      expect(php(prefix, `echo SidecarScheduler\\Plugin::mode();`, env).trim().split('\n').pop()).toBe(mode);
      const cases: Array<[string, number]> = [
        [`as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('future'));`, 0],
        [`as_schedule_recurring_action(time() + 3600, 60, 'sidecar_test_noop', array('future-recurring'));`, 0],
        [`as_enqueue_async_action('sidecar_test_noop', array('async'));`, 1],
        [`as_schedule_single_action(time(), 'sidecar_test_noop', array('now'));`, 1],
        [`as_schedule_single_action(time() - 600, 'sidecar_test_noop', array('past'));`, 1],
        [`as_schedule_cron_action(time() - 600, '* * * * *', 'sidecar_test_noop', array('cron-past'));`, 1],
        [
          `for ($i = 0; $i < 50; $i++) { as_enqueue_async_action('sidecar_test_noop', array('many', $i)); } as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('later'));`,
          1,
        ],
        // Companion: more stored actions than Nudge looks up, so it nudges without looking. Standalone: our factory
        // knows every schedule, nothing is looked up and nothing is due.
        [
          `for ($i = 0; $i < 250; $i++) { as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('lots', $i)); }`,
          mode === 'companion' ? 1 : 0,
        ],
      ];
      for (const [code, expected] of cases) {
        got.length = 0;
        php(prefix, code, env);
        await settle();
        expect([code, got.length]).toEqual([code, expected]);
        for (const g of got) expect(JSON.parse(g).prefix).toBe(prefix);
      }
      // A retry from our admin: a fresh pending copy due now.
      const failed = Number(
        php(
          prefix,
          `$id = as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('to-retry')); ActionScheduler::store()->mark_failure($id); echo $id;`,
          env,
        )
          .trim()
          .split('\n')
          .pop(),
      );
      got.length = 0;
      const retried = JSON.parse(
        php(prefix, `echo json_encode(SidecarScheduler\\Admin\\Actions::apply('retry', ${failed}));`, env)
          .trim()
          .split('\n')
          .pop()!,
      );
      await settle();
      expect(retried.newId).toBeGreaterThan(failed);
      expect(got.length).toBe(1);
      // "Run now" from our admin: a future action made due now.
      const future = Number(
        php(prefix, `echo as_schedule_single_action(time() + 3600, 'sidecar_test_noop', array('run-now'));`, env)
          .trim()
          .split('\n')
          .pop(),
      );
      got.length = 0;
      php(prefix, `SidecarScheduler\\Admin\\Actions::apply('run', ${future});`, env);
      await settle();
      expect(got.length).toBe(1);
    } finally {
      socket.close();
      php(prefix, `as_unschedule_all_actions('sidecar_test_noop');`);
    }
  });

  test('a live sidecar with a nudge port starts an enqueued action without waiting for the poll (poll 60 s)', async () => {
    const port = await freePort();
    const env = { SIDECAR_NUDGE: `udp://127.0.0.1:${port}` };
    const s = startSidecar(prefix, ['--workers=1', '--poll-ms=60000', `--nudge-port=${port}`], env);
    try {
      await eventually(
        async () => s.output.join(''),
        (o) => /"msg":"sidecar started"/.test(o),
        30000,
        50,
      );
      await new Promise((r) => setTimeout(r, 1000)); // its first claims found nothing: the lane sleeps for 60 s now
      expect(await nudgedStatus(prefix, `nudged-${mode}`, env)).toBe('complete');
    } finally {
      await stop(s);
    }
  });
});

test('a flood of datagrams is coalesced into a few claims, and a real nudge still gets through', async () => {
  const port = await freePort();
  const http = await freePort();
  const env = { SIDECAR_NUDGE: `udp://127.0.0.1:${port}` };
  const s = startSidecar(
    STANDALONE,
    ['--workers=2', '--poll-ms=60000', `--nudge-port=${port}`, `--http-port=${http}`],
    env,
  );
  const claims = async () =>
    Number(
      /^sidecar_claim_seconds_count (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${http}/metrics`)).text())![1],
    );
  const sender = createSocket('udp4');
  try {
    await eventually(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${http}/healthz`)).status;
        } catch {
          return 0;
        }
      },
      (c) => c === 200,
      30000,
      50,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const before = await claims();
    // 3,000 datagrams over about 1.5 s, naming the site, with nothing due.
    const msg = Buffer.from(JSON.stringify({ prefix: STANDALONE }));
    for (let i = 0; i < 100; i++) {
      await Promise.all(Array.from({ length: 30 }, () => new Promise((r) => sender.send(msg, port, '127.0.0.1', r))));
      await new Promise((r) => setTimeout(r, 15));
    }
    await new Promise((r) => setTimeout(r, 500));
    const during = (await claims()) - before;
    // Fruitless nudges space the next wake out (10 ms doubling to 250 ms), and a nudge wakes one lane, not both:
    // about a dozen claims; delivered one by one, the lanes would have claimed hundreds of times.
    expect(during).toBeLessThanOrEqual(20);
    expect(during).toBeGreaterThanOrEqual(1);
    expect(await nudgedStatus(STANDALONE, `after-flood`, env)).toBe('complete');
  } finally {
    sender.close();
    await stop(s);
  }
});

test.each([['[::1]'], ['localhost']])(
  "SIDECAR_SCHEDULER_NUDGE udp://%s:PORT is listened on, and PHP's nudges arrive",
  async (host) => {
    const port = await freePort();
    const env = { SIDECAR_NUDGE: `udp://${host}:${port}` };
    const s = startSidecar(STANDALONE, ['--workers=1', '--poll-ms=60000'], env); // --nudge-port=0: from wp-config.php
    try {
      const out = await eventually(
        async () => s.output.join(''),
        (o) => /"msg":"ready"/.test(o) && /"msg":"sidecar started"/.test(o),
        30000,
        50,
      );
      expect(out).toContain(`"nudge":"${host === '[::1]' ? '::1' : 'localhost'}:${port}"`);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await nudgedStatus(STANDALONE, `v6-${host}`, env)).toBe('complete');
    } finally {
      await stop(s);
    }
  },
);

test('a nudge address that is not loopback is refused at start-up with a clear error (exit 78)', async () => {
  const s = startSidecar(STANDALONE, ['--workers=1'], { SIDECAR_NUDGE: 'udp://10.1.2.3:8890' });
  expect(await exited(s)).toBe(78);
  expect(s.output.join('')).toContain(
    'SIDECAR_SCHEDULER_NUDGE "udp://10.1.2.3:8890" is not udp://127.0.0.1:PORT, udp://localhost:PORT or udp://[::1]:PORT',
  );
});
