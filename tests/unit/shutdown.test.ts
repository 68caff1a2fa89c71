// Shutdown (src-worker/shutdown.ts): the first signal stops cleanly once, a second forces the exit, sleeps end early.
import { FORCED_EXIT, Shutdown } from '../../src-worker/shutdown';

function make() {
  const stops: string[] = [];
  const forced: Array<[number, string]> = [];
  let finish!: () => void;
  const s = new Shutdown({
    onStop: (reason) => {
      stops.push(reason);
      return new Promise<void>((r) => {
        finish = r;
      });
    },
    forceExit: (code, sig) => {
      forced.push([code, sig]);
    },
  });
  return { s, stops, forced, finish: () => finish() };
}

test('the first signal starts the clean stop once; a second SIGTERM or SIGINT forces the exit with 128 + its number', async () => {
  const { s, stops, forced, finish } = make();
  expect(s.stopping).toBe(false);
  expect(s.finished).toBeUndefined();
  s.signal('SIGTERM');
  expect([s.stopping, stops]).toEqual([true, ['SIGTERM']]);
  s.signal('SIGINT');
  s.signal('SIGTERM');
  expect(stops).toEqual(['SIGTERM']);
  expect(forced).toEqual([
    [130, 'SIGINT'],
    [143, 'SIGTERM'],
  ]);
  expect(FORCED_EXIT).toEqual({ SIGINT: 130, SIGTERM: 143 });
  let done = false;
  void s.finished!.then(() => {
    done = true;
  });
  finish();
  await Promise.resolve();
  await Promise.resolve();
  expect(done).toBe(true);
});

test('a stop that is not a signal (a fatal start-up error) is not forced by itself; a signal after it is', () => {
  const { s, stops, forced } = make();
  s.stop('fatal');
  s.stop('fatal');
  expect([stops, forced]).toEqual([['fatal'], []]);
  s.signal('SIGTERM');
  expect(forced).toEqual([[143, 'SIGTERM']]);
});

test('a sleep ends when the stop comes, not at its time', async () => {
  const { s } = make();
  let woke = false;
  const slept = s.sleep(60_000).then(() => {
    woke = true;
  });
  await Promise.resolve();
  expect(woke).toBe(false);
  s.signal('SIGINT');
  await slept;
  expect(woke).toBe(true);
});
