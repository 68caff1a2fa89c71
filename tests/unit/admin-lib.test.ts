// Pure logic of the admin screen: formatting, DataViews view → REST query, chart series.
import { formatDuration, utcToSite, relative, formatArgs } from '../../src-admin/lib/format';
import { viewToQuery, filterOf, toQueryString } from '../../src-admin/lib/query';
import { fillSeries, scale } from '../../src-admin/lib/chart';

test('durations', () => {
  expect(formatDuration(0.25)).toBe('250 ms');
  expect(formatDuration(42)).toBe('42 s');
  expect(formatDuration(125)).toBe('2 min 5 s');
  expect(formatDuration(7300)).toBe('2 h 1 min');
  expect(formatDuration(90000)).toBe('1 d 1 h');
  expect(formatDuration(-1)).toBe('—');
});

test('UTC rows shown in the site timezone', () => {
  expect(utcToSite('2025-01-01 12:00:00', 'Europe/Berlin')).toBe('2025-01-01 13:00:00');
  expect(utcToSite('2025-07-01 12:00:00', 'Europe/Berlin')).toBe('2025-07-01 14:00:00');
  expect(utcToSite('0000-00-00 00:00:00', 'UTC')).toBe('—');
  expect(utcToSite('2025-01-01 12:00:00', 'Not/AZone')).toBe('2025-01-01 12:00:00 UTC');
});

test('relative times', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  expect(relative('2025-01-01 12:05:00', now)).toBe('in 5 min 0 s');
  expect(relative('2025-01-01 11:00:00', now)).toBe('1 h 0 min ago');
});

test('args', () => {
  expect(formatArgs([])).toBe('[]');
  expect(formatArgs({ a: 1 })).toBe('{"a":1}');
  expect(formatArgs(null)).toBe('');
});

test('view to query: filters, sort, search, bounds', () => {
  const q = viewToQuery({
    page: 2,
    perPage: 50,
    sort: { field: 'hook', direction: 'asc' },
    search: ' order ',
    filters: [
      { field: 'status', operator: 'is', value: 'past-due' },
      { field: 'group', operator: 'is', value: 'emails' },
      { field: 'hook', operator: 'is', value: '' },
    ],
  });
  expect(q).toEqual({
    page: 2,
    per_page: 50,
    orderby: 'hook',
    order: 'asc',
    status: 'past-due',
    group: 'emails',
    search: 'order',
  });
  expect(viewToQuery({ perPage: 1000, page: 0 })).toMatchObject({
    per_page: 200,
    page: 1,
    orderby: 'date',
    order: 'desc',
  });
  expect(filterOf(q)).toEqual({ status: 'past-due', group: 'emails', search: 'order' });
  expect(toQueryString({ a: 'x y', b: 2, c: undefined, d: '' })).toBe('a=x%20y&b=2');
});

test('chart series fill missing minutes and scale to the tallest bar', () => {
  const end = Date.parse('2025-01-01T12:02:30Z');
  const s = fillSeries([{ time: '2025-01-01 12:01:00', completed: 4, failed: 1 }], end, 60_000, 3);
  expect(s.map((p) => [p.time, p.completed, p.failed])).toEqual([
    ['2025-01-01 12:00:00', 0, 0],
    ['2025-01-01 12:01:00', 4, 1],
    ['2025-01-01 12:02:00', 0, 0],
  ]);
  expect(scale(s, 100)[1]).toEqual({ completed: 80, failed: 20 });
});
