// Per-group health: pending, running, failed and completed in 24 h, average run time, oldest due.
import { __ } from '@wordpress/i18n';
import { Card, CardBody, CardHeader } from '@wordpress/components';
import type { GroupRow } from '../api';
import { formatMs, utcToSite } from '../lib/format';

export function Groups({
  rows,
  timezone,
  onFilterGroup,
}: {
  rows: GroupRow[];
  timezone: string;
  onFilterGroup: (g: string) => void;
}) {
  return (
    <Card className="sidecar-card">
      <CardHeader>
        <h2>{__('Groups', 'sidecar-scheduler')}</h2>
      </CardHeader>
      <CardBody>
        {rows.length === 0 ? (
          <p className="sidecar-muted">{__('No actions yet.', 'sidecar-scheduler')}</p>
        ) : (
          <table className="widefat striped sidecar-table">
            <thead>
              <tr>
                <th>{__('Group', 'sidecar-scheduler')}</th>
                <th>{__('Pending', 'sidecar-scheduler')}</th>
                <th>{__('Running', 'sidecar-scheduler')}</th>
                <th>{__('Failed (24 h)', 'sidecar-scheduler')}</th>
                <th>{__('Completed (24 h)', 'sidecar-scheduler')}</th>
                <th>{__('Average run time', 'sidecar-scheduler')}</th>
                <th>{__('Oldest due', 'sidecar-scheduler')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.group || '(none)'}>
                  <td>
                    <button type="button" className="button-link" onClick={() => onFilterGroup(r.group)}>
                      {r.group || __('(no group)', 'sidecar-scheduler')}
                    </button>
                  </td>
                  <td>{r.pending}</td>
                  <td>{r.running}</td>
                  <td className={r.failed24h ? 'sidecar-bad' : ''}>{r.failed24h}</td>
                  <td>{r.complete24h}</td>
                  <td>{r.avgRunMs === null ? '—' : formatMs(r.avgRunMs)}</td>
                  <td title={r.oldestDue ? `${r.oldestDue} UTC` : undefined}>
                    {r.oldestDue ? utcToSite(r.oldestDue, timezone) : '—'}
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
