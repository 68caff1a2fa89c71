// Pure formatting helpers for the admin screen (unit-tested): durations, site-timezone dates, counts.
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

export function formatMs(ms: number): string {
  return formatDuration(ms / 1000);
}

/** "2025-01-01 12:00:00" (UTC, from MySQL) shown in the site's timezone as "YYYY-MM-DD HH:mm:ss". */
export function utcToSite(utc: string, timeZone: string): string {
  if (!utc || utc.startsWith('0000')) return '—';
  const date = new Date(utc.replace(' ', 'T') + 'Z');
  if (Number.isNaN(date.getTime())) return utc;
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone: timeZone || 'UTC',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(date);
    const g = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
    return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}:${g('second')}`;
  } catch {
    return `${utc} UTC`;
  }
}

/** "in 5 min" / "3 h ago" relative to now. */
export function relative(utc: string, nowMs: number = Date.now()): string {
  if (!utc || utc.startsWith('0000')) return '';
  const t = Date.parse(utc.replace(' ', 'T') + 'Z');
  if (Number.isNaN(t)) return '';
  const diff = (t - nowMs) / 1000;
  return diff >= 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}

export function formatArgs(args: unknown): string {
  if (args === null || args === undefined) return '';
  if (Array.isArray(args) && args.length === 0) return '[]';
  return JSON.stringify(args);
}
