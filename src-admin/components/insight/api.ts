// REST calls and types of the insight parts of the screen (failing hooks; batches and Site Health parts add theirs).
import apiFetch from '@wordpress/api-fetch';

const NS = '/sidecar-scheduler/v1';

export interface HookError { message: string; count: number; firstSeen: string; lastSeen: string }
export interface HookRow {
  hook: string; group: string; runs: number; failures: number; failureRate: number;
  runSeconds: { p50: number; p95: number }; lastRunAt: string | null; lastFailureAt: string | null; failedNow: number; errors: HookError[];
}
export interface HookWindow { window: 'hour' | 'day'; since: string; complete: boolean; hooks: HookRow[] }
export interface FailingHooksReport { generatedAt: string; hour: HookWindow; day: HookWindow }

export const getFailingHooks = () => apiFetch<FailingHooksReport>({ path: `${NS}/failing-hooks` });
