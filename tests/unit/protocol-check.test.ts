// The check of a worker's replies against the contract (src-worker/protocol-check.ts).
import { checkReply } from '../../src-worker/protocol-check';

const problem = (m: unknown) => {
  const c = checkReply(m);
  return 'problem' in c ? c.problem : undefined;
};

test('a reply with its declared fields passes, extra fields are let through, optional ones may be absent', () => {
  expect(
    problem({
      op: 'done',
      id: 7,
      status: 'complete',
      ms: 1.5,
      mem: 2097152,
      at: ['2026-01-01 00:00:00', '2026-01-01 01:00:00'],
    }),
  ).toBeUndefined();
  expect(problem({ op: 'done', id: 7, status: 'lost' })).toBeUndefined();
  expect(problem({ op: 'pong', mem: 1, jobs: 0, extra: 'new field' })).toBeUndefined();
  expect(problem({ op: 'window', ids: [1, 2], gmt: 'g', message: 'm', prev: { 1: ['a', 'b'] } })).toBeUndefined();
  expect(problem({ op: 'window', ids: [1], gmt: 'g', message: 'm', prev: [] })).toBeUndefined(); // PHP's empty map
});

test('an unknown op, a missing field, a wrong type or an undeclared value is named', () => {
  expect(problem({ op: 'teleport' })).toBe('unknown op "teleport"');
  expect(problem('done')).toBe('not a JSON object');
  expect(problem({ op: 'done', status: 'complete' })).toBe('\'done\': "id" is missing');
  expect(problem({ op: 'done', id: '7', status: 'complete' })).toBe('\'done\': "id" is not int: "7"');
  expect(problem({ op: 'done', id: 7, status: 'exploded' })).toBe('\'done\': "status" is not outcome: "exploded"');
  expect(problem({ op: 'stream_end', ran: 1, reason: 'bored', why: '', mem: 1 })).toBe(
    '\'stream_end\': "reason" is not streamEnd: "bored"',
  );
  expect(problem({ op: 'completed', id: 1, at: ['only one'] })).toBe(
    '\'completed\': "at" is not [string,string]: ["only one"]',
  );
  expect(problem({ op: 'window', ids: [1], gmt: 'g', message: 'm', prev: { 1: 'x' } })).toBe(
    '\'window\': "prev" is not {[string,string]}: {"1":"x"}',
  );
  expect(problem({ op: 'flushed', mem: 1, stale: 0 })).toBe('\'flushed\': "stale" is not bool: 0');
});
