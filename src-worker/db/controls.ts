// What PHP publishes for the claim (plugin/src/Policy/Pauses.php and Limits.php): paused groups and hooks, and the
// groups' limits, as JSON in two autoloaded options. One plain read; both absent on a site with nothing configured.
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool, Tables } from './database';

export const PAUSES_OPTION = 'sidecar_scheduler_pauses';
export const LIMITS_OPTION = 'sidecar_scheduler_limits';

export interface Pause {
  by: string;
  userId: number;
  atGmt: string;
}
export interface GroupLimits {
  concurrency?: number;
  rate?: { limit: number; per: 'second' | 'minute' };
  breaker?: { failures: number; rate: number; window: number; min_runs: number; cooldown: number };
}
export interface ControlsData {
  pausedGroups: Record<string, Pause>;
  pausedHooks: Record<string, Pause>;
  limits: Record<string, GroupLimits>;
}

function parse(raw: unknown): Record<string, any> {
  if (typeof raw !== 'string' || raw === '') return {};
  try {
    const v = JSON.parse(raw);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export async function readControls(pool: Pool, t: Tables): Promise<ControlsData> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT option_name, option_value FROM ${t.options} WHERE option_name IN (?, ?)`,
    [PAUSES_OPTION, LIMITS_OPTION],
  );
  const byName = new Map(rows.map((r) => [String(r.option_name), parse(String(r.option_value))]));
  const pauses = byName.get(PAUSES_OPTION) ?? {};
  return {
    pausedGroups: pauses.group ?? {},
    pausedHooks: pauses.hook ?? {},
    limits: byName.get(LIMITS_OPTION)?.groups ?? {},
  };
}

export interface BreakerRow {
  group: string;
  state: string;
  opens: number;
}

/** The breakers' states (PHP's table; only read while some group policy has a breaker, so the table exists). */
export async function readBreakers(pool: Pool, t: Tables): Promise<BreakerRow[]> {
  const table = t.actions.replace(/actionscheduler_actions$/, 'sidecar_breakers');
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT group_slug, state, opens FROM ${table}`);
  return rows.map((r) => ({ group: String(r.group_slug), state: String(r.state), opens: Number(r.opens) }));
}
