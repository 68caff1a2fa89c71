// REST calls and types of the insight parts of the screen (failing hooks; batches and Site Health parts add theirs).
import apiFetch from '@wordpress/api-fetch';

const NS = '/sidecar-scheduler/v1';

export interface HookError {
  message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}
export interface HookRow {
  hook: string;
  group: string;
  runs: number;
  failures: number;
  failureRate: number;
  runSeconds: { p50: number; p95: number };
  lastRunAt: string | null;
  lastFailureAt: string | null;
  failedNow: number;
  errors: HookError[];
}
export interface HookWindow {
  window: 'hour' | 'day';
  since: string;
  complete: boolean;
  hooks: HookRow[];
}
export interface FailingHooksReport {
  generatedAt: string;
  hour: HookWindow;
  day: HookWindow;
}

export const getFailingHooks = () => apiFetch<FailingHooksReport>({ path: `${NS}/failing-hooks` });

export interface BatchProgress {
  id: number;
  name: string;
  hook: string;
  group: string;
  status: 'enqueuing' | 'running' | 'canceling' | 'complete' | 'canceled';
  total: number;
  done: number;
  failed: number;
  canceled: number;
  pending: number;
  running: number;
  percent: number;
  etaSeconds: number | null;
  createdAt: string;
  finishedAt: string | null;
}

export const getBatches = () => apiFetch<BatchProgress[]>({ path: `${NS}/batches?per_page=10` });
export const cancelBatch = (id: number) =>
  apiFetch<BatchProgress>({ path: `${NS}/batches/${id}/cancel`, method: 'POST' });

export interface AlertCondition {
  code: string;
  firing: boolean;
  summary: string;
  lastSent: string | null;
}
export interface AlertSettings {
  emails: string[];
  webhook_url: string;
  webhook_secret_set: boolean;
  cooldown_seconds: number;
  past_due_seconds: number;
  stuck_seconds: number;
  failure_rate: number;
  failure_min_count: number;
  backlog_count: number;
  backlog_growing_minutes: number;
  group_failure_rate: number;
  group_failure_min_count: number;
  pending_webhooks: number;
  conditions: AlertCondition[];
}
export type AlertSettingsInput = Partial<
  Omit<AlertSettings, 'conditions' | 'webhook_secret_set' | 'pending_webhooks'>
> & { webhook_secret?: string };

export const getAlerts = () => apiFetch<AlertSettings>({ path: `${NS}/alerts` });
export const saveAlerts = (data: AlertSettingsInput) =>
  apiFetch<AlertSettings>({ path: `${NS}/alerts`, method: 'POST', data });

export interface WpCronState {
  disabled: boolean;
  bySidecar: boolean;
  next: Array<{ hook: string; due: string; schedule: string; lateSeconds: number }>;
  recent: Array<{ hook: string; due: string; ran: string; lateSeconds: number }>;
}

export const getWpCron = () => apiFetch<WpCronState>({ path: `${NS}/wp-cron` });
