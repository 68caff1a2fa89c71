/**
 * @jest-environment jsdom
 */
// Components with logic: the chart's text summary and range switch, warnings and the no-sidecar banner.
import { render, screen, fireEvent } from '@testing-library/react';
import { ThroughputChart } from '../../src-admin/components/ThroughputChart';
import { Overview } from '../../src-admin/components/Overview';

const now = '2025-01-01 12:30:00';
const base = {
  mode: 'standalone',
  now,
  counts: { pending: 3, 'in-progress': 0, complete: 10, failed: 2, canceled: 0 },
  pastDue: { count: 3, oldestAgeSeconds: 900 },
  inProgress: [],
  waitMs: { p50: 12, p95: 80 },
  perMinute: [{ time: '2025-01-01 12:29:00', completed: 7, failed: 2 }],
  perHour: [{ time: '2025-01-01 11:00:00', completed: 100, failed: 5 }],
  sidecars: [],
  warnings: [{ code: 'no_sidecar', severity: 'warning' as const, message: 'No sidecar is running.', fix: 'Start it.' }],
};

test('chart summarises the last hour and switches to 24 hours', () => {
  render(
    <ThroughputChart perMinute={base.perMinute} perHour={base.perHour} nowMs={Date.parse('2025-01-01T12:30:00Z')} />,
  );
  expect(screen.getByText('7 completed and 2 failed in the last hour.')).toBeTruthy();
  expect(screen.getByRole('img').getAttribute('aria-label')).toBe('7 completed and 2 failed in the last hour.');
  fireEvent.click(screen.getByText('Last 24 hours'));
  expect(screen.getByText('100 completed and 5 failed in the last 24 hours.')).toBeTruthy();
});

test('overview shows warnings, counts, past-due age and the no-sidecar banner; a count filters the list', () => {
  const onFilter = jest.fn();
  render(<Overview data={base} timezone="UTC" onFilterStatus={onFilter} />);
  expect(screen.getAllByText('No sidecar is running.').length).toBeGreaterThan(0);
  expect(screen.getAllByText(/No sidecar is alive/).length).toBeGreaterThan(0);
  expect(screen.getByText('oldest waiting 15 min 0 s')).toBeTruthy();
  fireEvent.click(screen.getByLabelText('2 Failed: show in the list'));
  expect(onFilter).toHaveBeenCalledWith('failed');
  fireEvent.click(screen.getByLabelText('3 past-due: show in the list'));
  expect(onFilter).toHaveBeenCalledWith('past-due');
});

describe('PoliciesCard', () => {
  const { PoliciesCard } = require('../../src-admin/components/policies/PoliciesCard');
  const empty = { policies: [], errors: [], pauses: [], breakers: [], deadLetters: { total: 0, items: [] } };

  test('with nothing configured it offers only the editor', () => {
    render(<PoliciesCard data={empty} timezone="UTC" onChanged={() => undefined} />);
    expect(screen.getByRole('button', { name: 'Save policy' })).toBeTruthy();
    expect(screen.queryByText(/Dead letters/)).toBeNull();
    expect(screen.queryByRole('table')).toBeNull();
  });

  test('shows that code wins, who paused what, open breakers and dead letters with their actions', () => {
    render(
      <PoliciesCard
        timezone="UTC"
        onChanged={() => undefined}
        data={{
          ...empty,
          policies: [
            { scope: 'hook', name: 'h', source: 'code', active: true, overridesScreen: true, policy: { delays: [10] } },
            {
              scope: 'hook',
              name: 'h',
              source: 'screen',
              active: false,
              overridesScreen: false,
              policy: { retries: 5 },
            },
          ],
          pauses: [{ scope: 'group', name: 'emails', by: 'admin', userId: 1, atGmt: '2026-01-02 03:04:05' }],
          breakers: [
            {
              group: 'api',
              state: 'open',
              consecutive: 3,
              openedGmt: '2026-01-02 03:00:00',
              untilGmt: '2026-01-02 03:01:00',
              trialGmt: null,
              opens: 1,
              reason: '3 consecutive failures',
            },
          ],
          deadLetters: {
            total: 1,
            items: [
              {
                id: 7,
                originId: 4,
                hook: 'h',
                group: 'g',
                attempts: 4,
                lastError: 'boom',
                firstFailureGmt: '2026-01-02 03:00:00',
                lastFailureGmt: '2026-01-02 03:10:00',
                status: 'failed',
              },
            ],
          },
        }}
      />,
    );
    expect(screen.getByText(/not in force: code sets this one and code wins/)).toBeTruthy();
    expect(screen.getByText(/Paused group "emails" by admin on/)).toBeTruthy();
    expect(screen.getByText(/Circuit breaker of "api": open \(3 consecutive failures\), until/)).toBeTruthy();
    expect(screen.getByText('boom')).toBeTruthy();
    expect(screen.getByText('Dead letters (1)')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Re-run' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Resume' })).toBeTruthy();
  });
});
