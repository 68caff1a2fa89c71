// REST calls and types of the policy parts of the screen: policies, pauses, circuit breakers, dead letters.
import apiFetch from '@wordpress/api-fetch';
import { contract } from '../../contract';

const NS = `/${contract.restNamespace}`;

export interface PolicyRow {
  scope: 'hook' | 'group';
  name: string;
  source: 'code' | 'screen';
  active: boolean;
  overridesScreen: boolean;
  policy: Record<string, unknown>;
}
export interface PauseRow {
  scope: 'hook' | 'group';
  name: string;
  by: string;
  userId: number;
  atGmt: string;
}
export interface BreakerRow {
  group: string;
  state: 'closed' | 'open' | 'half-open';
  consecutive: number;
  openedGmt: string | null;
  untilGmt: string | null;
  trialGmt: string | null;
  opens: number;
  reason: string;
}
export interface DeadLetter {
  id: number;
  originId: number;
  hook: string;
  group: string;
  attempts: number;
  lastError: string;
  firstFailureGmt: string;
  lastFailureGmt: string;
  status: string;
}
export interface PolicyState {
  policies: PolicyRow[];
  errors: string[];
  pauses: PauseRow[];
  breakers: BreakerRow[];
  deadLetters: { total: number; items: DeadLetter[] };
}

/** Everything the card shows, in four small requests. */
export async function getPolicyState(): Promise<PolicyState> {
  const [p, pauses, breakers, deadLetters] = await Promise.all([
    apiFetch<{ policies: PolicyRow[]; errors: string[] }>({ path: `${NS}/policies` }),
    apiFetch<PauseRow[]>({ path: `${NS}/pauses` }),
    apiFetch<BreakerRow[]>({ path: `${NS}/breakers` }),
    apiFetch<{ total: number; items: DeadLetter[] }>({ path: `${NS}/dead-letters?per_page=20` }),
  ]);
  return { policies: p.policies, errors: p.errors, pauses, breakers, deadLetters };
}

export const resume = (scope: string, name: string) =>
  apiFetch({ path: `${NS}/pauses/${scope}/${encodeURIComponent(name)}`, method: 'DELETE' });

export const deadLetterOp = (op: 'retry' | 'discard', ids: number[] | null) =>
  apiFetch<{ done: number; matched: number }>({
    path: `${NS}/dead-letters/${op}`,
    method: 'POST',
    data: ids ? { ids } : { filter: {} },
  });

export const savePolicy = (scope: string, name: string, policy: unknown) =>
  apiFetch<{ overriddenByCode: boolean }>({
    path: `${NS}/policies/${scope}/${encodeURIComponent(name)}`,
    method: 'PUT',
    data: { policy },
  });

export const deletePolicy = (scope: string, name: string) =>
  apiFetch({ path: `${NS}/policies/${scope}/${encodeURIComponent(name)}`, method: 'DELETE' });

export const pause = (scope: string, name: string) =>
  apiFetch({ path: `${NS}/pauses`, method: 'POST', data: { scope, name } });
