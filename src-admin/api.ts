// REST calls of the admin screen (nonce handled by core's api-fetch); errors arrive as { code, message }.
import apiFetch from '@wordpress/api-fetch';
import { toQueryString, ActionsQuery } from './lib/query';
import { contract } from './contract';

const NS = `/${contract.restNamespace}`;

export interface Overview {
  mode: string;
  now: string;
  counts: Record<string, number>;
  countsApproximate?: boolean;
  pastDue: { count: number; oldestAgeSeconds: number };
  inProgress: Array<{ id: number; hook: string; runningSeconds: number }>;
  perMinute: Array<{ time: string; completed: number; failed: number }>;
  perHour: Array<{ time: string; completed: number; failed: number }>;
  waitMs: { p50: number; p95: number };
  sidecars: Array<{
    id: string;
    host: string;
    pid: number;
    version: string;
    channel: string;
    concurrency: number;
    started: string;
    lastSeen: string;
    running: Array<{ id: number; hook: string; since: number }>;
  }>;
  warnings: Array<{ code: string; severity: 'warning' | 'error'; message: string; fix: string }>;
}

export interface GroupRow {
  group: string;
  pending: number;
  running: number;
  failed24h: number;
  complete24h: number;
  avgRunMs: number | null;
  oldestDue: string | null;
}

export interface ActionItem {
  id: number;
  hook: string;
  status: string;
  args: unknown;
  argsRaw: string;
  group: string;
  priority: number;
  attempts: number;
  claimId: number;
  recurrence: string;
  async: boolean;
  scheduledGmt: string;
  lastAttemptGmt: string;
  logs?: Array<{ dateGmt: string; message: string }>;
}

export const getOverview = () => apiFetch<Overview>({ path: `${NS}/overview` });
export const getGroups = () => apiFetch<GroupRow[]>({ path: `${NS}/groups` });
export const getActions = (q: ActionsQuery) =>
  apiFetch<{ total: number; totalPages: number; totalExact: boolean; searchTimedOut: boolean; items: ActionItem[] }>({
    path: `${NS}/actions?${toQueryString(q as unknown as Record<string, string | number>)}`,
  });
export const getAction = (id: number) => apiFetch<ActionItem>({ path: `${NS}/actions/${id}` });
export const rowAction = (id: number, op: 'run' | 'cancel' | 'retry') =>
  apiFetch<{ id: number }>({ path: `${NS}/actions/${id}/${op}`, method: 'POST' });
export const deleteAction = (id: number) => apiFetch({ path: `${NS}/actions/${id}`, method: 'DELETE' });
export const bulkAction = (
  op: 'run' | 'cancel' | 'retry' | 'delete',
  target: { ids?: number[]; filter?: Record<string, string> },
) =>
  apiFetch<{ matched: number; done: number; errors: Array<{ id: number; message: string }> }>({
    path: `${NS}/actions/bulk`,
    method: 'POST',
    data: { op, ...target },
  });

export function errorMessage(e: unknown): string {
  const m = (e as { message?: string })?.message;
  return m || String(e);
}
