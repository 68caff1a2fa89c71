// CrashRecovery (src-worker/lanes/crash-recovery.ts): what a dead worker's claim still needs is written on a fresh
// worker, and tried again on another when that one dies too, never left as start marks for the cleaner to fail.
import pino from 'pino';
import type { Executor, StreamEnd } from '../../src-worker/execute/executor';
import { CrashRecovery } from '../../src-worker/lanes/crash-recovery';
import type { Lane, SiteState } from '../../src-worker/lanes/lane';
import { WorkerKeeper } from '../../src-worker/lanes/worker-keeper';
import { Metrics } from '../../src-worker/metrics';

/** A worker whose settle and fail requests die the first `dies` times across all workers (a shared count). */
function fleet(dies: { settle: number; fail: number }) {
  const calls = { settle: 0, fail: 0, started: 0, stopped: 0 };
  const make = (): Executor => {
    const ex = {
      label: `php#${calls.started}`,
      start: async () => {
        calls.started++;
      },
      stop: async () => {
        calls.stopped++;
      },
      fail: async () => {
        calls.fail++;
        if (calls.fail <= dies.fail) throw new Error('worker exited (code null, signal SIGKILL)');
      },
      settle: async () => {
        calls.settle++;
        if (calls.settle <= dies.settle) throw new Error('worker exited (code null, signal SIGKILL)');
      },
    };
    return ex as unknown as Executor;
  };
  return { calls, make };
}

function setup(dies: { settle: number; fail: number }) {
  const { calls, make } = fleet(dies);
  const state: SiteState = { lanes: [], stopping: false, dbHealthy: true, lastClaimAt: 0 };
  const log = pino({ level: 'silent' });
  const keeper = new WorkerKeeper(state, make, log, new Metrics(), async () => undefined);
  const released: number[] = [];
  const recovery = new CrashRecovery(
    keeper,
    log,
    () => 300,
    async (_lane, claimId) => {
      released.push(claimId);
    },
  );
  const lane = { index: 0, executor: make(), busy: true, lastClaimAt: 0 } as unknown as Lane;
  state.lanes.push(lane);
  return { calls, keeper, recovery, lane, released };
}

// Killed while action 7 ran, inside a start window that had also marked 8 and 9, which never ran.
const END: StreamEnd = {
  reason: 'crashed',
  failed: { id: 7, status: 'crashed', ms: 40, error: 'worker exited (code null, signal SIGKILL)' },
  notStarted: [8, 9],
  marks: { ids: [7, 8, 9], gmt: '2026-12-03 20:00:00', message: 'action started via Sidecar', prev: {} },
};

test('the settle is sent again on a fresh worker when the worker writing it dies: the marks are undone, the claim is not kept', async () => {
  const { calls, recovery, lane } = setup({ settle: 1, fail: 0 });
  await recovery.recover(lane, 42, END, []);
  // One worker for the crash, one more after the settle's worker died; the second settle went through.
  expect({ settle: calls.settle, fail: calls.fail, started: calls.started }).toEqual({
    settle: 2,
    fail: 1,
    started: 2,
  });
  expect(lane.broken).toBeFalsy();
  expect(lane.recovery).toBeUndefined();
});

test('only what was not written is sent again: a fail that went through is not repeated', async () => {
  const { calls, recovery, lane } = setup({ settle: 2, fail: 0 });
  await recovery.recover(lane, 42, END, []);
  expect({ settle: calls.settle, fail: calls.fail }).toEqual({ settle: 3, fail: 1 });
  expect(lane.recovery).toBeUndefined();
});

test('after three workers died writing it, the lane keeps the claim and the rest of the writes until its repair, then releases', async () => {
  const { calls, keeper, recovery, lane, released } = setup({ settle: 3, fail: 1 });
  await recovery.recover(lane, 42, END, []);
  expect(calls.settle).toBe(3);
  // Broken: it claims and runs nothing more (the rest of the claim would meet the marks), its worker is stopped.
  expect(lane.broken).toBe(true);
  expect(lane.recovery?.claimId).toBe(42);
  expect(lane.recovery?.settle?.unstart?.ids).toEqual([8, 9]);
  expect(lane.recovery?.fail).toBeUndefined(); // the fail went through on the second worker
  expect(released).toEqual([]);
  // The lane loop's repair: a fresh worker, then what is left, then the claim goes back.
  expect(await keeper.repair(lane)).toBe(true);
  await recovery.finish(lane);
  expect(calls.settle).toBe(4);
  expect(lane.recovery).toBeUndefined();
  expect(released).toEqual([42]);
});

test('a repaired worker that dies too keeps the claim for the next repair instead of releasing it', async () => {
  const { calls, keeper, recovery, lane, released } = setup({ settle: 6, fail: 0 });
  await recovery.recover(lane, 42, END, []);
  expect(await keeper.repair(lane)).toBe(true);
  await recovery.finish(lane);
  expect(calls.settle).toBe(6);
  expect([lane.broken, lane.recovery?.claimId, released]).toEqual([true, 42, []]);
  expect(await keeper.repair(lane)).toBe(true);
  await recovery.finish(lane);
  expect([calls.settle, lane.broken, lane.recovery, released]).toEqual([7, false, undefined, [42]]);
});
