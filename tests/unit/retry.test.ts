// The one retry loop (src-worker/retry.ts): how many tries, which failures, what waits, and stopping.
import { backoffMs, retry } from '../../src-worker/retry';

const noSleep = { sleep: async () => undefined };

test('returns the first success and passes the try number', async () => {
  const seen: number[] = [];
  const v = await retry(
    async (n) => {
      seen.push(n);
      if (n < 2) throw new Error(`fail ${n}`);
      return 'ok';
    },
    { delayMs: () => 0, ...noSleep },
  );
  expect(v).toBe('ok');
  expect(seen).toEqual([0, 1, 2]);
});

test('gives up after `attempts` tries and throws the last failure', async () => {
  let tries = 0;
  await expect(
    retry(
      async (n) => {
        tries++;
        throw new Error(`fail ${n}`);
      },
      { attempts: 3, delayMs: () => 0, ...noSleep },
    ),
  ).rejects.toThrow('fail 2');
  expect(tries).toBe(3);
});

test('a failure that is not retryable is thrown at once, with no wait', async () => {
  const waits: number[] = [];
  let tries = 0;
  const boom = Object.assign(new Error('config'), { code: 'BAD' });
  await expect(
    retry(
      async () => {
        tries++;
        throw boom;
      },
      {
        attempts: 5,
        delayMs: () => 7,
        retryable: (e) => (e as { code?: string }).code !== 'BAD',
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    ),
  ).rejects.toBe(boom);
  expect(tries).toBe(1);
  expect(waits).toEqual([]);
});

test('waits delayMs(n) after failed try n, and tells onRetry first', async () => {
  const events: string[] = [];
  await expect(
    retry(
      async (n) => {
        throw new Error(`f${n}`);
      },
      {
        attempts: 4,
        delayMs: (n) => 10 * (n + 1),
        onRetry: (e, n, wait) => events.push(`retry ${(e as Error).message} ${n} ${wait}`),
        sleep: async (ms) => {
          events.push(`sleep ${ms}`);
        },
      },
    ),
  ).rejects.toThrow('f3');
  expect(events).toEqual(['retry f0 0 10', 'sleep 10', 'retry f1 1 20', 'sleep 20', 'retry f2 2 30', 'sleep 30']);
});

test('stopped() ends the loop before a wait and after one', async () => {
  let stop = false;
  let tries = 0;
  await expect(
    retry(
      async () => {
        tries++;
        throw new Error('x');
      },
      {
        delayMs: () => 0,
        stopped: () => stop,
        sleep: async () => {
          stop = true;
        },
      },
    ),
  ).rejects.toThrow('x');
  expect(tries).toBe(1); // stopped during the first wait: no second try
  tries = 0;
  await expect(
    retry(
      async () => {
        tries++;
        throw new Error('y');
      },
      { delayMs: () => 0, stopped: () => true, ...noSleep },
    ),
  ).rejects.toThrow('y');
  expect(tries).toBe(1);
});

test('retryable sees the try number (a caller that gives up after some tries)', async () => {
  let tries = 0;
  await expect(
    retry(
      async () => {
        tries++;
        throw new Error('z');
      },
      { delayMs: () => 0, retryable: (_e, n) => n < 1, ...noSleep },
    ),
  ).rejects.toThrow('z');
  expect(tries).toBe(2);
});

test('the default sleep waits for real', async () => {
  const t0 = Date.now();
  let tries = 0;
  await retry(
    async () => {
      if (tries++ === 0) throw new Error('once');
    },
    { delayMs: () => 30 },
  );
  expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
});

test('backoffMs: 1 s, 2 s, 4 s … capped at 30 s', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 20].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});
