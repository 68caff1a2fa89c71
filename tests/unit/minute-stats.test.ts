// Per-minute statistics the admin page charts: counts and wait sums cover every action, percentiles a sample.
import { MinuteStats } from '../../src-worker/metrics';

test('above 5,000 actions in a minute the wait sum still covers every action (the average wait stays right)', () => {
  const s = new MinuteStats();
  for (let i = 0; i < 6000; i++) s.record('2026-01-01 00:00:00', 'emails', true, i < 5000 ? 10 : 1000, 2);
  const [row] = s.drain();
  expect(row).toMatchObject({
    minute: '2026-01-01 00:00:00',
    group: 'emails',
    completed: 6000,
    failed: 0,
    waitSum: 5000 * 10 + 1000 * 1000,
    runMs: 12000,
  });
  expect(row.p50).toBe(10);
});

test('groups and minutes are kept apart, failures counted, and drain empties the buffer', () => {
  const s = new MinuteStats();
  s.record('2026-01-01 00:00:00', 'a', true, 5, 1);
  s.record('2026-01-01 00:00:00', 'a', false, 15, 1);
  s.record('2026-01-01 00:01:00', 'a', true, 7, 1);
  s.record('2026-01-01 00:00:00', 'b', true, 9, 1);
  const rows = s.drain();
  expect(rows.map((r) => [r.minute.slice(14, 16), r.group, r.completed, r.failed, r.waitSum])).toEqual([
    ['00', 'a', 1, 1, 20],
    ['01', 'a', 1, 0, 7],
    ['00', 'b', 1, 0, 9],
  ]);
  expect(s.drain()).toEqual([]);
});
