// One action in a modal: every field, the full args and the whole log.
import { useEffect, useState } from '@wordpress/element';
import { __ } from '@wordpress/i18n';
import { Modal, Spinner, Notice } from '@wordpress/components';
import { getAction, ActionItem, errorMessage } from '../api';
import { utcToSite } from '../lib/format';

export function ActionDetail({ id, timezone, onClose }: { id: number; timezone: string; onClose: () => void }) {
  const [item, setItem] = useState<ActionItem | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    getAction(id).then(setItem, (e) => setError(errorMessage(e)));
  }, [id]);
  return (
    <Modal title={`${__('Action', 'sidecar-scheduler')} #${id}`} onRequestClose={onClose} size="large">
      {error && (
        <Notice status="error" isDismissible={false}>
          {error}
        </Notice>
      )}
      {!item && !error && <Spinner />}
      {item && (
        <div className="sidecar-detail">
          <dl>
            <dt>{__('Hook', 'sidecar-scheduler')}</dt>
            <dd>
              <code>{item.hook}</code>
            </dd>
            <dt>{__('Status', 'sidecar-scheduler')}</dt>
            <dd>{item.status}</dd>
            <dt>{__('Group', 'sidecar-scheduler')}</dt>
            <dd>{item.group || '—'}</dd>
            <dt>{__('Scheduled', 'sidecar-scheduler')}</dt>
            <dd title={`${item.scheduledGmt} UTC`}>
              {item.async ? __('async', 'sidecar-scheduler') + ' — ' : ''}
              {utcToSite(item.scheduledGmt, timezone)}
            </dd>
            <dt>{__('Recurrence', 'sidecar-scheduler')}</dt>
            <dd>{item.recurrence}</dd>
            <dt>{__('Priority / attempts / claim', 'sidecar-scheduler')}</dt>
            <dd>
              {item.priority} / {item.attempts} / {item.claimId || '—'}
            </dd>
          </dl>
          <h3>{__('Arguments', 'sidecar-scheduler')}</h3>
          <pre className="sidecar-args">{item.args === null ? item.argsRaw : JSON.stringify(item.args, null, 2)}</pre>
          <h3>{__('Log', 'sidecar-scheduler')}</h3>
          <ol className="sidecar-log">
            {(item.logs ?? []).map((l, i) => (
              <li key={i}>
                <time title={`${l.dateGmt} UTC`}>{utcToSite(l.dateGmt, timezone)}</time> {l.message}
              </li>
            ))}
          </ol>
        </div>
      )}
    </Modal>
  );
}
