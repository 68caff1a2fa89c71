// The worker's protocol checks (results matched by action ID) and the bounded log of what plugin code prints.
import pino from 'pino';
import { Writable } from 'node:stream';
import { ProtocolError, WorkerOutputLog, checkStreamMessage } from '../../src-worker/execute/protocol';

function capture() {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

test('a result is believed only for the action running; a window only for actions still to run', () => {
  expect(checkStreamMessage({ op: 'done', id: 7 }, 7, [7, 8])).toBe(true);
  expect(checkStreamMessage({ op: 'started', id: '7' }, 7, [7, 8])).toBe(true);
  expect(() => checkStreamMessage({ op: 'done', id: 8 }, 7, [7, 8])).toThrow(
    new ProtocolError("'done' for action 8 while action 7 is the one running"),
  );
  // The library's hooks fire for an action a callback processes itself: not this stream's, ignored.
  expect(checkStreamMessage({ op: 'completed', id: 1 }, 7, [7])).toBe(false);
  expect(checkStreamMessage({ op: 'started', id: 1 }, 7, [7])).toBe(false);
  expect(() => checkStreamMessage({ op: 'done', id: 1 }, undefined, [])).toThrow(
    "'done' for action 1 while action (none) is the one running",
  );
  expect(() => checkStreamMessage({ op: 'window', ids: [7, 8] }, 7, [7, 8, 9])).not.toThrow();
  expect(() => checkStreamMessage({ op: 'window', ids: [6, 7] }, 7, [7, 8])).toThrow(
    'start window for actions not in the stream: [6,7]',
  );
  expect(() => checkStreamMessage({ op: 'stream_end' }, 7, [7])).not.toThrow();
});

test('plugin output is logged with the worker, cut at 2,000 characters, at most 100 lines per 10 s, then a count of the rest', async () => {
  const { log, lines } = capture();
  const out = new WorkerOutputLog(log, 'php#1.0', 'stdout', () => 4242);
  out.line('x'.repeat(2500));
  for (let i = 1; i < 130; i++) out.line(`line ${i}`);
  out.line('   '); // blank lines are not logged
  await new Promise((r) => setImmediate(r));
  const output = lines.filter((l) => l.msg === 'php worker output');
  expect(output).toHaveLength(100);
  expect(output[0]).toMatchObject({ worker: 'php#1.0', pid: 4242, stream: 'stdout', truncated: 2500 });
  expect(output[0].output).toHaveLength(2000);
  expect(output[99].output).toBe('line 99');
  // The next window reports what was left out, then logs again.
  const realNow = Date.now;
  Date.now = () => realNow() + 10_001;
  try {
    out.line('after the window');
  } finally {
    Date.now = realNow;
  }
  await new Promise((r) => setImmediate(r));
  expect(lines.find((l) => l.dropped !== undefined)).toMatchObject({
    worker: 'php#1.0',
    stream: 'stdout',
    dropped: 30,
  });
  expect(lines[lines.length - 1]).toMatchObject({ msg: 'php worker output', output: 'after the window' });
});
