// Alerts: each watched condition now (firing or fine, when it last alerted) and the settings form: recipients,
// signed webhook, cool-down and thresholds. Code (the sidecar_scheduler_alert_settings filter) wins over what is saved.
import { useEffect, useState } from '@wordpress/element';
import { __ } from '@wordpress/i18n';
import { Button, Card, CardBody, CardHeader, Notice, TextControl } from '@wordpress/components';
import { errorMessage } from '../../api';
import { relative } from '../../lib/format';
import { saveAlerts, type AlertSettings } from './api';
import './style.scss';

const LABELS: Record<string, string> = {
  no_sidecar: __('No live sidecar while actions are due', 'sidecar-scheduler'),
  past_due: __('Oldest due action over the threshold', 'sidecar-scheduler'),
  stuck: __('Actions stuck in progress', 'sidecar-scheduler'),
  failure_rate: __('A hook fails at a high rate', 'sidecar-scheduler'),
  cleanup: __('Cleanup falls behind', 'sidecar-scheduler'),
  backlog: __('Past-due backlog too large or growing', 'sidecar-scheduler'),
  group_failure: __('A group fails at a high rate', 'sidecar-scheduler'),
  dead_letters: __('New dead letters', 'sidecar-scheduler'),
};

export function Alerts({ data, onSaved }: { data: AlertSettings; onSaved: () => void }) {
  const [form, setForm] = useState({
    emails: '',
    url: '',
    secret: '',
    cooldown: '',
    pastDue: '',
    stuck: '',
    rate: '',
    min: '',
    backlog: '',
    growing: '',
    groupRate: '',
    groupMin: '',
  });
  const [notice, setNotice] = useState<{ status: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // The form stays folded once alerts are configured: the conditions are what one looks at every day.
  const [open, setOpen] = useState(data.emails.length === 0 && !data.webhook_url);
  const savedEmails = data.emails.join(',');
  useEffect(() => {
    setForm({
      emails: data.emails.join(', '),
      url: data.webhook_url,
      secret: '',
      cooldown: String(Math.round(data.cooldown_seconds / 60)),
      pastDue: String(Math.round(data.past_due_seconds / 60)),
      stuck: String(Math.round(data.stuck_seconds / 60)),
      rate: String(Math.round(data.failure_rate * 100)),
      min: String(data.failure_min_count),
      backlog: String(data.backlog_count),
      growing: String(data.backlog_growing_minutes),
      groupRate: String(Math.round(data.group_failure_rate * 100)),
      groupMin: String(data.group_failure_min_count),
    });
    // Only when the saved values change, not on every poll of the conditions.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [
    savedEmails,
    data.webhook_url,
    data.cooldown_seconds,
    data.past_due_seconds,
    data.stuck_seconds,
    data.failure_rate,
    data.failure_min_count,
    data.backlog_count,
    data.backlog_growing_minutes,
    data.group_failure_rate,
    data.group_failure_min_count,
  ]);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const save = async () => {
    setBusy(true);
    try {
      await saveAlerts({
        emails: form.emails.split(/[,\s]+/).filter(Boolean),
        webhook_url: form.url.trim(),
        ...(form.secret ? { webhook_secret: form.secret } : {}),
        cooldown_seconds: 60 * Number(form.cooldown),
        past_due_seconds: 60 * Number(form.pastDue),
        stuck_seconds: 60 * Number(form.stuck),
        failure_rate: Number(form.rate) / 100,
        failure_min_count: Number(form.min),
        backlog_count: Number(form.backlog),
        backlog_growing_minutes: Number(form.growing),
        group_failure_rate: Number(form.groupRate) / 100,
        group_failure_min_count: Number(form.groupMin),
      });
      setNotice({ status: 'success', text: __('Alert settings saved.', 'sidecar-scheduler') });
      onSaved();
    } catch (e) {
      setNotice({ status: 'error', text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  const nowMs = Date.now();
  return (
    <Card className="sidecar-card sidecar-alerts" data-testid="alerts">
      <CardHeader className="sidecar-failing__header">
        <h2>{__('Alerts', 'sidecar-scheduler')}</h2>
        <Button variant="secondary" size="small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? __('Hide settings', 'sidecar-scheduler') : __('Settings', 'sidecar-scheduler')}
        </Button>
      </CardHeader>
      <CardBody>
        <ul className="sidecar-alerts__conditions">
          {data.conditions.map((c) => (
            <li
              key={c.code}
              className={c.firing ? 'sidecar-alerts__firing' : 'sidecar-alerts__ok'}
              data-condition={c.code}
            >
              <span className="sidecar-alerts__dot" aria-hidden="true" />
              <strong>{LABELS[c.code] ?? c.code}</strong>{' '}
              {c.firing ? (
                <span>{c.summary}</span>
              ) : (
                <span className="sidecar-muted">{__('fine', 'sidecar-scheduler')}</span>
              )}
              {c.lastSent && (
                <span className="sidecar-muted">
                  {' '}
                  · {__('last alert', 'sidecar-scheduler')} {relative(c.lastSent, nowMs)}
                </span>
              )}
            </li>
          ))}
        </ul>
        {data.emails.length === 0 && !data.webhook_url && (
          <Notice status="warning" isDismissible={false}>
            {__('Alerts are off: add a recipient or a webhook.', 'sidecar-scheduler')}
          </Notice>
        )}
        {notice && (
          <Notice status={notice.status} onRemove={() => setNotice(null)}>
            {notice.text}
          </Notice>
        )}
        {open && (
          <>
            <div className="sidecar-alerts__form">
              <TextControl
                __nextHasNoMarginBottom
                label={__('Email recipients (comma-separated)', 'sidecar-scheduler')}
                value={form.emails}
                onChange={set('emails')}
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Webhook URL', 'sidecar-scheduler')}
                value={form.url}
                onChange={set('url')}
                type="url"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={
                  data.webhook_secret_set
                    ? __('Webhook secret (set; type to replace)', 'sidecar-scheduler')
                    : __('Webhook secret', 'sidecar-scheduler')
                }
                value={form.secret}
                onChange={set('secret')}
                type="password"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Cool-down (minutes)', 'sidecar-scheduler')}
                value={form.cooldown}
                onChange={set('cooldown')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Past-due threshold (minutes)', 'sidecar-scheduler')}
                value={form.pastDue}
                onChange={set('pastDue')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Stuck after (minutes)', 'sidecar-scheduler')}
                value={form.stuck}
                onChange={set('stuck')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Failure rate (%)', 'sidecar-scheduler')}
                value={form.rate}
                onChange={set('rate')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Minimum failures', 'sidecar-scheduler')}
                value={form.min}
                onChange={set('min')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Past-due backlog over (actions)', 'sidecar-scheduler')}
                value={form.backlog}
                onChange={set('backlog')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Backlog growing for (minutes)', 'sidecar-scheduler')}
                value={form.growing}
                onChange={set('growing')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Group failure rate (%)', 'sidecar-scheduler')}
                value={form.groupRate}
                onChange={set('groupRate')}
                type="number"
              />
              <TextControl
                __nextHasNoMarginBottom
                label={__('Group minimum failures', 'sidecar-scheduler')}
                value={form.groupMin}
                onChange={set('groupMin')}
                type="number"
              />
            </div>
            <Button variant="primary" isBusy={busy} disabled={busy} onClick={() => void save()}>
              {__('Save alert settings', 'sidecar-scheduler')}
            </Button>
          </>
        )}
      </CardBody>
    </Card>
  );
}
