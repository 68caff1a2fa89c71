// Every action within reach: DataViews with search, filters, sorting, paging, row and bulk actions, and
// "apply to everything matching this filter" for clean-ups bigger than a page.
import { useMemo, useState } from '@wordpress/element';
import { __, sprintf } from '@wordpress/i18n';
import { Button, Notice } from '@wordpress/components';
import { DataViews } from '@wordpress/dataviews';
import { getActions, rowAction, deleteAction, bulkAction, ActionItem, errorMessage } from '../api';
import { viewToQuery, filterOf } from '../lib/query';
import { formatArgs, utcToSite, relative } from '../lib/format';
import { usePolling } from '../hooks/usePolling';
import { contract } from '../contract';

const { PENDING, RUNNING, COMPLETE, FAILED, CANCELED } = contract.statuses;

const STATUS_ELEMENTS = [
  { value: PENDING, label: __('Pending', 'sidecar-scheduler') },
  { value: 'past-due', label: __('Past-due', 'sidecar-scheduler') },
  { value: RUNNING, label: __('In-progress', 'sidecar-scheduler') },
  { value: COMPLETE, label: __('Complete', 'sidecar-scheduler') },
  { value: FAILED, label: __('Failed', 'sidecar-scheduler') },
  { value: CANCELED, label: __('Canceled', 'sidecar-scheduler') },
];

/** What "apply to everything matching" offers for a status filter: retry what ended badly, cancel what waits. */
function matchingOpFor(status: string | undefined): 'retry' | 'cancel' | undefined {
  if (status === FAILED || status === CANCELED) return 'retry';
  if (status === PENDING || status === 'past-due') return 'cancel';
  return undefined;
}

type ItemOp = 'run' | 'cancel' | 'retry' | 'delete';

/** One selected action goes to its row's endpoint, several to the bulk endpoint by their IDs. */
function onSelected(op: ItemOp, items: ActionItem[]) {
  if (items.length !== 1) return bulkAction(op, { ids: items.map((i) => i.id) });
  return op === 'delete' ? deleteAction(items[0].id) : rowAction(items[0].id, op);
}

export function ActionsList({
  timezone,
  view,
  setView,
  groups,
  onOpen,
  onChanged,
}: {
  timezone: string;
  view: any;
  setView: (v: any) => void;
  groups: string[];
  onOpen: (id: number) => void;
  onChanged: () => void;
}) {
  const query = viewToQuery(view);
  const { data, error, loading, refresh } = usePolling(() => getActions(query), 5000, [JSON.stringify(query)]);
  const [notice, setNotice] = useState<{ status: 'success' | 'error'; text: string } | undefined>();

  const act = async (label: string, work: () => Promise<unknown>) => {
    try {
      await work();
      setNotice({ status: 'success', text: label });
    } catch (e) {
      setNotice({ status: 'error', text: errorMessage(e) });
    }
    await refresh();
    onChanged();
  };

  /** A callback of the list's actions: `op` on the selected actions, then `done` (of how many) as the notice. */
  const onSelectedThen = (op: ItemOp, done: (count: number) => string) => (items: ActionItem[]) =>
    act(done(items.length), () => onSelected(op, items));

  const fields = useMemo(
    () => [
      {
        id: 'hook',
        label: __('Hook', 'sidecar-scheduler'),
        type: 'text' as const,
        enableHiding: false,
        enableGlobalSearch: true,
        render: ({ item }: { item: ActionItem }) => (
          <button type="button" className="button-link sidecar-hook" onClick={() => onOpen(item.id)}>
            {item.hook}
          </button>
        ),
      },
      {
        id: 'status',
        label: __('Status', 'sidecar-scheduler'),
        type: 'text' as const,
        elements: STATUS_ELEMENTS,
        filterBy: { operators: ['is' as const] },
        enableSorting: false,
        render: ({ item }: { item: ActionItem }) => (
          <span className={`sidecar-status sidecar-status--${item.status}`}>
            {STATUS_ELEMENTS.find((s) => s.value === item.status)?.label ?? item.status}
          </span>
        ),
      },
      {
        id: 'args',
        label: __('Arguments', 'sidecar-scheduler'),
        type: 'text' as const,
        enableSorting: false,
        render: ({ item }: { item: ActionItem }) => (
          <code className="sidecar-args-cell">{item.args === null ? item.argsRaw : formatArgs(item.args)}</code>
        ),
      },
      {
        id: 'group',
        label: __('Group', 'sidecar-scheduler'),
        type: 'text' as const,
        elements: groups.filter(Boolean).map((g) => ({ value: g, label: g })),
        filterBy: { operators: ['is' as const] },
      },
      {
        id: 'recurrence',
        label: __('Recurrence', 'sidecar-scheduler'),
        type: 'text' as const,
        enableSorting: false,
        getValue: ({ item }: { item: ActionItem }) => item.recurrence,
      },
      {
        id: 'scheduled',
        label: __('Scheduled date', 'sidecar-scheduler'),
        type: 'text' as const,
        getValue: ({ item }: { item: ActionItem }) => item.scheduledGmt,
        render: ({ item }: { item: ActionItem }) => (
          <span title={`${item.scheduledGmt} UTC`}>
            {item.async ? `${__('async', 'sidecar-scheduler')} · ` : ''}
            {utcToSite(item.scheduledGmt, timezone)}{' '}
            <span className="sidecar-muted">({relative(item.scheduledGmt)})</span>
          </span>
        ),
      },
      { id: 'id', label: __('ID', 'sidecar-scheduler'), type: 'integer' as const },
      { id: 'claimId', label: __('Claim ID', 'sidecar-scheduler'), type: 'integer' as const, enableSorting: false },
    ],
    [timezone, groups, onOpen],
  );

  const actions = useMemo(
    () => [
      {
        id: 'run',
        label: __('Run now', 'sidecar-scheduler'),
        isPrimary: true,
        supportsBulk: true,
        isEligible: (i: ActionItem) => i.status === PENDING,
        callback: onSelectedThen('run', (n) =>
          sprintf(
            /* translators: %d: number of actions */ __('Queued %d action(s) to run now.', 'sidecar-scheduler'),
            n,
          ),
        ),
      },
      {
        id: 'cancel',
        label: __('Cancel', 'sidecar-scheduler'),
        supportsBulk: true,
        isEligible: (i: ActionItem) => i.status === PENDING,
        callback: onSelectedThen('cancel', (n) =>
          sprintf(/* translators: %d: number of actions */ __('Canceled %d action(s).', 'sidecar-scheduler'), n),
        ),
      },
      {
        id: 'retry',
        label: __('Retry', 'sidecar-scheduler'),
        isPrimary: true,
        supportsBulk: true,
        isEligible: (i: ActionItem) => i.status === FAILED || i.status === CANCELED,
        callback: onSelectedThen('retry', (n) =>
          sprintf(/* translators: %d: number of actions */ __('Queued %d fresh copy(ies).', 'sidecar-scheduler'), n),
        ),
      },
      {
        id: 'details',
        label: __('View details and log', 'sidecar-scheduler'),
        callback: (items: ActionItem[]) => onOpen(items[0].id),
      },
      {
        id: 'delete',
        label: __('Delete', 'sidecar-scheduler'),
        isDestructive: true,
        supportsBulk: true,
        callback: onSelectedThen('delete', (n) =>
          sprintf(/* translators: %d: number of actions */ __('Deleted %d action(s).', 'sidecar-scheduler'), n),
        ),
      },
    ],
    // `act` is new each render, but what it calls (this list's refresh, the screen's onChanged) does the same work.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [onOpen],
  );

  const filter = filterOf(query);
  const total = data?.total ?? 0;
  const matchingOp = matchingOpFor(query.status);

  return (
    <div className="sidecar-actions">
      {notice && (
        <Notice status={notice.status} onRemove={() => setNotice(undefined)}>
          {notice.text}
        </Notice>
      )}
      {data?.searchTimedOut && (
        <Notice status="warning" isDismissible={false}>
          {__(
            'The search stopped after a fraction of a second: this table is large and a text search reads every row. Add a status, group or hook filter to narrow it.',
            'sidecar-scheduler',
          )}
        </Notice>
      )}
      {data && !data.totalExact && !data.searchTimedOut && (
        <p className="sidecar-muted">
          {__('Showing the first matches; there are more than can be counted quickly.', 'sidecar-scheduler')}
        </p>
      )}
      {!!error && (
        <Notice status="error" isDismissible={false}>
          {sprintf(
            /* translators: %s: error message */ __('Could not load actions: %s', 'sidecar-scheduler'),
            errorMessage(error),
          )}
        </Notice>
      )}
      {matchingOp && Object.keys(filter).length > 0 && total > 0 && (
        <div className="sidecar-matching">
          <Button
            variant="secondary"
            onClick={() => {
              const question = sprintf(
                /* translators: 1: Retry or Cancel, 2: number of actions */
                __('%1$s all %2$d actions matching this filter?', 'sidecar-scheduler'),
                matchingOp === 'retry' ? __('Retry', 'sidecar-scheduler') : __('Cancel', 'sidecar-scheduler'),
                total,
              );
              // A blocking native confirm on purpose: this acts on every matching row, possibly thousands, not one page.
              // eslint-disable-next-line no-alert
              if (window.confirm(question)) {
                void act(__('Done for every matching action.', 'sidecar-scheduler'), () =>
                  bulkAction(matchingOp, { filter }),
                );
              }
            }}
          >
            {matchingOp === 'retry'
              ? sprintf(
                  /* translators: %d: number of actions */ __('Retry all %d matching', 'sidecar-scheduler'),
                  total,
                )
              : sprintf(
                  /* translators: %d: number of actions */ __('Cancel all %d matching', 'sidecar-scheduler'),
                  total,
                )}
          </Button>
        </div>
      )}
      <DataViews
        data={data?.items ?? []}
        fields={fields as any}
        view={view}
        onChangeView={setView}
        actions={actions as any}
        paginationInfo={{ totalItems: total, totalPages: data?.totalPages ?? 0 }}
        defaultLayouts={{ table: {} }}
        isLoading={loading && !data}
        getItemId={(item: ActionItem) => String(item.id)}
        searchLabel={__('Search hook, args and claim ID', 'sidecar-scheduler')}
        empty={<p>{__('No actions match.', 'sidecar-scheduler')}</p>}
      />
    </div>
  );
}
