// The rest channel's HMAC secret for one site: --secret / SIDECAR_SCHEDULER_SECRET when given, otherwise the site's
// option, created here when the site has none yet (network activation leaves subsites without one).
import { randomBytes } from 'node:crypto';
import { contract } from '../contract';
import type { Pool } from '../db/database';
import { addOptionIfMissing, readOption } from '../db/options';
import type { SecretSource } from './rest-executor';

export class SiteSecret implements SecretSource {
  private current = '';

  constructor(
    private pool: Pool,
    private optionsTable: string,
    private fixed = '',
  ) {}

  value(): string {
    return this.fixed || this.current;
  }

  /**
   * Reads the option, creating it first if it is missing. INSERT IGNORE on the option's unique name, as the plugin
   * does (Signature::secret()): whoever inserts first wins and both sides then read the same value (WordPress'
   * add_option() would overwrite a concurrent one).
   */
  async reload(): Promise<string> {
    if (this.fixed) return this.fixed;
    const read = () => readOption(this.pool, this.optionsTable, contract.options.SECRET);
    let secret = await read();
    if (!secret) {
      await addOptionIfMissing(this.pool, this.optionsTable, contract.options.SECRET, randomBytes(32).toString('hex'));
      secret = await read();
    }
    this.current = secret;
    return secret;
  }
}
