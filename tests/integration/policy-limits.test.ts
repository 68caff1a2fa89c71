// Group limits enforced in the claim, shared by every sidecar (real stack, standalone and companion mode): a concurrency limit of 2 held
// across 3 sidecars with 2 workers each (overlap counted from the callbacks' own start and end times), and a rate limit
// of 10 starts a second held within 10 % (starts counted by the callbacks); the other groups are not held back.
import { php, rows, startSidecar, exited, dropPrefix, wp, eventually, OURS, BUNDLER_AFTER } from '../helpers/stack';
import { policySite } from '../helpers/sites';

const MODES: [string, string, string[]][] = [
  ['standalone', `h7ls${process.pid % 1000}_`, [OURS]],
  ['companion (the real library bundled after ours)', `h7lc${process.pid % 1000}_`, [OURS, BUNDLER_AFTER]],
];
/** The site of the mode being tested (set by each describe block's beforeAll; the helpers below read it). */
let P = '';

function setCodePolicies(policies: unknown[]) {
  php(P, `update_option( 'h7_code_policies', json_decode( ${JSON.stringify(JSON.stringify(policies))}, true ) );`);
  // Any WP-CLI run publishes the limits for the sidecar (so does each worker when it boots).
  expect(wp(P, ['sidecar-scheduler', 'policies', 'list']).code).toBe(0);
}
function enqueue(n: number, hook: string, group: string, arg: number) {
  php(P, `for ( $i = 0; $i < ${n}; $i++ ) { as_enqueue_async_action( '${hook}', array( ${arg} ), '${group}' ); }`);
}
interface Run {
  action_id: number;
  started: number;
  ended: number;
}
const runsIn = (group: string) =>
  rows<Run>(
    `SELECT r.action_id, r.started, r.ended FROM ${P}h7_runs r JOIN ${P}actionscheduler_actions a ON a.action_id = r.action_id JOIN ${P}actionscheduler_groups g ON g.group_id = a.group_id WHERE g.slug = ? ORDER BY r.started`,
    [group],
  ).then((r) => r.map((x) => ({ action_id: Number(x.action_id), started: Number(x.started), ended: Number(x.ended) })));
/** The most callbacks running at the same moment, from their own start and end times. */
function maxOverlap(runs: Run[]): number {
  const ev = runs
    .flatMap(
      (r) =>
        [
          [r.started, 1],
          [r.ended, -1],
        ] as [number, number][],
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of ev) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}
async function drain(count: number, args: string[]) {
  const env = { SIDECAR_SCHEDULER_NUDGE: '' };
  const s = Array.from({ length: count }, () => startSidecar(P, ['--once', ...args], env));
  const codes = await Promise.all(s.map((x) => exited(x, 300000)));
  if (codes.some((c) => c !== 0)) {
    throw new Error(`sidecar exit codes ${codes}: ${s.map((x) => x.output.join('').slice(-1500)).join('\n---\n')}`);
  }
}

describe.each(MODES)('group limits, %s', (_mode, prefix, plugins) => {
  beforeAll(async () => {
    P = prefix;
    await policySite(P, plugins);
  });
  afterAll(() => dropPrefix(prefix));

  test('a concurrency limit of 2 is held across 3 sidecars (6 workers); an unlimited group beside it runs wider', async () => {
    setCodePolicies([['group', 'h7conc', { concurrency: 2 }]]);
    enqueue(24, 'h7_sleep', 'h7conc', 300);
    enqueue(24, 'h7_sleep', 'h7wide', 300);
    await drain(3, ['--workers=2', '--batch-size=5']);
    const conc = await runsIn('h7conc');
    expect(conc.length).toBe(24);
    expect(new Set(conc.map((r) => r.action_id)).size).toBe(24);
    expect(maxOverlap(conc)).toBe(2);
    const wide = await runsIn('h7wide');
    expect(wide.length).toBe(24);
    expect(maxOverlap(wide)).toBeGreaterThan(2);
    const left = await rows<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${P}actionscheduler_actions WHERE hook = 'h7_sleep' AND status <> 'complete'`,
    );
    expect(Number(left[0].n)).toBe(0);
  });

  test('a rate limit of 10 starts a second is held within 10 % by 2 sidecars together', async () => {
    setCodePolicies([['group', 'h7rate', { rate: { limit: 10, per: 'second' } }]]);
    // Live sidecars whose workers are up before anything is due: starts then follow claims (with --once, actions
    // claimed while the workers boot would all start together when they are ready).
    const env = { SIDECAR_SCHEDULER_NUDGE: '' };
    const live = [0, 1].map(() => startSidecar(P, ['--workers=2'], env));
    try {
      for (const s of live) {
        await eventually(
          async () => s.output.join(''),
          (o) => /"msg":"ready"/.test(o),
          60000,
        );
      }
      await new Promise((r) => setTimeout(r, 1500)); // the workers finish booting
      enqueue(100, 'h7_ok', 'h7rate', 1);
      enqueue(50, 'h7_ok', 'h7fast', 2);
      const done = await eventually(
        () =>
          rows<{ n: number }>(
            `SELECT COUNT(*) AS n FROM ${P}actionscheduler_actions WHERE hook = 'h7_ok' AND status = 'complete'`,
          ),
        (r) => Number(r[0].n) === 150,
        90000,
      );
      expect(Number(done[0].n)).toBe(150);
    } finally {
      for (const s of live) s.kill('SIGTERM');
      await Promise.all(live.map((s) => exited(s).catch(() => null)));
    }
    const starts = (await runsIn('h7rate')).map((r) => r.started);
    expect(starts.length).toBe(100);
    const rate = (starts.length - 1) / (starts[starts.length - 1] - starts[0]);
    expect(rate).toBeGreaterThanOrEqual(9);
    expect(rate).toBeLessThanOrEqual(11);
    // Nowhere more than 55 starts within five seconds (50 + 10 %). The claim admits at most the rate plus about two
    // bursts (one made up for a late claimer) in any window; the callbacks' own start times add each lane's jitter.
    const most = (w: number) => {
      let m = 0;
      for (let i = 0, j = 0; i < starts.length; i++) {
        while (starts[i] - starts[j] >= w) j++;
        m = Math.max(m, i - j + 1);
      }
      return m;
    };
    expect(most(5)).toBeLessThanOrEqual(55);
    console.log(
      `rate limit 10/s: ${rate.toFixed(2)} starts/s over ${starts.length}; most in 1 s ${most(1)}, in 2 s ${most(2)}, in 5 s ${most(5)}`,
    );
    // The unlimited group was not held back: it finished long before the limited one.
    const fast = (await runsIn('h7fast')).map((r) => r.started);
    expect(fast.length).toBe(50);
    expect(fast[fast.length - 1]).toBeLessThan(starts[starts.length - 1] - 2);
  });
});
