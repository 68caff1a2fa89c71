// Turns a DataViews view into the REST query of GET /sidecar-scheduler/v1/actions (unit-tested).
export interface ViewLike {
  search?: string;
  page?: number;
  perPage?: number;
  sort?: { field: string; direction: 'asc' | 'desc' };
  filters?: Array<{ field: string; operator: string; value: unknown }>;
}

const SORTABLE: Record<string, string> = {
  scheduled: 'date',
  hook: 'hook',
  group: 'group',
  id: 'action_id',
  lastAttempt: 'modified',
};

export interface ActionsQuery {
  page: number;
  per_page: number;
  orderby: string;
  order: 'asc' | 'desc';
  status?: string;
  group?: string;
  hook?: string;
  search?: string;
}

export function viewToQuery(view: ViewLike): ActionsQuery {
  const q: ActionsQuery = {
    page: Math.max(1, view.page ?? 1),
    per_page: Math.min(200, Math.max(1, view.perPage ?? 20)),
    orderby: SORTABLE[view.sort?.field ?? 'scheduled'] ?? 'date',
    order: view.sort?.direction === 'asc' ? 'asc' : 'desc',
  };
  for (const f of view.filters ?? []) {
    if (f.value === undefined || f.value === null || f.value === '') continue;
    const value = Array.isArray(f.value) ? f.value[0] : f.value;
    if (value === undefined || value === '') continue;
    if (f.field === 'status') q.status = String(value);
    if (f.field === 'group') q.group = String(value);
    if (f.field === 'hook') q.hook = String(value);
  }
  if (view.search) q.search = view.search.trim().slice(0, 191);
  return q;
}

/** The filter part alone, for "apply to everything matching this filter". */
export function filterOf(q: ActionsQuery) {
  const f: Record<string, string> = {};
  for (const k of ['status', 'group', 'hook', 'search'] as const) if (q[k]) f[k] = q[k] as string;
  return f;
}

export function toQueryString(q: Record<string, string | number | undefined>): string {
  return Object.entries(q)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}
