// WP-Cron: who runs WordPress's own events, the next ones (late ones marked), and how late the last runs started.
import { __, sprintf } from '@wordpress/i18n';
import { Card, CardBody, CardHeader, Notice } from '@wordpress/components';
import { formatDuration, utcToSite } from '../../lib/format';
import type { WpCronState } from './api';
import './style.scss';

/** Late by more than a minute: WP-Cron's own resolution, so anything below is on time. */
const LATE = 60;

export function WpCron({ data, timezone }: { data: WpCronState; timezone: string }) {
  let who: string = __('WordPress runs these events itself, on page views (WP-Cron is on).', 'sidecar-scheduler');
  if (data.bySidecar) {
    who = __('DISABLE_WP_CRON is set: the sidecar runs these events on time, without traffic.', 'sidecar-scheduler');
  }
  const nobody = data.disabled && !data.bySidecar;
  return (
    <Card className="sidecar-card sidecar-wpcron" data-testid="wp-cron">
      <CardHeader>
        <h2>{__('WP-Cron events', 'sidecar-scheduler')}</h2>
      </CardHeader>
      <CardBody>
        {nobody ? (
          <Notice status="warning" isDismissible={false}>
            {__(
              'DISABLE_WP_CRON is set and no sidecar runs: these events run only if a system cron calls wp-cron.php.',
              'sidecar-scheduler',
            )}
          </Notice>
        ) : (
          <p className="sidecar-muted">{who}</p>
        )}
        <div className="sidecar-wpcron__cols">
          <div>
            <h3>{__('Next', 'sidecar-scheduler')}</h3>
            <table className="widefat striped sidecar-table">
              <thead>
                <tr>
                  <th>{__('Hook', 'sidecar-scheduler')}</th>
                  <th>{__('Due', 'sidecar-scheduler')}</th>
                  <th>{__('Recurrence', 'sidecar-scheduler')}</th>
                </tr>
              </thead>
              <tbody>
                {data.next.map((e) => (
                  <tr key={`${e.hook}-${e.due}`} data-hook={e.hook}>
                    <td>
                      <code>{e.hook}</code>
                    </td>
                    <td className={e.lateSeconds > LATE ? 'sidecar-bad' : ''} title={`${e.due} UTC`}>
                      {utcToSite(e.due, timezone)}
                      {e.lateSeconds > LATE &&
                        ` (${sprintf(/* translators: %s: duration */ __('late by %s', 'sidecar-scheduler'), formatDuration(e.lateSeconds))})`}
                    </td>
                    <td>{e.schedule || __('once', 'sidecar-scheduler')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div>
            <h3>{__('Last runs', 'sidecar-scheduler')}</h3>
            {data.recent.length === 0 ? (
              <p className="sidecar-muted">{__('None by the sidecar yet.', 'sidecar-scheduler')}</p>
            ) : (
              <table className="widefat striped sidecar-table">
                <thead>
                  <tr>
                    <th>{__('Hook', 'sidecar-scheduler')}</th>
                    <th>{__('Started', 'sidecar-scheduler')}</th>
                    <th>{__('Late', 'sidecar-scheduler')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.recent.map((r, i) => (
                    <tr key={`${r.hook}-${r.ran}-${i}`}>
                      <td>
                        <code>{r.hook}</code>
                      </td>
                      <td title={`${r.ran} UTC`}>{utcToSite(r.ran, timezone)}</td>
                      <td className={r.lateSeconds > LATE ? 'sidecar-bad' : ''}>{formatDuration(r.lateSeconds)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </div>
      </CardBody>
    </Card>
  );
}
