// A lane claims about a second of work: the maximum for fast actions, fewer for slow ones, never 0.
import { ClaimSizer, CLAIM_TARGET_MS } from '../../src-worker/claim/claim-size';

test('before anything ran, a lane claims the maximum', () => {
  expect(new ClaimSizer(100).next()).toBe(100);
});

test('fast actions keep the maximum; slow ones shrink the claim to about a second of work, at least 1', () => {
  const fast = new ClaimSizer(100);
  for (let i = 0; i < 50; i++) fast.observe(0.7);
  expect(fast.next()).toBe(100);
  const medium = new ClaimSizer(100);
  for (let i = 0; i < 50; i++) medium.observe(50);
  expect(medium.next()).toBe(Math.floor(CLAIM_TARGET_MS / 50));
  const slow = new ClaimSizer(100);
  slow.observe(5000);
  expect(slow.next()).toBe(1);
});

test('the size follows a change in run times (moving average), and ignores nonsense', () => {
  const s = new ClaimSizer(100);
  s.observe(2000);
  expect(s.next()).toBe(1);
  for (let i = 0; i < 40; i++) s.observe(1);
  expect(s.next()).toBe(100);
  s.observe(Number.NaN);
  s.observe(-5);
  expect(s.next()).toBe(100);
});

test('start windows: 1 (one commit per action) until something ran, for slow actions, or when turned off; otherwise about the target, capped', () => {
  const s = new ClaimSizer(100);
  expect(s.window(10, 25)).toBe(1); // nothing ran yet: the first stream is never windowed
  for (let i = 0; i < 50; i++) s.observe(0.4);
  expect(s.window(10, 25)).toBe(25); // 10 ms / 0.4 ms = 25
  expect(s.window(10, 10)).toBe(10); // the cap
  expect(s.window(0, 25)).toBe(1); // --start-window-ms=0
  for (let i = 0; i < 50; i++) s.observe(2);
  expect(s.window(10, 25)).toBe(5);
  s.observe(5000);
  expect(s.window(10, 25)).toBe(1); // one slow action is enough to fall back to the exact sequence
});
