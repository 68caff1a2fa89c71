// Failing hooks at a glance: per hook and group in the last hour or day, runs, failures, rate, run time and the top
// error messages (count, first and last seen), with one click to the failed actions in the list or to retry them all.
import { useState } from '@wordpress/element';
import { __, sprintf } from '@wordpress/i18n';
import { Button, Card, CardBody, CardHeader, Notice } from '@wordpress/components';
import { bulkAction, errorMessage } from '../../api';
import { relative, utcToSite } from '../../lib/format';
import type { FailingHooksReport, HookRow } from './api';
import { contract } from '../../contract';
import './style.scss';

/** Whole seconds from the log lines: 0 means under a second. */
function secs(s: number): string {
  return s < 1 ? '< 1 s' : `${s} s`;
}

function rate(r: number): string {
  return `${(r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1)}%`;
}

export function FailingHooks({
  report,
  timezone,
  onShowFailed,
  onChanged,
}: {
  report: FailingHooksReport;
  timezone: string;
  onShowFailed: (hook: string, group: string) => void;
  onChanged: () => void;
}) {
  const [windowName, setWindowName] = useState<'hour' | 'day'>('hour');
  const [message, setMessage] = useState<{ status: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState('');
  const data = report[windowName];
  const failing = data.hooks.filter((h) => h.failures > 0);
  const nowMs = Date.parse(report.generatedAt.replace(' ', 'T') + 'Z');

  const retryAll = async (h: HookRow) => {
    if (
      // A native confirm on purpose, as the list's bulk actions: one blocking question before copying many actions.
      // eslint-disable-next-line no-alert
      !window.confirm(
        sprintf(
          /* translators: 1: count, 2: hook */ __(
            'Retry all %1$d failed actions of %2$s? Each gets a fresh pending copy, due now; the failed rows are kept.',
            'sidecar-scheduler',
          ),
          h.failedNow,
          h.hook,
        ),
      )
    ) {
      return;
    }
    setBusy(h.hook + h.group);
    try {
      const r = await bulkAction('retry', {
        filter: { hook: h.hook, status: contract.statuses.FAILED, ...(h.group ? { group: h.group } : {}) },
      });
      setMessage({
        status: r.errors.length ? 'error' : 'success',
        text:
          sprintf(
            /* translators: 1: done, 2: hook */ __('%1$d failed actions of %2$s queued again.', 'sidecar-scheduler'),
            r.done,
            h.hook,
          ) + (r.errors.length ? ' ' + r.errors[0].message : ''),
      });
      onChanged();
    } catch (e) {
      setMessage({ status: 'error', text: errorMessage(e) });
    } finally {
      setBusy('');
    }
  };

  return (
    <Card className="sidecar-card sidecar-failing" data-testid="failing-hooks">
      <CardHeader className="sidecar-failing__header">
        <h2>{__('Failing hooks', 'sidecar-scheduler')}</h2>
        <div className="sidecar-chart__range" role="group" aria-label={__('Time range', 'sidecar-scheduler')}>
          <Button
            size="small"
            variant={windowName === 'hour' ? 'primary' : 'secondary'}
            onClick={() => setWindowName('hour')}
          >
            {__('Last hour', 'sidecar-scheduler')}
          </Button>
          <Button
            size="small"
            variant={windowName === 'day' ? 'primary' : 'secondary'}
            onClick={() => setWindowName('day')}
          >
            {__('Last day', 'sidecar-scheduler')}
          </Button>
        </div>
      </CardHeader>
      <CardBody>
        {message && (
          <Notice status={message.status} onRemove={() => setMessage(null)}>
            {message.text}
          </Notice>
        )}
        {!data.complete && (
          <Notice status="warning" isDismissible={false}>
            {__('The log table is too large to read in time: these figures are incomplete.', 'sidecar-scheduler')}
          </Notice>
        )}
        {failing.length === 0 ? (
          <p className="sidecar-muted">
            {data.hooks.length
              ? sprintf(
                  /* translators: 1: runs, 2: hooks */ __(
                    'No failures: %1$d runs of %2$d hooks, all complete.',
                    'sidecar-scheduler',
                  ),
                  data.hooks.reduce((n, h) => n + h.runs, 0),
                  data.hooks.length,
                )
              : __('No action ran in this time range.', 'sidecar-scheduler')}
          </p>
        ) : (
          <table className="widefat striped sidecar-table sidecar-failing__table">
            <thead>
              <tr>
                <th>{__('Hook', 'sidecar-scheduler')}</th>
                <th>{__('Runs', 'sidecar-scheduler')}</th>
                <th>{__('Failed', 'sidecar-scheduler')}</th>
                <th>{__('Rate', 'sidecar-scheduler')}</th>
                <th>{__('Run time p50 / p95', 'sidecar-scheduler')}</th>
                <th>{__('Most frequent errors', 'sidecar-scheduler')}</th>
                <th>{__('Act', 'sidecar-scheduler')}</th>
              </tr>
            </thead>
            <tbody>
              {failing.map((h) => (
                <tr key={`${h.hook}\u0000${h.group}`} data-hook={h.hook}>
                  <td>
                    <code>{h.hook}</code>
                    {h.group && <div className="sidecar-muted">{h.group}</div>}
                  </td>
                  <td>{h.runs}</td>
                  <td className="sidecar-bad">{h.failures}</td>
                  <td className={h.failureRate >= 0.1 ? 'sidecar-bad' : ''}>{rate(h.failureRate)}</td>
                  <td>{`${secs(h.runSeconds.p50)} / ${secs(h.runSeconds.p95)}`}</td>
                  <td>
                    <ul className="sidecar-failing__errors">
                      {h.errors.map((e) => (
                        <li key={e.message}>
                          <span className="sidecar-failing__count">{e.count}×</span>{' '}
                          <span className="sidecar-failing__message">{e.message}</span>
                          <div className="sidecar-muted" title={`${e.firstSeen} – ${e.lastSeen} UTC`}>
                            {sprintf(
                              /* translators: 1: relative time, 2: site time */ __(
                                'last %1$s, since %2$s',
                                'sidecar-scheduler',
                              ),
                              relative(e.lastSeen, nowMs),
                              utcToSite(e.firstSeen, timezone),
                            )}
                          </div>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td className="sidecar-failing__act">
                    <Button variant="link" onClick={() => onShowFailed(h.hook, h.group)}>
                      {__('Show failed', 'sidecar-scheduler')}
                    </Button>
                    {h.failedNow > 0 && (
                      <Button
                        variant="secondary"
                        size="small"
                        isBusy={busy === h.hook + h.group}
                        disabled={!!busy}
                        onClick={() => void retryAll(h)}
                      >
                        {sprintf(/* translators: %d: count */ __('Retry %d failed', 'sidecar-scheduler'), h.failedNow)}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </CardBody>
    </Card>
  );
}
