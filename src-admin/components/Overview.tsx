// The five-second answer: warnings with fixes, counts per status, past-due age, wait times, sidecars and running actions.
import { __, sprintf } from '@wordpress/i18n';
import { Card, CardBody, CardHeader, Notice } from '@wordpress/components';
import type { Overview as OverviewData } from '../api';
import { formatDuration, formatMs, utcToSite, relative } from '../lib/format';
import { ThroughputChart } from './ThroughputChart';
import { contract } from '../contract';

const { PENDING, RUNNING, COMPLETE, FAILED, CANCELED } = contract.statuses;

const STATUS_LABELS: Record<string, string> = {
  [PENDING]: __('Pending', 'sidecar-scheduler'),
  [RUNNING]: __('In-progress', 'sidecar-scheduler'),
  [COMPLETE]: __('Complete', 'sidecar-scheduler'),
  [FAILED]: __('Failed', 'sidecar-scheduler'),
  [CANCELED]: __('Canceled', 'sidecar-scheduler'),
};

function Stat({
  label,
  value,
  hint,
  tone,
}: {
  label: string;
  value: string | number;
  hint?: string;
  tone?: 'bad' | 'ok';
}) {
  return (
    <div className={`sidecar-stat${tone ? ` sidecar-stat--${tone}` : ''}`} data-testid={`stat-${label}`}>
      <div className="sidecar-stat__value">{value}</div>
      <div className="sidecar-stat__label">{label}</div>
      {hint && <div className="sidecar-stat__hint">{hint}</div>}
    </div>
  );
}

export function Overview({
  data,
  timezone,
  onFilterStatus,
}: {
  data: OverviewData;
  timezone: string;
  onFilterStatus: (s: string) => void;
}) {
  const nowMs = Date.parse(data.now.replace(' ', 'T') + 'Z');
  return (
    <div className="sidecar-overview">
      {data.warnings.map((w) => (
        <Notice
          key={w.code}
          status={w.severity}
          isDismissible={false}
          className={`sidecar-warning sidecar-warning--${w.code}`}
        >
          <strong>{w.message}</strong> {w.fix}
        </Notice>
      ))}
      <div className="sidecar-stats" role="list" aria-label={__('Actions by status', 'sidecar-scheduler')}>
        {Object.entries(data.counts).map(([status, n]) => (
          // The list item wraps the button (a listitem role on the button itself would hide that it is a button).
          <div key={status} role="listitem">
            <button
              type="button"
              className="sidecar-stat-button"
              onClick={() => onFilterStatus(status)}
              aria-label={sprintf(
                /* translators: 1: count, 2: status */ __('%1$d %2$s: show in the list', 'sidecar-scheduler'),
                n,
                STATUS_LABELS[status] ?? status,
              )}
            >
              <Stat
                label={STATUS_LABELS[status] ?? status}
                value={data.countsApproximate && status === COMPLETE ? `≈ ${n}` : n}
                tone={status === FAILED && n > 0 ? 'bad' : undefined}
                hint={
                  data.countsApproximate && status === COMPLETE
                    ? __('estimated: large table', 'sidecar-scheduler')
                    : undefined
                }
              />
            </button>
          </div>
        ))}
        <div role="listitem">
          <button
            type="button"
            className="sidecar-stat-button"
            onClick={() => onFilterStatus('past-due')}
            aria-label={sprintf(
              /* translators: %d: count */ __('%d past-due: show in the list', 'sidecar-scheduler'),
              data.pastDue.count,
            )}
          >
            <Stat
              label={__('Past-due', 'sidecar-scheduler')}
              value={data.pastDue.count}
              tone={data.pastDue.oldestAgeSeconds > 300 ? 'bad' : undefined}
              hint={
                data.pastDue.count
                  ? sprintf(
                      /* translators: %s: duration */ __('oldest waiting %s', 'sidecar-scheduler'),
                      formatDuration(data.pastDue.oldestAgeSeconds),
                    )
                  : undefined
              }
            />
          </button>
        </div>
        <div role="listitem">
          <Stat
            label={__('Wait p50 / p95', 'sidecar-scheduler')}
            value={`${formatMs(data.waitMs.p50)} / ${formatMs(data.waitMs.p95)}`}
            hint={__('due → started, last hour', 'sidecar-scheduler')}
          />
        </div>
      </div>

      <div className="sidecar-grid">
        <Card className="sidecar-card">
          <CardBody>
            <ThroughputChart perMinute={data.perMinute} perHour={data.perHour} nowMs={nowMs} />
          </CardBody>
        </Card>
        <Card className="sidecar-card">
          <CardHeader>
            <h2>{__('Sidecars', 'sidecar-scheduler')}</h2>
          </CardHeader>
          <CardBody>
            {data.sidecars.length === 0 ? (
              <Notice status="warning" isDismissible={false}>
                {__('No sidecar is alive. The WP-Cron fallback runner is processing the queue.', 'sidecar-scheduler')}
              </Notice>
            ) : (
              <table className="widefat striped sidecar-table">
                <thead>
                  <tr>
                    <th>{__('Host', 'sidecar-scheduler')}</th>
                    <th>{__('Version', 'sidecar-scheduler')}</th>
                    <th>{__('Channel', 'sidecar-scheduler')}</th>
                    <th>{__('Workers', 'sidecar-scheduler')}</th>
                    <th>{__('Heartbeat', 'sidecar-scheduler')}</th>
                    <th>{__('Running now', 'sidecar-scheduler')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.sidecars.map((s) => (
                    <tr key={s.id}>
                      <td>
                        {s.host} <span className="sidecar-muted">pid {s.pid}</span>
                      </td>
                      <td>{s.version}</td>
                      <td>{s.channel}</td>
                      <td>{s.concurrency}</td>
                      <td title={`${s.lastSeen} UTC`}>{relative(s.lastSeen, nowMs)}</td>
                      <td>{s.running.length ? s.running.map((r) => `#${r.id} ${r.hook}`).join(', ') : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <h3>{__('In progress', 'sidecar-scheduler')}</h3>
            {data.inProgress.length === 0 ? (
              <p className="sidecar-muted">{__('Nothing is running.', 'sidecar-scheduler')}</p>
            ) : (
              <ul className="sidecar-running">
                {data.inProgress.map((r) => (
                  <li key={r.id}>
                    #{r.id} <code>{r.hook}</code> — {formatDuration(r.runningSeconds)}
                  </li>
                ))}
              </ul>
            )}
            <p className="sidecar-muted">
              {sprintf(
                /* translators: %s: time */ __('Updated %s (site time).', 'sidecar-scheduler'),
                utcToSite(data.now, timezone),
              )}
            </p>
          </CardBody>
        </Card>
      </div>
    </div>
  );
}
