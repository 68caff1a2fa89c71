// Site-local wall time for the *_local columns, as WordPress's current_time('mysql') computes it.
import type { Pool } from './database';
import type { RowDataPacket } from 'mysql2/promise';

export const mysqlUtc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export class SiteTime {
  constructor(
    private timezone: string,
    private offsetHours: number,
  ) {}

  static async load(pool: Pool, optionsTable: string): Promise<SiteTime> {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT option_name, option_value FROM ${optionsTable} WHERE option_name IN ('timezone_string', 'gmt_offset')`,
    );
    const o = Object.fromEntries(rows.map((r) => [r.option_name, String(r.option_value)]));
    return new SiteTime(o.timezone_string ?? '', Number(o.gmt_offset ?? 0) || 0);
  }

  local(ms: number): string {
    if (this.timezone) {
      try {
        const parts = new Intl.DateTimeFormat('en-CA', {
          timeZone: this.timezone,
          hourCycle: 'h23',
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        }).formatToParts(new Date(ms));
        const g = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
        return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}:${g('second')}`;
      } catch {
        /* unknown zone: fall back to the offset, as WordPress does */
      }
    }
    return mysqlUtc(ms + this.offsetHours * 3600_000);
  }
}
