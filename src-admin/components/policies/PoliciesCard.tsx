// Policies at a glance: the policies in force (code wins over the screen, and the table says so), paused groups and
// hooks with Resume, open circuit breakers, and the dead letters with Re-run and Discard (one or all).
import { useState } from '@wordpress/element';
import { __, sprintf } from '@wordpress/i18n';
import {
  Button,
  Card,
  CardBody,
  CardHeader,
  Notice,
  SelectControl,
  TextControl,
  TextareaControl,
} from '@wordpress/components';
import { errorMessage } from '../../api';
import { utcToSite } from '../../lib/format';
import { deadLetterOp, deletePolicy, pause, resume, savePolicy, type PolicyState } from './api';

const STATE: Record<string, string> = {
  open: __('open', 'sidecar-scheduler'),
  'half-open': __('half-open (trial running)', 'sidecar-scheduler'),
  closed: __('closed', 'sidecar-scheduler'),
};

export function PoliciesCard({
  data,
  timezone,
  onChanged,
}: {
  data: PolicyState;
  timezone: string;
  onChanged: () => void;
}) {
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [scope, setScope] = useState<'hook' | 'group'>('hook');
  const [name, setName] = useState('');
  const [json, setJson] = useState('{"delays": [10, 60, 600]}');
  const open = data.breakers.filter((b) => b.state !== 'closed');
  const save = () =>
    act(async () => {
      let policy: unknown;
      try {
        policy = JSON.parse(json);
      } catch (e) {
        throw new Error(
          sprintf(
            /* translators: %s: parser message */ __('The settings are not valid JSON: %s', 'sidecar-scheduler'),
            (e as Error).message,
          ),
        );
      }
      const r = await savePolicy(scope, name, policy);
      setNotice(
        r.overriddenByCode
          ? __('Saved, but code sets a policy of the same name, and code wins.', 'sidecar-scheduler')
          : __('Saved.', 'sidecar-scheduler'),
      );
    });
  async function act(f: () => Promise<unknown>) {
    setBusy(true);
    setError('');
    setNotice('');
    try {
      await f();
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  /** Re-run and Discard of the dead letters `ids`, or of all of them (null). */
  const deadLetterButtons = (ids: number[] | null, rerun: string, discard: string) => (
    <>
      <Button
        variant="secondary"
        size="small"
        disabled={busy}
        onClick={() => void act(() => deadLetterOp('retry', ids))}
      >
        {rerun}
      </Button>{' '}
      <Button
        variant="tertiary"
        size="small"
        isDestructive
        disabled={busy}
        onClick={() => void act(() => deadLetterOp('discard', ids))}
      >
        {discard}
      </Button>
    </>
  );
  return (
    <Card className="sidecar-card sidecar-policies" data-testid="policies">
      <CardHeader>
        <h2>{__('Policies, pauses and dead letters', 'sidecar-scheduler')}</h2>
      </CardHeader>
      <CardBody>
        {error && (
          <Notice status="error" isDismissible={false}>
            {error}
          </Notice>
        )}
        {notice && (
          <Notice status="success" isDismissible={false}>
            {notice}
          </Notice>
        )}
        {data.errors.map((e) => (
          <Notice key={e} status="warning" isDismissible={false}>
            {e}
          </Notice>
        ))}
        {data.pauses.length > 0 && (
          <ul className="sidecar-policies__paused" aria-label={__('Paused', 'sidecar-scheduler')}>
            {data.pauses.map((p) => (
              <li key={`${p.scope}:${p.name}`}>
                {sprintf(
                  /* translators: 1: group or hook, 2: name, 3: who, 4: date */
                  __('Paused %1$s "%2$s" by %3$s on %4$s', 'sidecar-scheduler'),
                  p.scope,
                  p.name,
                  p.by,
                  utcToSite(p.atGmt, timezone),
                )}{' '}
                <Button
                  variant="secondary"
                  size="small"
                  disabled={busy}
                  onClick={() => void act(() => resume(p.scope, p.name))}
                >
                  {__('Resume', 'sidecar-scheduler')}
                </Button>
              </li>
            ))}
          </ul>
        )}
        {open.length > 0 && (
          <ul className="sidecar-policies__breakers" aria-label={__('Circuit breakers', 'sidecar-scheduler')}>
            {open.map((b) => (
              <li key={b.group}>
                {sprintf(
                  /* translators: 1: group, 2: state, 3: reason, 4: date */
                  __('Circuit breaker of "%1$s": %2$s (%3$s), until %4$s', 'sidecar-scheduler'),
                  b.group,
                  STATE[b.state] ?? b.state,
                  b.reason,
                  utcToSite(b.untilGmt ?? '', timezone),
                )}
              </li>
            ))}
          </ul>
        )}
        {data.policies.length > 0 && (
          <table className="widefat striped sidecar-policies__list">
            <thead>
              <tr>
                <th>{__('Applies to', 'sidecar-scheduler')}</th>
                <th>{__('Settings', 'sidecar-scheduler')}</th>
                <th>{__('Set in', 'sidecar-scheduler')}</th>
              </tr>
            </thead>
            <tbody>
              {data.policies.map((p) => (
                <tr key={`${p.source}:${p.scope}:${p.name}`} className={p.active ? '' : 'is-inactive'}>
                  <td>
                    {p.scope === 'group' ? __('group', 'sidecar-scheduler') : __('hook', 'sidecar-scheduler')}{' '}
                    <code>{p.name}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(p.policy)}</code>
                  </td>
                  <td>
                    {p.source === 'code' ? __('code', 'sidecar-scheduler') : __('this screen', 'sidecar-scheduler')}
                    {!p.active && ` — ${__('not in force: code sets this one and code wins', 'sidecar-scheduler')}`}
                    {p.source === 'screen' && (
                      <>
                        {' '}
                        <Button
                          variant="tertiary"
                          size="small"
                          isDestructive
                          disabled={busy}
                          onClick={() => void act(() => deletePolicy(p.scope, p.name))}
                        >
                          {__('Remove', 'sidecar-scheduler')}
                        </Button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {data.deadLetters.total > 0 && (
          <>
            <h3>
              {sprintf(
                /* translators: %d: count */ __('Dead letters (%d)', 'sidecar-scheduler'),
                data.deadLetters.total,
              )}{' '}
              {deadLetterButtons(null, __('Re-run all', 'sidecar-scheduler'), __('Discard all', 'sidecar-scheduler'))}
            </h3>
            <table className="widefat striped sidecar-policies__dead">
              <thead>
                <tr>
                  <th>{__('Hook', 'sidecar-scheduler')}</th>
                  <th>{__('Last error', 'sidecar-scheduler')}</th>
                  <th>{__('Attempts', 'sidecar-scheduler')}</th>
                  <th>{__('First failure', 'sidecar-scheduler')}</th>
                  <th>{__('Last failure', 'sidecar-scheduler')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.deadLetters.items.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <code>{d.hook}</code> #{d.id}
                    </td>
                    <td>{d.lastError}</td>
                    <td>{d.attempts}</td>
                    <td>{utcToSite(d.firstFailureGmt, timezone)}</td>
                    <td>{utcToSite(d.lastFailureGmt, timezone)}</td>
                    <td>
                      {deadLetterButtons([d.id], __('Re-run', 'sidecar-scheduler'), __('Discard', 'sidecar-scheduler'))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        <div className="sidecar-policies__editor">
          <h3>{__('Add or change a policy, or pause', 'sidecar-scheduler')}</h3>
          <SelectControl
            __nextHasNoMarginBottom
            label={__('Applies to', 'sidecar-scheduler')}
            value={scope}
            options={[
              { label: __('a hook', 'sidecar-scheduler'), value: 'hook' },
              { label: __('a group', 'sidecar-scheduler'), value: 'group' },
            ]}
            onChange={(v: string) => setScope(v as 'hook' | 'group')}
          />
          <TextControl
            __nextHasNoMarginBottom
            label={__('Name', 'sidecar-scheduler')}
            value={name}
            onChange={setName}
          />
          <TextareaControl
            __nextHasNoMarginBottom
            label={__('Settings (JSON)', 'sidecar-scheduler')}
            help={__(
              'retries, delays, backoff; for a group also concurrency, rate, breaker. Policies set in code win.',
              'sidecar-scheduler',
            )}
            value={json}
            onChange={setJson}
          />
          <Button variant="primary" disabled={busy || !name} onClick={() => void save()}>
            {__('Save policy', 'sidecar-scheduler')}
          </Button>{' '}
          <Button variant="secondary" disabled={busy || !name} onClick={() => void act(() => pause(scope, name))}>
            {__('Pause', 'sidecar-scheduler')}
          </Button>
        </div>
      </CardBody>
    </Card>
  );
}
