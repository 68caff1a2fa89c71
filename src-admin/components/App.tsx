// The screen: overview on top, groups, then the actions list; everything refreshes every 5 s while the tab is visible.
import { useCallback, useState } from '@wordpress/element';
import { __ } from '@wordpress/i18n';
import { Notice, Spinner } from '@wordpress/components';
import { getOverview, getGroups, errorMessage } from '../api';
import { usePolling } from '../hooks/usePolling';
import { Overview } from './Overview';
import { Groups } from './Groups';
import { ActionsList } from './ActionsList';
import { ActionDetail } from './ActionDetail';
import { FailingHooks } from './insight/FailingHooks';
import { Batches } from './insight/Batches';
import { Alerts } from './insight/Alerts';
import { WpCron } from './insight/WpCron';
import { getFailingHooks, getBatches, getAlerts, getWpCron } from './insight/api';
import { PoliciesCard } from './policies/PoliciesCard';
import { getPolicyState } from './policies/api';

const DEFAULT_VIEW = {
  type: 'table',
  search: '',
  page: 1,
  perPage: 20,
  filters: [] as any[],
  sort: { field: 'scheduled', direction: 'desc' },
  titleField: 'hook',
  fields: ['status', 'args', 'group', 'recurrence', 'scheduled'],
  layout: {},
};

export function App({ timezone }: { timezone: string }) {
  const overview = usePolling(getOverview, 5000);
  const groups = usePolling(getGroups, 15000);
  // The failing-hooks report reads a day of log lines: once a minute is enough, and cheap for the database.
  const failingHooks = usePolling(getFailingHooks, 60000);
  const batches = usePolling(getBatches, 5000);
  const alerts = usePolling(getAlerts, 30000);
  const wpCron = usePolling(getWpCron, 30000);
  const policies = usePolling(getPolicyState, 10000);
  const [view, setView] = useState<any>(DEFAULT_VIEW);
  const [openId, setOpenId] = useState<number | undefined>();
  const setFilter = useCallback((field: string, value: string) => {
    setView((v: any) => ({
      ...v,
      page: 1,
      filters: [
        ...v.filters.filter((f: any) => f.field !== field),
        ...(value ? [{ field, operator: 'is', value }] : []),
      ],
    }));
    document.getElementById('sidecar-actions-heading')?.scrollIntoView({ behavior: 'smooth' });
  }, []);
  const refreshAll = useCallback(() => {
    void overview.refresh();
    void groups.refresh();
  }, [overview, groups]);

  return (
    <div className="sidecar-app">
      {!!overview.error && (
        <Notice status="error" isDismissible={false}>
          {__('Could not load queue health:', 'sidecar-scheduler')} {errorMessage(overview.error)}
        </Notice>
      )}
      {!overview.data && !overview.error && <Spinner />}
      {overview.data && (
        <Overview data={overview.data} timezone={timezone} onFilterStatus={(s) => setFilter('status', s)} />
      )}
      {failingHooks.data && (
        <FailingHooks
          report={failingHooks.data}
          timezone={timezone}
          onChanged={() => {
            refreshAll();
            void failingHooks.refresh();
          }}
          onShowFailed={(hook, group) => {
            setFilter('status', 'failed');
            setFilter('group', group);
            setFilter('hook', hook);
          }}
        />
      )}
      {batches.data && <Batches batches={batches.data} timezone={timezone} onChanged={() => void batches.refresh()} />}
      {policies.data && (
        <PoliciesCard data={policies.data} timezone={timezone} onChanged={() => void policies.refresh()} />
      )}
      {groups.data && <Groups rows={groups.data} timezone={timezone} onFilterGroup={(g) => setFilter('group', g)} />}
      {alerts.data && <Alerts data={alerts.data} onSaved={() => void alerts.refresh()} />}
      {wpCron.data && <WpCron data={wpCron.data} timezone={timezone} />}
      <h2 id="sidecar-actions-heading">{__('Actions', 'sidecar-scheduler')}</h2>
      <ActionsList
        timezone={timezone}
        view={view}
        setView={setView}
        groups={(groups.data ?? []).map((g) => g.group)}
        onOpen={setOpenId}
        onChanged={refreshAll}
      />
      {openId !== undefined && <ActionDetail id={openId} timezone={timezone} onClose={() => setOpenId(undefined)} />}
    </div>
  );
}
