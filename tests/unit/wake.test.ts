// Nudge coalescing, the nudge address forms, and which start-up failures are configuration errors.
import { NudgeGate, Wake, MIN_GAP_MS, MAX_GAP_MS } from '../../src-worker/wake';
import { parseNudgeAddress, ConfigError } from '../../src-worker/config/config';
import { isConfigFailure } from '../../src-worker/startup';
import { SchemaError } from '../../src-worker/db/database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a nudge wakes one waiting lane; a poll tick wakes them all', async () => {
  const wake = new Wake();
  const a = wake.wait(10_000);
  const b = wake.wait(10_000);
  expect(wake.notifyOne('nudge')).toBe(true);
  expect(await a).toBe('nudge');
  wake.notify('poll');
  expect(await b).toBe('poll');
  expect(wake.notifyOne('nudge')).toBe(false); // nobody waits: busy lanes claim again by themselves
  expect(await wake.wait(5)).toBe('timeout');
});

test('nudges that find nothing are spaced out, doubling up to the maximum; one that finds work resets the spacing', async () => {
  let fired = 0;
  const gate = new NudgeGate(() => {
    fired++;
  });
  gate.nudge();
  expect(fired).toBe(1); // the first is delivered at once
  gate.found(false); // and found nothing: the next waits MIN_GAP_MS
  for (let i = 0; i < 1000; i++) gate.nudge();
  expect(fired).toBe(1);
  expect(gate.merged).toBe(999); // merged into the one pending wake
  await sleep(MIN_GAP_MS + 20);
  expect(fired).toBe(2);
  for (let k = 0; k < 10; k++) gate.found(false);
  gate.nudge();
  await sleep(MAX_GAP_MS - 100);
  expect(fired).toBe(2); // spaced by the maximum now
  await sleep(200);
  expect(fired).toBe(3);
  gate.found(true); // work found: the next nudge is delivered at once again
  gate.nudge();
  expect(fired).toBe(4);
  gate.stop();
});

test('SIDECAR_SCHEDULER_NUDGE: the three loopback forms are accepted, anything else is refused with a clear error', () => {
  expect(parseNudgeAddress('udp://127.0.0.1:8890')).toEqual({ host: '127.0.0.1', port: 8890 });
  expect(parseNudgeAddress('udp://localhost:8890')).toEqual({ host: 'localhost', port: 8890 });
  expect(parseNudgeAddress('udp://[::1]:8890')).toEqual({ host: '::1', port: 8890 });
  for (const bad of [
    'udp://10.0.0.5:8890',
    'udp://example.com:8890',
    'tcp://127.0.0.1:8890',
    'udp://127.0.0.1',
    'udp://127.0.0.1:70000',
  ]) {
    expect(() => parseNudgeAddress(bad)).toThrow(ConfigError);
    expect(() => parseNudgeAddress(bad)).toThrow(
      /is not udp:\/\/127\.0\.0\.1:PORT, udp:\/\/localhost:PORT or udp:\/\/\[::1\]:PORT/,
    );
  }
});

test('start-up failures: configuration errors stop, everything else is transient', () => {
  expect(isConfigFailure(new SchemaError('table x is missing'))).toBe(true);
  expect(isConfigFailure(new ConfigError('bad'))).toBe(true);
  expect(isConfigFailure(new Error('could not start /nonexistent/php: spawn /nonexistent/php ENOENT'))).toBe(true);
  expect(
    isConfigFailure(new Error('worker exited (code 3, signal null); stderr: Sidecar Scheduler is not active')),
  ).toBe(true);
  expect(
    isConfigFailure(
      new Error(
        "worker exited (code 1, signal null); stderr: Error: 'sidecar-scheduler' is not a registered wp command.",
      ),
    ),
  ).toBe(true);
  expect(
    isConfigFailure(
      new Error('worker exited (code 0, signal null); output: Database Error Error establishing a database connection'),
    ),
  ).toBe(false);
  expect(
    isConfigFailure(
      new Error('worker exited (code 1, signal null); stderr: Error: Error establishing a database connection.'),
    ),
  ).toBe(false);
  expect(
    isConfigFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' })),
  ).toBe(false);
  expect(isConfigFailure(new Error('runner route answered 502: Bad Gateway'))).toBe(false);
});
