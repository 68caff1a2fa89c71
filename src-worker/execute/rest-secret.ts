// The rest channel's HMAC secret for one site: --secret / SIDECAR_SCHEDULER_SECRET when given, otherwise the site's
// option, created here when the site has none yet (network activation leaves subsites without one).
import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { contract } from '../contract';
import type { Pool } from '../db/database';
import type { SecretSource } from './rest-executor';

export class SiteSecret implements SecretSource {
  private current = '';

  constructor(private pool: Pool, private optionsTable: string, private fixed = '') {}

  value(): string { return this.fixed || this.current; }

  /**
   * Reads the option, creating it first if it is missing. INSERT IGNORE on the option's unique name, as the plugin
   * does (Signature::secret()): whoever inserts first wins and both sides then read the same value (WordPress'
   * add_option() would overwrite a concurrent one).
   */
  async reload(): Promise<string> {
    if (this.fixed) return this.fixed;
    const read = async () => {
      const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT option_value FROM ${this.optionsTable} WHERE option_name = ?`, [contract.options.SECRET]);
      return rows[0] ? String(rows[0].option_value) : '';
    };
    let secret = await read();
    if (!secret) {
      await this.pool.query(`INSERT IGNORE INTO ${this.optionsTable} (option_name, option_value, autoload) VALUES (?, ?, 'no')`, [contract.options.SECRET, randomBytes(32).toString('hex')]);
      secret = await read();
    }
    this.current = secret;
    return secret;
  }
}
