// CrashRecovery (src-worker/lanes/crash-recovery.ts): what a dead worker's claim still needs is written on a fresh
// worker, and tried again on another when that one dies too, never left as start marks for the cleaner to fail.
import pino from 'pino';
import type { Executor, StreamEnd } from '../../src-worker/execute/executor';
import { CrashRecovery } from '../../src-worker/lanes/crash-recovery';
import type { Lane, SiteState } from '../../src-worker/lanes/lane';
import { WorkerKeeper } from '../../src-worker/lanes/worker-keeper';
import { LaneLoop, LaneLoopDeps } from '../../src-worker/lanes/lane-loop';
import type { SidecarConfig } from '../../src-worker/config/config';
import { Metrics } from '../../src-worker/metrics';

/** A worker whose settle and fail requests die the first `dies` times across all workers (a shared count). */
function fleet(dies: { settle: number; fail: number }) {
  const calls = { settle: 0, fail: 0, started: 0, stopped: 0, settled: [] as unknown[] };
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
      settle: async (req: unknown) => {
        calls.settle++;
        calls.settled.push(req);
        if (calls.settle <= dies.settle) throw new Error('worker exited (code null, signal SIGKILL)');
      },
    };
    return ex as unknown as Executor;
  };
  return { calls, make };
}

/** A lane on a fleet of such workers; the keeper's waits (the repair backoff) are recorded, not slept. */
function setup(dies: { settle: number; fail: number }) {
  const { calls, make } = fleet(dies);
  const state: SiteState = { lanes: [], stopping: false, dbHealthy: true, lastClaimAt: 0 };
  const log = pino({ level: 'silent' });
  const waits: number[] = [];
  const keeper = new WorkerKeeper(state, make, log, new Metrics(), async (ms) => {
    waits.push(ms);
  });
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
  return { calls, keeper, recovery, lane, released, waits, state };
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

test('while the writes keep failing, each repair waits longer (1, 2, 4, 8 s …), and a success starts the count over', async () => {
  // A rest channel whose route is down answers every fail with an error: 3 tries per worker, many repairs.
  const { calls, keeper, recovery, lane, released, waits } = setup({ settle: 0, fail: 3 + 3 * 4 });
  await recovery.recover(lane, 42, END, []);
  for (let i = 0; i < 4; i++) {
    expect(await keeper.repair(lane)).toBe(true);
    await recovery.finish(lane);
    expect([lane.broken, lane.recovery?.claimId]).toEqual([true, 42]);
  }
  expect(waits).toEqual([1000, 2000, 4000, 8000]);
  expect(lane.repairs).toBe(4);
  expect(calls.fail).toBe(15); // 3 per round, no more: the requests are paced by the backoff
  expect(await keeper.repair(lane)).toBe(true);
  await recovery.finish(lane);
  expect([lane.broken, lane.recovery, released, lane.repairs]).toEqual([false, undefined, [42], 0]);
  expect(waits).toEqual([1000, 2000, 4000, 8000, 16000]);
});

test('a stopping sidecar still makes its three tries (each one worker), then leaves the claim for the lane loop to release', async () => {
  const { calls, recovery, lane, state } = setup({ settle: 9, fail: 0 });
  const started = calls.started;
  state.stopping = true;
  await recovery.recover(lane, 42, END, []);
  // The crash's replacement and two more, one start each (a stopping keeper makes no quick retries of a start).
  expect({ settle: calls.settle, started: calls.started - started }).toEqual({ settle: 3, started: 3 });
  expect([lane.broken, lane.recovery?.claimId]).toEqual([true, 42]);
});

/** A --once lane loop whose lane is broken with a recovery that never gets written (every repair's writes fail). */
async function onceLoop(diedMsAgo: number) {
  const state: SiteState = { lanes: [], stopping: false, dbHealthy: true, lastClaimAt: 0 };
  const released: number[] = [];
  let repairs = 0;
  const lane = {
    index: 0,
    busy: false,
    lastClaimAt: 0,
    broken: true,
    recovery: { claimId: 42, since: Date.now() - diedMsAgo, fail: { id: 7, claim: 42, reason: 'timeout' } },
  } as unknown as Lane;
  state.lanes.push(lane);
  const loop = new LaneLoop({
    config: { once: true } as unknown as SidecarConfig,
    state,
    keeper: {
      repair: async () => {
        lane.repairs = ++repairs;
        if (repairs >= 20) state.stopping = true; // the test's end, if the loop never gives up
        return true;
      },
    },
    recovery: { finish: async () => undefined }, // its workers keep failing: the lane stays broken
    releases: {
      release: async (_l: Lane, claimId: number) => {
        released.push(claimId);
      },
    },
    failurePeriodSec: () => 300,
    log: pino({ level: 'silent' }),
  } as unknown as LaneLoopDeps);
  await loop.run(lane);
  return { repairs, released, state };
}

test("--once keeps a dead worker's unwritten outcomes (and their claim) past its usual repairs, until the failure period", async () => {
  const { repairs, released, state } = await onceLoop(1000);
  expect(repairs).toBe(20); // past ONCE_REPAIRS (6): stopped by the test, not given up
  expect(released).toEqual([42]); // a stopping loop still gives the claim back
  expect(state.recoveryAbandoned).toBeUndefined();
});

test('--once gives up once the failure period has passed since the worker died: the claim goes back, the run is not clean', async () => {
  const { repairs, released, state } = await onceLoop(301_000);
  expect(repairs).toBe(1);
  expect(released).toEqual([42]);
  expect(state.recoveryAbandoned).toBe(true);
});

test('a worker whose start fails is stopped before the next try replaces it (no child left running)', async () => {
  const state: SiteState = { lanes: [], stopping: false, dbHealthy: true, lastClaimAt: 0 };
  const made: { started: boolean; stopped: boolean }[] = [];
  const make = (): Executor => {
    const me = { started: false, stopped: false };
    made.push(me);
    return {
      start: async () => {
        me.started = true;
        throw new Error('timed out waiting for ready');
      },
      stop: async () => {
        me.stopped = true;
      },
    } as unknown as Executor;
  };
  const keeper = new WorkerKeeper(state, make, pino({ level: 'silent' }), new Metrics(), async () => undefined);
  const lane = { index: 0, executor: make(), busy: false, lastClaimAt: 0 } as unknown as Lane;
  made.length = 0;
  await keeper.replace(lane, 'crashed');
  expect(lane.broken).toBe(true);
  expect(made).toHaveLength(3);
  expect(made.every((m) => m.started && m.stopped)).toBe(true);
  expect(await keeper.repair(lane)).toBe(false);
  expect(made).toHaveLength(4);
  expect(made[3]).toEqual({ started: true, stopped: true });
});

// A live worker's stream ended with marks it could not undo (its database refused past its own retries).
const UNRELEASED = { ids: [8, 9], gmt: '2026-12-03 20:00:00', message: 'action started via Sidecar', prev: {} };

test('marks a live worker could not undo are sent back as a settle on that worker: no new worker, the claim goes on', async () => {
  const { calls, recovery, lane } = setup({ settle: 0, fail: 0 });
  expect(await recovery.undoMarks(lane, 42, UNRELEASED)).toBe(true);
  expect(calls.settled).toEqual([{ claim: 42, finalise: [], unstart: UNRELEASED }]);
  expect({ started: calls.started, stopped: calls.stopped, fail: calls.fail }).toEqual({
    started: 0,
    stopped: 0,
    fail: 0,
  });
  expect(lane.broken).toBeFalsy();
  expect(lane.recovery).toBeUndefined();
});

test('marks still refused on three workers are kept with the claim, and written by the worker the repair starts', async () => {
  const { calls, keeper, recovery, lane, released } = setup({ settle: 3, fail: 0 });
  expect(await recovery.undoMarks(lane, 42, UNRELEASED)).toBe(false);
  // The reporting worker, then two fresh ones; the lane then counts as one without a worker and keeps the claim.
  expect({ settle: calls.settle, started: calls.started }).toEqual({ settle: 3, started: 2 });
  expect(lane.broken).toBe(true);
  expect(lane.recovery).toMatchObject({ claimId: 42, settle: { claim: 42, finalise: [], unstart: UNRELEASED } });
  expect(released).toEqual([]);
  expect(await keeper.repair(lane)).toBe(true);
  await recovery.finish(lane);
  expect(calls.settle).toBe(4);
  expect(lane.recovery).toBeUndefined();
  expect(released).toEqual([42]);
});

test('a worker that dies after giving up on a mark (its action had its turn) has that mark undone with the others', async () => {
  const { calls, recovery, lane } = setup({ settle: 0, fail: 0 });
  const window = { ids: [6, 7, 8, 9], gmt: '2026-12-03 20:00:00', message: 'action started via Sidecar', prev: {} };
  await recovery.recover(
    lane,
    42,
    {
      ...END,
      marks: window,
      unreleased: { ...window, ids: [6] },
    },
    [],
  );
  // 6: refused at its turn (never ran, not in notStarted); 8 and 9 never started; 7 was running and is failed.
  expect(calls.settled).toEqual([{ claim: 42, finalise: [], unstart: { ...window, ids: [6, 8, 9] } }]);
  expect(calls.fail).toBe(1);
});
