// Shutdown by signal: the first SIGTERM/SIGINT waits for the running action (sidecar.test.ts covers that); a second
// one exits at once with 128 + the signal's number, and the abandoned PHP worker still ends on its own.
import { readFileSync } from 'node:fs';
import { installSite, php, rows, startSidecar, exited, dropPrefix, waitFor, laneWorkerPids } from '../helpers/stack';

const PREFIX = `h5s${process.pid % 1000}_`;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)(
  'a second %s during the stop exits at once (code %i) instead of waiting for a 20 s action',
  async (sig, code) => {
    php(PREFIX, `as_enqueue_async_action('sidecar_test_sleep', array(20), 'h5shutdown');`);
    const s = startSidecar(PREFIX, ['--workers=1', '--shutdown-timeout-ms=60000'], { SIDECAR_SCHEDULER_NUDGE: '' });
    try {
      await waitFor(
        async () =>
          Number(
            (
              await rows(
                `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_sleep' AND status = 'in-progress'`,
              )
            )[0].n,
          ) === 1,
        60000,
        50,
      );
      const workers = laneWorkerPids(s.pid!);
      expect(workers.length).toBe(1);
      s.kill(sig);
      await waitFor(async () => s.output.join('').includes('stopping: no new claims'), 10000, 20);
      const t0 = Date.now();
      s.kill(sig);
      expect(await exited(s, 10000)).toBe(code);
      // The action sleeps 20 s: an exit within 10 s of the second signal did not wait for it.
      expect(Date.now() - t0).toBeLessThan(10000);
      expect(s.output.join('')).toMatch(/"msg":"second signal: exiting now without waiting for running actions"/);
      // The abandoned worker finishes its action and exits when it finds its pipe closed: no process is left behind.
      await waitFor(async () => workers.every((pid) => !alive(pid)), 60000, 100);
    } finally {
      if (s.exitCode === null) {
        s.kill('SIGKILL');
        await exited(s);
      }
      php(PREFIX, `as_unschedule_all_actions('sidecar_test_sleep');`);
      await rows(`DELETE FROM ${PREFIX}actionscheduler_actions WHERE hook = 'sidecar_test_sleep'`);
    }
  },
);
