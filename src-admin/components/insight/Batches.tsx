// Batches with progress: each recent batch with a bar (done and failed parts), its counts, ETA and a Cancel button.
import { useState } from '@wordpress/element';
import { __, sprintf } from '@wordpress/i18n';
import { Button, Card, CardBody, CardHeader, Notice } from '@wordpress/components';
import { errorMessage } from '../../api';
import { formatDuration, utcToSite } from '../../lib/format';
import { cancelBatch, type BatchProgress } from './api';
import './style.scss';

const STATUS: Record<BatchProgress['status'], string> = {
  enqueuing: __('Enqueuing', 'sidecar-scheduler'),
  running: __('Running', 'sidecar-scheduler'),
  canceling: __('Canceling', 'sidecar-scheduler'),
  complete: __('Complete', 'sidecar-scheduler'),
  canceled: __('Canceled', 'sidecar-scheduler'),
};

function Bar({ b }: { b: BatchProgress }) {
  const pct = (n: number) => (b.total ? (100 * n) / b.total : 0);
  return (
    <div
      className="sidecar-batch__bar"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={b.percent}
      aria-label={sprintf(
        /* translators: 1: name, 2: percent */ __('%1$s: %2$d%% finished', 'sidecar-scheduler'),
        b.name,
        b.percent,
      )}
    >
      <span className="sidecar-batch__done" style={{ width: `${pct(b.done)}%` }} />
      <span className="sidecar-batch__failed" style={{ width: `${pct(b.failed)}%` }} />
      <span className="sidecar-batch__canceled" style={{ width: `${pct(b.canceled)}%` }} />
    </div>
  );
}

export function Batches({
  batches,
  timezone,
  onChanged,
}: {
  batches: BatchProgress[];
  timezone: string;
  onChanged: () => void;
}) {
  const [error, setError] = useState('');
  if (batches.length === 0) return null;
  const cancel = async (b: BatchProgress) => {
    try {
      await cancelBatch(b.id);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Card className="sidecar-card sidecar-batches" data-testid="batches">
      <CardHeader>
        <h2>{__('Batches', 'sidecar-scheduler')}</h2>
      </CardHeader>
      <CardBody>
        {error && (
          <Notice status="error" onRemove={() => setError('')}>
            {error}
          </Notice>
        )}
        <ul className="sidecar-batches__list">
          {batches.map((b) => (
            <li key={b.id} className={`sidecar-batch sidecar-batch--${b.status}`} data-batch={b.id}>
              <div className="sidecar-batch__head">
                <strong>{b.name}</strong>{' '}
                <span className="sidecar-muted">
                  #{b.id} · <code>{b.hook}</code>
                </span>
                <span
                  className={`sidecar-status sidecar-status--${b.status === 'complete' ? 'complete' : b.status === 'running' ? 'in-progress' : ''}`}
                >
                  {STATUS[b.status]}
                </span>
                <span className="sidecar-batch__pct">{b.percent}%</span>
              </div>
              <Bar b={b} />
              <div className="sidecar-batch__counts">
                {sprintf(
                  /* translators: 1: done, 2: failed, 3: canceled, 4: waiting or running, 5: total */ __(
                    '%1$d done · %2$d failed · %3$d canceled · %4$d to go, of %5$d',
                    'sidecar-scheduler',
                  ),
                  b.done,
                  b.failed,
                  b.canceled,
                  b.pending + b.running,
                  b.total,
                )}
                {b.etaSeconds !== null && (
                  <>
                    {' '}
                    ·{' '}
                    {sprintf(
                      /* translators: %s: duration */ __('about %s left', 'sidecar-scheduler'),
                      formatDuration(b.etaSeconds),
                    )}
                  </>
                )}
                {b.finishedAt && (
                  <>
                    {' '}
                    ·{' '}
                    {sprintf(
                      /* translators: %s: time */ __('finished %s', 'sidecar-scheduler'),
                      utcToSite(b.finishedAt, timezone),
                    )}
                  </>
                )}
                {b.status === 'running' && ' · '}
                {b.status === 'running' && (
                  <Button variant="link" isDestructive className="sidecar-batch__cancel" onClick={() => void cancel(b)}>
                    {__('Cancel', 'sidecar-scheduler')}
                  </Button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </CardBody>
    </Card>
  );
}
